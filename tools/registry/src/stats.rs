//! Counters and latency histograms, keyed by (tool, method) or by
//! (method, route, status), updated with atomics only.
//!
//! Every tool call lands here, from every worker thread at once, so a
//! lock would serialise the app on its own bookkeeping. The table is a
//! fixed array of write-once slots (open addressing): a key is placed once,
//! with a short `OnceLock` initialisation, and from then on finding it is
//! a hash and a string comparison, and counting is a few relaxed
//! `fetch_add`s. Keys are few (tools × methods, routes × statuses), so a
//! full table is a bug in the app's cardinality; the overflow row then
//! keeps the totals right.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (Prometheus `le`):
/// from 10 µs (an in-memory state read) to 10 s (a request timing out).
pub(crate) const BUCKETS: [f64; 19] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// [`BUCKETS`] in nanoseconds, for the hot path.
const BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Count, failures, total time and a latency histogram of one key.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    count: AtomicU64,
    errors: AtomicU64,
    sum_ns: AtomicU64,
    /// Per bucket, not cumulative; the last one is `+Inf`.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
}

/// A consistent-enough copy of a [`Histogram`] (each number is exact; they
/// may be a few calls apart while calls keep landing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// How many.
    pub(crate) count: u64,
    /// How many failed.
    pub(crate) errors: u64,
    /// Total time, in seconds.
    pub(crate) sum_seconds: f64,
    /// Cumulative counts per bucket of [`BUCKETS`], then `+Inf`.
    pub(crate) cumulative: Vec<u64>,
}

impl Histogram {
    fn observe(&self, duration: Duration, ok: bool) {
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS.partition_point(|bound| *bound < ns);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        Snapshot {
            count: self.count.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            cumulative,
        }
    }
}

/// A row's key: two labels and a number (0 when unused).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    /// Tool, or HTTP method.
    pub(crate) first: Box<str>,
    /// Method, or route template.
    pub(crate) second: Box<str>,
    /// HTTP status, or 0.
    pub(crate) code: u16,
}

impl Key {
    fn is(&self, first: &str, second: &str, code: u16) -> bool {
        self.code == code && &*self.first == first && &*self.second == second
    }
}

#[derive(Debug)]
struct Row {
    key: Key,
    histogram: Histogram,
}

/// A fixed-capacity map from [`Key`] to [`Histogram`], lock-free once a key
/// exists.
#[derive(Debug)]
pub(crate) struct Table {
    slots: Box<[OnceLock<Box<Row>>]>,
    overflow: Histogram,
}

impl Table {
    /// A table of `capacity` keys (rounded up to a power of two).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.next_power_of_two();
        Self {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            overflow: Histogram::default(),
        }
    }

    /// Counts one observation under `(first, second, code)`.
    pub(crate) fn observe(
        &self,
        first: &str,
        second: &str,
        code: u16,
        duration: Duration,
        ok: bool,
    ) {
        self.row(first, second, code).observe(duration, ok);
    }

    fn row(&self, first: &str, second: &str, code: u16) -> &Histogram {
        let mask = self.slots.len() - 1;
        let start = hash(first, second, code) as usize;
        for probe in 0..self.slots.len() {
            let slot = &self.slots[(start + probe) & mask];
            let row = match slot.get() {
                Some(row) => row,
                None => slot.get_or_init(|| {
                    Box::new(Row {
                        key: Key {
                            first: first.into(),
                            second: second.into(),
                            code,
                        },
                        histogram: Histogram::default(),
                    })
                }),
            };
            if row.key.is(first, second, code) {
                return &row.histogram;
            }
        }
        &self.overflow
    }

    /// Every key seen, sorted, with its numbers; the overflow row last
    /// (key `other`, `other`, 0) when it counted anything.
    pub(crate) fn snapshot(&self) -> Vec<(Key, Snapshot)> {
        let mut rows: Vec<(Key, Snapshot)> = self
            .slots
            .iter()
            .filter_map(OnceLock::get)
            .map(|row| (row.key.clone(), row.histogram.snapshot()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let overflow = self.overflow.snapshot();
        if overflow.count > 0 {
            let key = Key {
                first: "other".into(),
                second: "other".into(),
                code: 0,
            };
            rows.push((key, overflow));
        }
        rows
    }
}

/// FNV-1a: a few nanoseconds on short labels, and no seed to make two
/// runs differ.
fn hash(first: &str, second: &str, code: u16) -> u64 {
    // FxHash's mixing a word at a time, not a byte at a time: this runs on
    // every request. A collision only costs a probe, never a wrong row.
    let mut h = u64::from(code);
    for part in [first.as_bytes(), second.as_bytes()] {
        let mut words = part.chunks_exact(8);
        for word in &mut words {
            h = mix(h, u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        h = mix(mix(h, u64::from_le_bytes(last)), part.len() as u64);
    }
    h ^ (h >> 29)
}

fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_with_cumulative_buckets() {
        let table = Table::new(8);
        table.observe("db", "query_all", 0, Duration::from_micros(20), true);
        table.observe("db", "query_all", 0, Duration::from_millis(3), false);
        table.observe("state", "get", 0, Duration::from_secs(60), true);
        let rows = table.snapshot();
        assert_eq!(rows.len(), 2);
        let (key, db) = &rows[0];
        assert_eq!((&*key.first, &*key.second), ("db", "query_all"));
        assert_eq!((db.count, db.errors), (2, 1));
        assert_eq!(db.cumulative[0], 0, "20 µs is above 10 µs");
        assert_eq!(db.cumulative[1], 1, "20 µs is within 25 µs");
        assert_eq!(db.cumulative[7], 1, "3 ms is above 2.5 ms");
        assert_eq!(db.cumulative[8], 2, "3 ms is within 5 ms");
        assert_eq!(*db.cumulative.last().unwrap(), 2);
        let state = &rows[1].1;
        assert_eq!(state.cumulative[BUCKETS.len() - 1], 0, "60 s is above 10 s");
        assert_eq!(state.cumulative[BUCKETS.len()], 1, "+Inf holds everything");
    }

    #[test]
    fn a_full_table_counts_the_rest_as_other() {
        let table = Table::new(2);
        for method in ["a", "b", "c", "d"] {
            table.observe("t", method, 0, Duration::ZERO, true);
        }
        let rows = table.snapshot();
        assert_eq!(rows.len(), 3);
        assert_eq!(&*rows[2].0.first, "other");
        assert_eq!(rows[2].1.count, 2);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let table = std::sync::Arc::new(Table::new(64));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let table = table.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        let method = ["get", "set", "incr"][(i + t) % 3];
                        table.observe("state", method, 0, Duration::from_micros(5), true);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let total: u64 = table.snapshot().iter().map(|r| r.1.count).sum();
        assert_eq!(total, 40_000);
    }
}
