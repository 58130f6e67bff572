#!/usr/bin/env python3
"""A newsanalysis client in Python: ingest article files, then stream the events they produced.

The stubs are generated from ../../proto with grpcio-tools at start-up (into ./gen), so the
example always matches the contract. Usage:

    pip install -r examples/python/requirements.txt
    python3 examples/python/client.py --addr 127.0.0.1:50051 seeds/*.txt

It ingests the files in one batch, prints each result, then streams the event log from the
beginning and prints one line per event, stopping once it has seen every event it ingested (or
after --timeout seconds). A stream consumer would store `sequence` and reconnect with
`after_sequence` to resume exactly where it stopped. Exits non-zero if anything is off.
"""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
GEN = HERE / "gen"


def generate_stubs():
    from grpc_tools import protoc
    import grpc_tools

    GEN.mkdir(exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{well_known}", f"--python_out={GEN}",
                        f"--grpc_python_out={GEN}", *protos])
    if code != 0:
        sys.exit(f"protoc failed with {code}")
    sys.path.insert(0, str(GEN))


def read_article(pb, path):
    """Plain text: first non-empty line is the title, the rest the body (the seed format)."""
    text = Path(path).read_text(encoding="utf-8").lstrip("\r\n")
    title, _, body = text.partition("\n")
    if not body.strip():  # one line: all body, as the server's own reader does
        title, body = "", text
    return pb.Article(id=Path(path).stem, title=title.strip(), body=body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    generate_stubs()
    import grpc
    from newsanalysis.v1 import article_pb2, article_analysis_service_pb2 as svc, \
        article_analysis_service_pb2_grpc as svc_grpc

    with grpc.insecure_channel(args.addr) as channel:
        stub = svc_grpc.ArticleAnalysisServiceStub(channel)
        articles = [read_article(article_pb2, f) for f in args.files]
        reply = stub.Ingest(svc.IngestRequest(articles=articles), timeout=args.timeout)
        expected, fresh = 0, set()
        for result in reply.results:
            status = svc.IngestStatus.Name(result.status)
            print(f"ingest {result.article_id}: {status} revision={result.revision} "
                  f"events={result.event_count} {result.reason}")
            if status == "INGEST_STATUS_REJECTED":
                sys.exit(f"article {result.article_id} rejected: {result.reason}")
            expected += result.event_count
            if result.event_count:
                fresh.add(result.article_id)

        analysis = stub.Analyze(svc.AnalyzeRequest(article_id=reply.results[0].article_id)).analysis
        people = sorted(e.name for e in analysis.entities if e.type == 1)  # ENTITY_TYPE_PERSON
        print(f"people in {analysis.article_id}: {', '.join(people)}")
        for quote in analysis.quotes:
            print(f"  quote by {quote.speaker.name or '?'}: {quote.text[:60]}")

        if expected == 0:
            print("ok: nothing new was ingested, so there is nothing new to stream")
            return
        request = svc.StreamEventsRequest(position=svc.START_POSITION_EARLIEST)
        # Replays the whole log; stops once every event this run appended has come by.
        seen, last = 0, 0
        stream = stub.StreamEvents(request, timeout=args.timeout)
        try:
            for message in stream:
                if message.WhichOneof("payload") != "event":
                    continue  # heartbeats and the caught-up marker only advance the cursor
                if message.sequence <= last:
                    sys.exit(f"sequence went backwards: {message.sequence} after {last}")
                last = message.sequence
                e = message.event
                print(f"#{message.sequence} {message.article_id} {e.code} "
                      f"{e.source.code or '?'} -> {e.target.code or '?'}: {e.trigger}")
                seen += message.article_id in fresh
                if seen >= expected:
                    break
        finally:
            stream.cancel()
        if seen < expected:
            sys.exit(f"streamed {seen} events, expected at least {expected}")
        print(f"ok: {len(articles)} articles, {seen} events streamed, last sequence {last}")


if __name__ == "__main__":
    main()
