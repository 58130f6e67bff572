//! Articles as validated domain values.
//!
//! A client's `Article` is checked once, here, and becomes a [`ValidArticle`]: an id that is safe
//! to store and log, a body within limits, a content hash that makes re-ingest idempotent. Every
//! later stage trusts it. The same rules serve Ingest, inline Analyze and the CLI.

use std::{fmt, path::Path};

use sha2::{Digest, Sha256};

use crate::{engine, proto::v1::Article};

/// Longest article id accepted, in characters.
pub const MAX_ID_CHARS: usize = 256;
const MAX_TITLE_BYTES: usize = 4 * 1024;
const MAX_URL_BYTES: usize = 4 * 1024;
const MAX_AUTHORS: usize = 100;
const MAX_METADATA_ENTRIES: usize = 100;
const MAX_METADATA_KEY_BYTES: usize = 256;
const MAX_METADATA_VALUE_BYTES: usize = 4 * 1024;

/// Limits that operators may change (`newsanalysis serve --max-body-bytes`).
#[derive(Debug, Clone, Copy)]
pub struct ArticleLimits {
    pub max_body_bytes: usize,
}

impl Default for ArticleLimits {
    fn default() -> Self {
        ArticleLimits {
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Why an article was refused. `reason()` is the machine-readable code clients see in
/// `IngestResult.error_reason` and in `ErrorInfo.reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    #[error("article body is empty")]
    EmptyBody,
    #[error("article body is {size} bytes, more than the limit of {limit}")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("article id is invalid: {0}")]
    InvalidId(String),
    #[error("article {field} is {size} bytes, more than the limit of {limit}")]
    FieldTooLarge {
        field: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("article language {0:?} is not supported (only English, \"en\", is analysed)")]
    UnsupportedLanguage(String),
    #[error("article published_at is not a valid timestamp")]
    InvalidTimestamp,
}

impl ArticleError {
    pub fn reason(&self) -> &'static str {
        match self {
            ArticleError::EmptyBody => "EMPTY_BODY",
            ArticleError::BodyTooLarge { .. } => "BODY_TOO_LARGE",
            ArticleError::InvalidId(_) => "INVALID_ID",
            ArticleError::FieldTooLarge { .. } => "FIELD_TOO_LARGE",
            ArticleError::UnsupportedLanguage(_) => "UNSUPPORTED_LANGUAGE",
            ArticleError::InvalidTimestamp => "INVALID_TIMESTAMP",
        }
    }

    /// The request field at fault, for `google.rpc.BadRequest`.
    pub fn field(&self) -> &'static str {
        match self {
            ArticleError::EmptyBody | ArticleError::BodyTooLarge { .. } => "body",
            ArticleError::InvalidId(_) => "id",
            ArticleError::FieldTooLarge { field, .. } => field,
            ArticleError::UnsupportedLanguage(_) => "language",
            ArticleError::InvalidTimestamp => "published_at",
        }
    }
}

/// An article id: 1..=256 characters, no control characters, no surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArticleId(String);

impl ArticleId {
    pub fn parse(id: &str) -> Result<ArticleId, ArticleError> {
        let invalid = |why: &str| Err(ArticleError::InvalidId(why.to_string()));
        if id.is_empty() {
            return invalid("empty");
        }
        if id.chars().count() > MAX_ID_CHARS {
            return invalid("longer than 256 characters");
        }
        if id.chars().any(char::is_control) {
            return invalid("contains control characters");
        }
        if id.trim() != id {
            return invalid("has leading or trailing whitespace");
        }
        Ok(ArticleId(id.to_string()))
    }

    /// The id of an article sent without one: stable for the same title and body, so a client
    /// that retries gets the same id and an UNCHANGED result.
    pub fn derived(title: &str, body: &str) -> ArticleId {
        let mut hasher = Sha256::new();
        hasher.update(title.as_bytes());
        hasher.update([0u8]);
        hasher.update(body.as_bytes());
        ArticleId(hex(&hasher.finalize()[..8]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An article that passed validation, with its id filled in.
#[derive(Debug, Clone)]
pub struct ValidArticle {
    pub id: ArticleId,
    /// The client's article with `id` set to [`ValidArticle::id`].
    pub article: Article,
    /// SHA-256 of every field: equal hashes mean a re-ingest changes nothing.
    pub content_hash: [u8; 32],
}

impl ValidArticle {
    pub fn parse(
        mut article: Article,
        limits: &ArticleLimits,
    ) -> Result<ValidArticle, ArticleError> {
        if article.body.trim().is_empty() {
            return Err(ArticleError::EmptyBody);
        }
        if article.body.len() > limits.max_body_bytes {
            return Err(ArticleError::BodyTooLarge {
                size: article.body.len(),
                limit: limits.max_body_bytes,
            });
        }
        check_size("title", article.title.len(), MAX_TITLE_BYTES)?;
        check_size("url", article.url.len(), MAX_URL_BYTES)?;
        check_size("source", article.source.len(), MAX_TITLE_BYTES)?;
        check_size("authors", article.authors.len(), MAX_AUTHORS)?;
        check_size("metadata", article.metadata.len(), MAX_METADATA_ENTRIES)?;
        for (key, value) in &article.metadata {
            check_size("metadata", key.len(), MAX_METADATA_KEY_BYTES)?;
            check_size("metadata", value.len(), MAX_METADATA_VALUE_BYTES)?;
        }
        if !is_supported_language(&article.language) {
            return Err(ArticleError::UnsupportedLanguage(article.language.clone()));
        }
        if let Some(published) = &article.published_at {
            if published_date(published).is_none() {
                return Err(ArticleError::InvalidTimestamp);
            }
        }
        let id = if article.id.is_empty() {
            ArticleId::derived(&article.title, &article.body)
        } else {
            ArticleId::parse(&article.id)?
        };
        article.id = id.as_str().to_string();
        let content_hash = Sha256::digest(prost::Message::encode_to_vec(&article)).into();
        Ok(ValidArticle {
            id,
            article,
            content_hash,
        })
    }

    /// The engine's view of the article.
    pub fn document(&self) -> engine::Document<'_> {
        engine::Document {
            title: &self.article.title,
            body: &self.article.body,
            published: self.article.published_at.as_ref().and_then(published_date),
        }
    }
}

fn check_size(field: &'static str, size: usize, limit: usize) -> Result<(), ArticleError> {
    if size > limit {
        return Err(ArticleError::FieldTooLarge { field, size, limit });
    }
    Ok(())
}

fn is_supported_language(tag: &str) -> bool {
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    tag.is_empty() || primary.eq_ignore_ascii_case("en")
}

/// The UTC calendar date of a timestamp, if it is a valid one (years 1..=9999, as the proto
/// Timestamp spec allows).
fn published_date(ts: &pbjson_types::Timestamp) -> Option<engine::Date> {
    use chrono::Datelike;
    let nanos = u32::try_from(ts.nanos).ok()?;
    let when = chrono::DateTime::from_timestamp(ts.seconds, nanos)?;
    if !(1..=9999).contains(&when.year()) {
        return None;
    }
    Some(engine::Date {
        year: when.year(),
        month: when.month(),
        day: when.day(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why an article file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArticleFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an Article in the proto3 JSON mapping: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

/// Reads an article file as the CLI and `--seed-dir` do: a `.json` file is an `Article` in the
/// proto3 JSON mapping; any other file is plain text whose first non-empty line is the title and
/// the rest the body. An article without an id takes the file stem, so outputs can be matched to
/// their inputs (and to `NAME.gold.json` files).
pub fn read_article_file(path: &Path) -> Result<Article, ArticleFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ArticleFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut article = if path.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str::<Article>(&text).map_err(|source| ArticleFileError::Json {
            path: path.display().to_string(),
            source,
        })?
    } else {
        article_from_text(&text)
    };
    if article.id.is_empty() {
        if let Some(stem) = path.file_stem() {
            article.id = stem.to_string_lossy().into_owned();
        }
    }
    Ok(article)
}

/// Splits plain text into title (first non-empty line) and body (the rest). A text of one line
/// is all body: analysing it beats rejecting it for an empty body.
pub fn article_from_text(text: &str) -> Article {
    let trimmed = text.trim_start_matches(['\n', '\r']);
    let (title, body) = match trimmed.split_once('\n') {
        Some((title, body)) if !body.trim().is_empty() => (title.trim(), body),
        _ => ("", trimmed),
    };
    Article {
        title: title.to_string(),
        body: body.to_string(),
        ..Article::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str, body: &str) -> Article {
        Article {
            id: id.to_string(),
            body: body.to_string(),
            ..Article::default()
        }
    }

    #[test]
    fn blank_body_is_rejected() {
        let err =
            ValidArticle::parse(article("a", " \n\t"), &ArticleLimits::default()).unwrap_err();
        assert_eq!(err.reason(), "EMPTY_BODY");
    }

    #[test]
    fn oversized_body_is_rejected_with_its_size() {
        let limits = ArticleLimits { max_body_bytes: 10 };
        let err = ValidArticle::parse(article("a", "0123456789ab"), &limits).unwrap_err();
        assert_eq!(
            err,
            ArticleError::BodyTooLarge {
                size: 12,
                limit: 10
            }
        );
    }

    #[test]
    fn ids_with_control_characters_or_padding_are_rejected() {
        assert!(ArticleId::parse("a\u{0}b").is_err());
        assert!(ArticleId::parse(" a").is_err());
        assert!(ArticleId::parse(&"x".repeat(257)).is_err());
        assert!(ArticleId::parse("reuters/2025-03-11/ukraine").is_ok());
    }

    #[test]
    fn derived_id_is_stable_and_content_sensitive() {
        let a =
            ValidArticle::parse(article("", "Kyiv agreed."), &ArticleLimits::default()).unwrap();
        let b =
            ValidArticle::parse(article("", "Kyiv agreed."), &ArticleLimits::default()).unwrap();
        let c =
            ValidArticle::parse(article("", "Kyiv refused."), &ArticleLimits::default()).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.content_hash, b.content_hash);
        assert_ne!(a.id, c.id);
        assert_eq!(a.id.as_str().len(), 16);
    }

    #[test]
    fn non_english_is_refused_but_english_variants_pass() {
        let mut fr = article("a", "Bonjour");
        fr.language = "fr".into();
        assert_eq!(
            ValidArticle::parse(fr, &ArticleLimits::default())
                .unwrap_err()
                .reason(),
            "UNSUPPORTED_LANGUAGE"
        );
        let mut gb = article("a", "Hello");
        gb.language = "en-GB".into();
        assert!(ValidArticle::parse(gb, &ArticleLimits::default()).is_ok());
    }

    #[test]
    fn publication_date_reaches_the_engine() {
        let mut a = article("a", "Text");
        a.published_at = Some(pbjson_types::Timestamp {
            seconds: 1_741_651_200, // 2025-03-11T00:00:00Z
            nanos: 0,
        });
        let valid = ValidArticle::parse(a, &ArticleLimits::default()).unwrap();
        assert_eq!(
            valid.document().published,
            Some(engine::Date {
                year: 2025,
                month: 3,
                day: 11
            })
        );
    }

    #[test]
    fn text_files_split_into_title_and_body() {
        let a = article_from_text("\nHeadline here\nFirst line.\nSecond line.\n");
        assert_eq!(a.title, "Headline here");
        assert_eq!(a.body, "First line.\nSecond line.\n");
        let one_line = article_from_text("Kyiv agreed to a ceasefire.\n");
        assert_eq!(one_line.title, "");
        assert_eq!(one_line.body, "Kyiv agreed to a ceasefire.\n");
    }
}
