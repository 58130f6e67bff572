//! The generated `newsanalysis.v1` types, client and server (`build.rs` writes them from
//! `proto/newsanalysis/v1/`), with their proto3 JSON mapping.

pub mod v1 {
    #![allow(clippy::all, missing_docs)]

    tonic::include_proto!("newsanalysis.v1");
    include!(concat!(env!("OUT_DIR"), "/newsanalysis.v1.serde.rs"));

    mod analyze_response;
    pub use analyze_response::AnalyzeResponse;
}

/// Encoded descriptors of the proto files (and their imports), served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/newsanalysis_descriptor.bin"));
