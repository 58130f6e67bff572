#!/usr/bin/env python3
"""A pipeline-style StreamEvents consumer: it checkpoints its cursor to a file and resumes from it.

    python3 examples/python/consumer.py --addr 127.0.0.1:50051 --checkpoint cursor.txt --out events.jsonl

Each event is appended to --out (one JSON line: sequence, article, CAMEO code, actors) and only
then is its sequence written to --checkpoint, so a crash between the two replays at most the
event being written, never skips one. Heartbeats and the caught-up marker advance the
checkpoint too (their sequence is a safe resume point), so a filtered, quiet stream does not
replay old events after a restart. On start it resumes with `after_sequence` from the
checkpoint (or from the beginning of the log); on UNAVAILABLE or RESOURCE_EXHAUSTED it
reconnects from its checkpoint; OUT_OF_RANGE (events no longer retained) stops it loudly.

--stop-after N exits after N new events (for tests); --root-codes 19,18 filters server-side.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client import generate_stubs  # noqa: E402  (same generated stubs as the client example)


def read_checkpoint(path):
    try:
        return int(Path(path).read_text().strip() or 0)
    except FileNotFoundError:
        return None


def write_checkpoint(path, sequence):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(str(sequence))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: the checkpoint is always a whole number


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-after", type=int, default=0)
    parser.add_argument("--root-codes", default="")
    parser.add_argument("--heartbeat-seconds", type=float, default=5.0)
    args = parser.parse_args()

    generate_stubs()
    import grpc
    from google.protobuf import duration_pb2
    from newsanalysis.v1 import article_analysis_service_pb2 as svc, \
        article_analysis_service_pb2_grpc as svc_grpc

    handled = 0
    while True:
        cursor = read_checkpoint(args.checkpoint)
        request = svc.StreamEventsRequest(
            heartbeat_interval=duration_pb2.Duration(seconds=int(args.heartbeat_seconds),
                                                     nanos=int(args.heartbeat_seconds % 1 * 1e9)),
            filter=svc.EventFilter(root_codes=[c for c in args.root_codes.split(",") if c]),
        )
        if cursor is None:
            request.position = svc.START_POSITION_EARLIEST
        else:
            request.after_sequence = cursor
        print(f"connecting to {args.addr} after sequence {cursor}", file=sys.stderr)
        try:
            with grpc.insecure_channel(args.addr) as channel:
                stub = svc_grpc.ArticleAnalysisServiceStub(channel)
                for message in stub.StreamEvents(request):
                    kind = message.WhichOneof("payload")
                    if kind == "event":
                        e = message.event
                        with open(args.out, "a") as out:
                            out.write(json.dumps({
                                "sequence": message.sequence, "article_id": message.article_id,
                                "code": e.code, "source": e.source.code, "target": e.target.code,
                                "trigger": e.trigger}) + "\n")
                        handled += 1
                    write_checkpoint(args.checkpoint, message.sequence)
                    if args.stop_after and handled >= args.stop_after:
                        print(f"stopping after {handled} events at sequence {message.sequence}",
                              file=sys.stderr)
                        return
        except grpc.RpcError as err:
            code = err.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                print(f"stream ended ({code.name}: {err.details()}); resuming", file=sys.stderr)
                time.sleep(0.5)
                continue
            sys.exit(f"stream failed: {code.name}: {err.details()}")


if __name__ == "__main__":
    main()
