//! The in-memory store: the default, for development and for deployments that can rebuild their
//! state by re-ingesting. The event log keeps the newest entries within a count and a byte budget
//! ([`Retention`]); older ones are dropped and a client asking for them gets OUT_OF_RANGE.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::SystemTime,
};

use tokio::sync::watch;

use super::{AnalyzedArticle, LogBounds, LogEntry, PutResult, Store, StoreError, StoredArticle};
use crate::article::{ArticleId, ValidArticle};

/// How much of the event log the memory store keeps.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub max_events: usize,
    pub max_bytes: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_events: 1_000_000,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Default)]
struct Inner {
    articles: HashMap<ArticleId, Arc<StoredArticle>>,
    /// Consecutive entries; `log[i]` has sequence `oldest + i`.
    log: VecDeque<Arc<LogEntry>>,
    /// Sequence of `log[0]` (or of the next entry when the log is empty).
    oldest: u64,
    log_bytes: usize,
    compacted_at: Option<SystemTime>,
}

impl Inner {
    fn last(&self) -> u64 {
        self.oldest + self.log.len() as u64 - 1
    }
}

pub struct MemoryStore {
    inner: RwLock<Inner>,
    retention: Retention,
    last_sequence: watch::Sender<u64>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(Retention::default())
    }
}

impl MemoryStore {
    pub fn new(retention: Retention) -> MemoryStore {
        MemoryStore {
            inner: RwLock::new(Inner {
                oldest: 1,
                ..Inner::default()
            }),
            retention,
            last_sequence: watch::Sender::new(0),
        }
    }

    // Every mutation below is a push, a pop or an insert, so a panic elsewhere while the lock
    // was held cannot leave `Inner` in a state readers would misread: a poisoned lock is usable.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[tonic::async_trait]
impl Store for MemoryStore {
    async fn get(&self, id: &ArticleId) -> Result<Option<Arc<StoredArticle>>, StoreError> {
        Ok(self.read().articles.get(id).cloned())
    }

    async fn put(&self, analyzed: AnalyzedArticle) -> Result<PutResult, StoreError> {
        let mut inner = self.write();
        let id = analyzed.article.id.clone();
        let previous = inner
            .articles
            .get(&id)
            .map(|p| (p.revision, p.content_hash));
        if let Some((revision, hash)) = previous {
            if hash == analyzed.article.content_hash {
                return Ok(PutResult::unchanged(revision));
            }
        }
        let revision = previous.map_or(1, |(revision, _)| revision + 1);
        let appended_at = SystemTime::now();
        let events_appended = analyzed.events.len();
        for event in analyzed.events {
            let entry = LogEntry {
                sequence: inner.oldest + inner.log.len() as u64,
                article_id: id.as_str().to_string(),
                article_revision: revision,
                appended_at,
                event,
            };
            inner.log_bytes += entry.size();
            inner.log.push_back(Arc::new(entry));
        }
        while inner.log.len() > self.retention.max_events
            || (inner.log_bytes > self.retention.max_bytes && inner.log.len() > 1)
        {
            if let Some(evicted) = inner.log.pop_front() {
                inner.log_bytes -= evicted.size();
                inner.oldest += 1;
                inner.compacted_at = Some(evicted.appended_at);
            }
        }
        let last = inner.last();
        let ValidArticle {
            article,
            content_hash,
            ..
        } = analyzed.article;
        let stored = StoredArticle::new(article, content_hash, revision, analyzed.analysis);
        inner.articles.insert(id, Arc::new(stored));
        drop(inner);
        self.last_sequence.send_replace(last);
        Ok(PutResult::written(revision, events_appended))
    }

    async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<LogEntry>>, StoreError> {
        let inner = self.read();
        let skip = after.saturating_sub(inner.oldest - 1);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        Ok(inner.log.iter().skip(skip).take(limit).cloned().collect())
    }

    async fn sequence_before(&self, since: SystemTime) -> Result<u64, StoreError> {
        let inner = self.read();
        let retained_before = inner.log.partition_point(|entry| entry.appended_at < since);
        Ok(inner.oldest - 1 + retained_before as u64)
    }

    fn bounds(&self) -> LogBounds {
        let inner = self.read();
        LogBounds {
            oldest: inner.oldest,
            last: inner.last(),
            compacted_at: inner.compacted_at,
        }
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.last_sequence.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        article::{ArticleLimits, ValidArticle},
        proto::v1 as pb,
    };

    fn analyzed(id: &str, body: &str, events: usize) -> AnalyzedArticle {
        let article = pb::Article {
            id: id.into(),
            body: body.into(),
            ..Default::default()
        };
        AnalyzedArticle {
            article: ValidArticle::parse(article, &ArticleLimits::default()).unwrap(),
            analysis: pb::Analysis::default(),
            events: (0..events)
                .map(|i| pb::Event {
                    id: format!("v{i}"),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn retention_drops_the_oldest_entries_and_keeps_sequences() {
        let store = MemoryStore::new(Retention {
            max_events: 5,
            max_bytes: usize::MAX,
        });
        store.put(analyzed("a", "one", 3)).await.unwrap();
        store.put(analyzed("b", "two", 4)).await.unwrap();
        assert_eq!((store.bounds().oldest, store.bounds().last), (3, 7));
        assert!(store.bounds().compacted_at.is_some());
        let all = store.read_after(0, 100).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [3, 4, 5, 6, 7]
        );
        let tail = store.read_after(5, 100).await.unwrap();
        assert_eq!(tail.iter().map(|e| e.sequence).collect::<Vec<_>>(), [6, 7]);
        assert!(store.read_after(7, 100).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn byte_retention_keeps_at_least_the_newest_entry() {
        let store = MemoryStore::new(Retention {
            max_events: usize::MAX,
            max_bytes: 1,
        });
        store.put(analyzed("a", "one", 3)).await.unwrap();
        assert_eq!((store.bounds().oldest, store.bounds().last), (3, 3));
    }

    #[tokio::test]
    async fn an_empty_log_has_empty_bounds() {
        let store = MemoryStore::default();
        let empty = LogBounds {
            oldest: 1,
            last: 0,
            compacted_at: None,
        };
        assert_eq!(store.bounds(), empty);
        store.put(analyzed("a", "one", 0)).await.unwrap();
        assert_eq!(store.bounds(), empty);
    }
}
