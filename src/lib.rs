//! newsanalysis: a gRPC service that reads news articles and turns them into structured,
//! streamable facts — entities, quotes with their speakers, and CAMEO-coded events.
//!
//! The crate is laid out along the one way data flows through it:
//!
//! - [`article`]: the article as a validated domain value ([`article::ValidArticle`]): ids, limits
//!   and content hashes are checked once, at the edge, and trusted afterwards.
//! - [`engine`]: text in, [`engine::Analysis`] out. Pure and synchronous, with no gRPC or proto
//!   types inside, so the CLI, the benchmarks and the server share it unchanged.
//! - [`store`]: stored articles with their analyses, and the append-only event log that
//!   `StreamEvents` replays and follows.
//! - [`convert`]: engine types to proto types, including offsets in UTF-8, UTF-16 or code points;
//!   the only place the two meet.
//! - [`server`]: the tonic service. Validates requests, runs the engine off the async runtime,
//!   maps errors to gRPC statuses with `google.rpc.ErrorInfo`.
//! - [`startup`]: builds the whole application (store, engine, listener, reflection, health) so
//!   that `main` and the tests start it the same way, the tests on port 0.
//! - [`proto`]: the generated `newsanalysis.v1` types, client and server.

pub mod analysis;
pub mod article;
pub mod convert;
pub mod engine;
pub mod eval;
pub mod server;
pub mod startup;
pub mod store;

pub mod proto;
