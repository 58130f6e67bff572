//! gRPC statuses with machine-readable details.
//!
//! Every error a client can get goes through [`ApiError`], so each carries a human message and a
//! `google.rpc.ErrorInfo` (domain `newsanalysis.v1`, an UPPER_SNAKE_CASE reason, metadata such as
//! the limit that was exceeded). Invalid fields also carry a `google.rpc.BadRequest`.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::{article::ArticleError, store::StoreError};

/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "newsanalysis.v1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("article {0:?} not found")]
    ArticleNotFound(String),
    #[error("invalid article: {0}")]
    InvalidArticle(#[from] ArticleError),
    #[error("a batch holds 1 to {limit} articles; this one has {size}")]
    BatchSize { size: usize, limit: usize },
    #[error("the request names no article: set article_id or article")]
    MissingTarget,
    #[error("after_sequence {requested} is beyond the last sequence in the log, {last}")]
    SequenceAhead { requested: u64, last: u64 },
    #[error(
        "events after sequence {requested} are no longer retained; the oldest retained is {oldest}"
    )]
    SequenceCompacted { requested: u64, oldest: u64 },
    #[error("since is not a valid timestamp")]
    InvalidSince,
    #[error("heartbeat_interval must be between 100 ms and 1 hour")]
    InvalidHeartbeat,
    #[error("the subscriber fell too far behind; resume after sequence {resume_after}")]
    SubscriberTooSlow { resume_after: u64 },
    #[error("the server is shutting down; resume after sequence {resume_after}")]
    ShuttingDown { resume_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn code(&self) -> Code {
        match self {
            ApiError::ArticleNotFound(_) => Code::NotFound,
            ApiError::InvalidArticle(_)
            | ApiError::BatchSize { .. }
            | ApiError::MissingTarget
            | ApiError::InvalidSince
            | ApiError::InvalidHeartbeat => Code::InvalidArgument,
            ApiError::SequenceAhead { .. } | ApiError::SequenceCompacted { .. } => Code::OutOfRange,
            ApiError::SubscriberTooSlow { .. } => Code::ResourceExhausted,
            ApiError::ShuttingDown { .. } | ApiError::Store(StoreError::Backend(_)) => {
                Code::Unavailable
            }
            ApiError::Store(StoreError::Corrupt(_)) | ApiError::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::ArticleNotFound(_) => "ARTICLE_NOT_FOUND",
            ApiError::InvalidArticle(err) => err.reason(),
            ApiError::BatchSize { .. } => "BATCH_SIZE",
            ApiError::MissingTarget => "MISSING_TARGET",
            ApiError::SequenceAhead { .. } => "SEQUENCE_AHEAD",
            ApiError::SequenceCompacted { .. } => "SEQUENCE_COMPACTED",
            ApiError::InvalidSince => "INVALID_SINCE",
            ApiError::InvalidHeartbeat => "INVALID_HEARTBEAT",
            ApiError::SubscriberTooSlow { .. } => "SUBSCRIBER_TOO_SLOW",
            ApiError::ShuttingDown { .. } => "SHUTTING_DOWN",
            ApiError::Store(StoreError::Backend(_)) => "STORE_UNAVAILABLE",
            ApiError::Store(StoreError::Corrupt(_)) | ApiError::Internal(_) => "INTERNAL",
        }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            ApiError::ArticleNotFound(id) => vec![("article_id", id.clone())],
            ApiError::BatchSize { size, limit } => {
                vec![("size", size.to_string()), ("limit", limit.to_string())]
            }
            ApiError::SequenceAhead { requested, last } => vec![
                ("requested", requested.to_string()),
                ("last_sequence", last.to_string()),
            ],
            ApiError::SequenceCompacted { requested, oldest } => vec![
                ("requested", requested.to_string()),
                ("oldest_sequence", oldest.to_string()),
            ],
            ApiError::SubscriberTooSlow { resume_after }
            | ApiError::ShuttingDown { resume_after } => {
                vec![("resume_after_sequence", resume_after.to_string())]
            }
            ApiError::InvalidArticle(ArticleError::BodyTooLarge { size, limit })
            | ApiError::InvalidArticle(ArticleError::FieldTooLarge { size, limit, .. }) => {
                vec![("size", size.to_string()), ("limit", limit.to_string())]
            }
            _ => Vec::new(),
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Status {
        let mut details = ErrorDetails::with_error_info(err.reason(), ERROR_DOMAIN, err.metadata());
        if let ApiError::InvalidArticle(article_err) = &err {
            details.add_bad_request_violation(
                format!("article.{}", article_err.field()),
                article_err.to_string(),
            );
        }
        Status::with_error_details(err.code(), err.to_string(), details)
    }
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Status {
        ApiError::from(err).into()
    }
}
