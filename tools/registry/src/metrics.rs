//! The recorder the registry tool installs in the `calls` tool: the
//! last 1000 tool calls, per (tool, method) and per route counters with
//! latency histograms, and a live feed of calls for
//! `/system/metrics/stream`.
//!
//! Recording runs on every tool call, so it takes no lock shared by all
//! calls: the ring is 1000 slots, each behind its own mutex, claimed by an
//! atomic counter (two writers meet only when one laps the other), the
//! counters are atomics ([`stats`](crate::stats)), and the live feed is
//! only touched while someone watches. `benches/record.rs` measures it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use microcore::sync::lock;
use microcore_calls::{Call, Recorder};
use microcore_http::{Hit, RecordHits};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::stats::{Key, Snapshot, Table};

/// How many recent calls [`CallMetrics::recent`] keeps.
pub const RECENT_CAPACITY: usize = 1000;

/// How many calls a slow watcher may fall behind before it skips some.
const WATCH_CAPACITY: usize = 1024;

/// One tool call, as `/system/metrics` lists it (CONTRACT.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallRecord {
    /// The tool (`db`).
    pub tool: &'static str,
    /// The handle's method (`query_all`).
    pub method: &'static str,
    /// The plugin that called (`users.ListUsers`), or `tool:<name>`, or `app`.
    pub plugin: &'static str,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// Whether it succeeded.
    pub success: bool,
    /// When it finished (UTC; RFC 3339 in JSON).
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
}

impl CallRecord {
    fn new(call: &Call, clock: &Clock) -> Self {
        Self {
            tool: call.tool,
            method: call.method,
            plugin: call.owner,
            // Microsecond precision: what a reader needs, without float noise.
            duration_ms: call.duration.as_micros() as f64 / 1e3,
            success: call.ok,
            timestamp: clock.wall(call.at),
        }
    }
}

/// Wall-clock time now and monotonic time now, read together when records
/// are read, so recording itself never reads the wall clock.
struct Clock {
    wall: DateTime<Utc>,
    monotonic: Instant,
}

impl Clock {
    fn now() -> Self {
        Self {
            wall: Utc::now(),
            monotonic: Instant::now(),
        }
    }

    /// When `at` was, on the wall clock.
    fn wall(&self, at: Instant) -> DateTime<Utc> {
        let ago = self.monotonic.saturating_duration_since(at);
        self.wall - TimeDelta::from_std(ago).unwrap_or_default()
    }
}

/// A ring slot: the call's sequence number and the call, once written.
type Slot = Option<(u64, Call)>;

/// Calls and requests of one app: see the module docs.
///
/// ```
/// use std::time::Duration;
/// use microcore_calls::{Call, Recorder};
/// use microcore_registry::CallMetrics;
///
/// let metrics = CallMetrics::default();
/// metrics.call(Call { tool: "db", method: "query_all", owner: "users.ListUsers",
///     duration: Duration::from_micros(250), ok: true, at: std::time::Instant::now() });
/// let recent = metrics.recent();
/// assert_eq!((recent[0].tool, recent[0].plugin), ("db", "users.ListUsers"));
/// ```
#[derive(Debug)]
pub struct CallMetrics {
    next: AtomicU64,
    /// The slot of call `n` is `n % 1000`.
    ring: Box<[Mutex<Slot>]>,
    calls: Table,
    routes: Table,
    live: broadcast::Sender<CallRecord>,
    watchers: AtomicUsize,
}

impl Default for CallMetrics {
    fn default() -> Self {
        Self {
            next: AtomicU64::new(0),
            ring: (0..RECENT_CAPACITY).map(|_| Mutex::new(None)).collect(),
            calls: Table::new(256),
            routes: Table::new(512),
            live: broadcast::channel(WATCH_CAPACITY).0,
            watchers: AtomicUsize::new(0),
        }
    }
}

impl Recorder for CallMetrics {
    fn call(&self, call: Call) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = &self.ring[(n % RECENT_CAPACITY as u64) as usize];
        *lock(slot) = Some((n, call));
        self.calls
            .observe(call.tool, call.method, 0, call.duration, call.ok);
        if self.watchers.load(Ordering::Relaxed) > 0 {
            let _ = self.live.send(CallRecord::new(&call, &Clock::now()));
        }
    }
}

impl RecordHits for CallMetrics {
    fn hit(&self, hit: Hit<'_>) {
        let ok = hit.status < 500;
        self.routes
            .observe(hit.method, hit.route, hit.status, hit.duration, ok);
    }
}

impl CallMetrics {
    /// The last calls (up to 1000), newest first.
    pub fn recent(&self) -> Vec<CallRecord> {
        let end = self.next.load(Ordering::Acquire);
        let start = end.saturating_sub(RECENT_CAPACITY as u64);
        let clock = Clock::now();
        (start..end)
            .rev()
            .filter_map(|n| {
                let slot = lock(&self.ring[(n % RECENT_CAPACITY as u64) as usize]);
                // A slot still being written, or already reused, is skipped.
                slot.filter(|(seq, _)| *seq == n)
                    .map(|(_, call)| CallRecord::new(&call, &clock))
            })
            .collect()
    }

    /// Every call recorded from now on, for live streams.
    pub fn watch(self: &Arc<Self>) -> CallWatch {
        self.watchers.fetch_add(1, Ordering::Relaxed);
        CallWatch {
            receiver: self.live.subscribe(),
            metrics: self.clone(),
        }
    }

    /// Per (tool, method): counts and latency histograms.
    pub(crate) fn call_stats(&self) -> Vec<(Key, Snapshot)> {
        self.calls.snapshot()
    }

    /// Per (method, route, status): counts and latency histograms.
    pub(crate) fn route_stats(&self) -> Vec<(Key, Snapshot)> {
        self.routes.snapshot()
    }
}

/// A live feed of tool calls ([`CallMetrics::watch`]); the feed costs nothing
/// once every watch is dropped.
#[derive(Debug)]
pub struct CallWatch {
    receiver: broadcast::Receiver<CallRecord>,
    metrics: Arc<CallMetrics>,
}

impl CallWatch {
    /// The next call; a watcher that fell behind skips what it missed.
    /// `None` never happens while the metrics live.
    pub async fn recv(&mut self) -> Option<CallRecord> {
        loop {
            match self.receiver.recv().await {
                Ok(record) => return Some(record),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Drop for CallWatch {
    fn drop(&mut self) {
        self.metrics.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call(n: u64) -> Call {
        Call {
            tool: "state",
            method: if n.is_multiple_of(2) { "get" } else { "set" },
            owner: "tests.Plugin",
            duration: Duration::from_micros(n),
            ok: !n.is_multiple_of(5),
            at: Instant::now(),
        }
    }

    #[test]
    fn keeps_the_last_thousand_newest_first() {
        let metrics = CallMetrics::default();
        for n in 0..2500 {
            metrics.call(call(n));
        }
        let recent = metrics.recent();
        assert_eq!(recent.len(), RECENT_CAPACITY);
        assert_eq!(recent[0].duration_ms, 2.499);
        assert_eq!(recent[999].duration_ms, 1.5);
        let totals: u64 = metrics.call_stats().iter().map(|r| r.1.count).sum();
        assert_eq!(totals, 2500, "the counters keep everything");
    }

    #[tokio::test]
    async fn watchers_get_each_call_and_stop_counting_when_dropped() {
        let metrics = Arc::new(CallMetrics::default());
        let mut watch = metrics.watch();
        metrics.call(call(1));
        assert_eq!(watch.recv().await.unwrap().method, "set");
        drop(watch);
        assert_eq!(metrics.watchers.load(Ordering::Relaxed), 0);
    }
}
