//! Generates the Rust types for `proto/` without a system `protoc`: `protox` parses the .proto
//! files in pure Rust, `tonic-prost-build` writes the messages and the service, `pbjson-build`
//! writes their proto3 JSON mapping (what the CLI prints and grpcurl shows), and the encoded
//! descriptor set is kept for server reflection.

use std::{env, error::Error, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "proto/newsanalysis/v1/article.proto",
    "proto/newsanalysis/v1/analysis.proto",
    "proto/newsanalysis/v1/article_analysis_service.proto",
];

const ANALYZE_RESPONSE: &str = ".newsanalysis.v1.AnalyzeResponse";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let descriptor_bytes = descriptors.encode_to_vec();
    fs::write(
        out_dir.join("newsanalysis_descriptor.bin"),
        &descriptor_bytes,
    )?;

    // Well-known types come from pbjson-types so that Timestamp and Duration serialise as RFC 3339
    // strings in JSON, as the proto3 JSON mapping requires. Maps are BTreeMaps so that encoding is
    // deterministic (content hashes of articles depend on it).
    tonic_prost_build::configure()
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        // Hand-written (src/proto/v1/analyze_response.rs) so cached analyses go out pre-encoded.
        .extern_path(ANALYZE_RESPONSE, "crate::proto::v1::AnalyzeResponse")
        .btree_map(".")
        .emit_rerun_if_changed(false)
        .compile_fds(descriptors)?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .extern_path(".google.protobuf", "::pbjson_types")
        .exclude([ANALYZE_RESPONSE])
        .btree_map(["."])
        .build(&[".newsanalysis"])?;
    Ok(())
}
