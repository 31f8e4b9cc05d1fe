//! The in-process backend (`memory://`, the default).
//!
//! One mutex over one map: every operation is a few map steps, so holding
//! the lock is cheap and makes each operation (`incr` above all) atomic.
//! Expiry is checked on every read; expired entries are also swept from
//! time to time during writes, so keys that nobody reads again do not pile
//! up. The sweep runs after a number of writes proportional to the map's
//! size, which keeps its cost constant per write on average and bounds the
//! dead entries to a fraction of the live ones, with no background task (so
//! [`State::memory`](crate::State::memory) works outside a runtime).
//!
//! The map holds at most `STATE_MEMORY_MAX_KEYS` keys (100,000 unless set):
//! a flood of distinct keys (a login throttle counter per made-up e-mail)
//! cannot grow the process without bound. A new key at the limit first
//! evicts one: among a few entries taken in the map's (hash) order, the
//! one that expires soonest, so what goes is close to random and prefers
//! what would expire anyway; keys without a TTL go last. This is Redis's
//! `maxmemory-policy volatile-ttl` with its sampling, in a few lines, and
//! has Redis's caveat: past the limit, an attacker who makes enough keys
//! can push out a counter before its window ends. Each eviction is counted
//! and logged (the first, then every 10,000th).
//!
//! Time is tokio's clock: a test with `#[tokio::test(start_paused = true)]`
//! can jump past a TTL with `tokio::time::advance` instead of sleeping.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use futures::future::{BoxFuture, ready};
use microcore::{Error, Result};
use tokio::time::Instant;

use crate::StateDriver;

/// Writes between two sweeps never fall below this, so small maps are not
/// swept on every write.
const MIN_WRITES_PER_SWEEP: usize = 64;

/// Keys kept when `STATE_MEMORY_MAX_KEYS` is not set.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Entries looked at to choose the one a new key at the limit evicts.
const EVICTION_SAMPLE: usize = 8;

/// The `memory://` driver.
#[derive(Debug)]
pub(crate) struct MemoryDriver {
    inner: Mutex<Inner>,
    max_keys: usize,
}

impl Default for MemoryDriver {
    fn default() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    writes_since_sweep: usize,
    evicted: u64,
}

#[derive(Debug)]
struct Entry {
    value: String,
    expires_at: Option<Instant>,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

impl Inner {
    /// The live entry at `key`; an expired one is removed on the way.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.entries.get(key).is_some_and(|e| !e.is_live(now)) {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }

    /// Makes room for one new key when the map is at `max_keys`: evicts the
    /// entry of a small sample that expires soonest (see the module docs).
    fn make_room(&mut self, max_keys: usize) {
        if self.entries.len() < max_keys {
            return;
        }
        let victim = self
            .entries
            .iter()
            .take(EVICTION_SAMPLE)
            .min_by_key(|(_, e)| (e.expires_at.is_none(), e.expires_at))
            .map(|(key, _)| key.clone());
        if let Some(key) = victim {
            self.entries.remove(&key);
            self.evicted += 1;
            if self.evicted % 10_000 == 1 {
                tracing::warn!(
                    evicted = self.evicted,
                    "the memory state holds STATE_MEMORY_MAX_KEYS={max_keys} keys: evicting the soonest to expire to make room"
                );
            }
        }
    }

    /// Counts a write and sweeps expired entries when enough writes passed.
    fn wrote(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= (self.entries.len() / 2).max(MIN_WRITES_PER_SWEEP) {
            self.entries.retain(|_, e| e.is_live(now));
            self.writes_since_sweep = 0;
        }
    }
}

/// When a TTL starting now ends; `None` (never) for a TTL too long to represent.
fn deadline(now: Instant, ttl: Option<Duration>) -> Option<Instant> {
    ttl.and_then(|ttl| now.checked_add(ttl))
}

impl MemoryDriver {
    /// A driver keeping at most `max_keys` keys (at least 1).
    pub(crate) fn with_max_keys(max_keys: usize) -> Self {
        Self {
            inner: Mutex::default(),
            max_keys: max_keys.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock, and the map stays
        // consistent at every step anyway: a poisoned lock is still usable.
        microcore::sync::lock(&self.inner)
    }

    fn incr_now(&self, key: &str, by: i64, ttl_on_create: Option<Duration>) -> Result<i64> {
        let now = Instant::now();
        let mut inner = self.lock();
        let value = match inner.live(key, now) {
            Some(entry) => {
                let current: i64 = entry.value.parse().map_err(|_| {
                    Error::internal(format!("state key '{key}' does not hold an integer"))
                })?;
                let next = current.checked_add(by).ok_or_else(|| {
                    Error::internal(format!("state key '{key}': increment would overflow"))
                })?;
                entry.value = next.to_string();
                next
            }
            None => {
                let entry = Entry {
                    value: by.to_string(),
                    expires_at: deadline(now, ttl_on_create),
                };
                inner.make_room(self.max_keys);
                inner.entries.insert(key.to_string(), entry);
                by
            }
        };
        inner.wrote(now);
        Ok(value)
    }

    /// How many entries the map holds, expired ones included (tests).
    #[cfg(test)]
    fn stored(&self) -> usize {
        self.lock().entries.len()
    }
}

impl StateDriver for MemoryDriver {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        let now = Instant::now();
        let value = self.lock().live(key, now).map(|e| e.value.clone());
        Box::pin(ready(Ok(value)))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>> {
        let now = Instant::now();
        let mut inner = self.lock();
        let entry = Entry {
            value,
            expires_at: deadline(now, ttl),
        };
        if inner.live(key, now).is_none() {
            inner.make_room(self.max_keys);
        }
        inner.entries.insert(key.to_string(), entry);
        inner.wrote(now);
        Box::pin(ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        let now = Instant::now();
        let mut inner = self.lock();
        let existed = inner.live(key, now).is_some();
        inner.entries.remove(key);
        Box::pin(ready(Ok(existed)))
    }

    fn incr<'a>(
        &'a self,
        key: &'a str,
        by: i64,
        ttl_on_create: Option<Duration>,
    ) -> BoxFuture<'a, Result<i64>> {
        Box::pin(ready(self.incr_now(key, by, ttl_on_create)))
    }

    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>>> {
        let now = Instant::now();
        let left = self
            .lock()
            .live(key, now)
            .and_then(|e| e.expires_at)
            .map(|at| at.saturating_duration_since(now));
        Box::pin(ready(Ok(left)))
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_swept_by_later_writes() {
        let driver = MemoryDriver::default();
        for i in 0..1000 {
            driver
                .set(&format!("old{i}"), "x".into(), Some(Duration::from_secs(1)))
                .await
                .unwrap();
        }
        assert_eq!(driver.stored(), 1000);
        tokio::time::advance(Duration::from_secs(2)).await;
        // Nobody reads the old keys again; writes to other keys clear them.
        for i in 0..600 {
            driver
                .set(&format!("new{i}"), "y".into(), None)
                .await
                .unwrap();
        }
        assert!(
            driver.stored() <= 600 + MIN_WRITES_PER_SWEEP,
            "{}",
            driver.stored()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_counter_starts_again_with_a_fresh_ttl() {
        let driver = MemoryDriver::default();
        let window = Some(Duration::from_secs(10));
        assert_eq!(driver.incr("c", 1, window).await.unwrap(), 1);
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(driver.incr("c", 1, window).await.unwrap(), 1);
        assert_eq!(
            driver.ttl("c").await.unwrap(),
            Some(Duration::from_secs(10))
        );
    }

    #[tokio::test]
    async fn a_ttl_too_long_to_represent_means_never() {
        let driver = MemoryDriver::default();
        driver
            .set("k", "v".into(), Some(Duration::MAX))
            .await
            .unwrap();
        assert_eq!(driver.get("k").await.unwrap().as_deref(), Some("v"));
        assert_eq!(driver.ttl("k").await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_new_keys_stays_within_the_limit() {
        let driver = MemoryDriver::with_max_keys(100);
        let window = Some(Duration::from_secs(900));
        for i in 0..10_000 {
            driver
                .incr(&format!("nobody{i}@example.com"), 1, window)
                .await
                .unwrap();
            assert!(driver.stored() <= 100, "{} keys after {i}", driver.stored());
        }
        // Every operation still works at the limit: an existing key is
        // updated in place, a new one makes room.
        driver.set("kept", "v".into(), None).await.unwrap();
        assert_eq!(driver.incr("kept-counter", 2, window).await.unwrap(), 2);
        assert_eq!(driver.incr("kept-counter", 2, window).await.unwrap(), 4);
        assert_eq!(driver.stored(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn what_expires_soonest_goes_first_and_keys_without_ttl_last() {
        let driver = MemoryDriver::with_max_keys(3);
        driver.set("forever", "a".into(), None).await.unwrap();
        driver
            .set("long", "b".into(), Some(Duration::from_secs(60)))
            .await
            .unwrap();
        driver
            .set("short", "c".into(), Some(Duration::from_secs(5)))
            .await
            .unwrap();
        driver
            .set("new", "d".into(), Some(Duration::from_secs(60)))
            .await
            .unwrap();
        assert_eq!(driver.get("short").await.unwrap(), None);
        for kept in ["forever", "long", "new"] {
            assert!(
                driver.get(kept).await.unwrap().is_some(),
                "{kept} was evicted"
            );
        }
        // Overwriting a key that exists evicts nothing.
        driver.set("long", "e".into(), None).await.unwrap();
        assert_eq!(driver.stored(), 3);
        assert!(driver.get("new").await.unwrap().is_some());
    }
}
