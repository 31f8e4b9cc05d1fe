//! The handler's side of every path: the payload it receives and the sink
//! that counts events, records latencies and wakes the publisher.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use microcore::sync::lock;
use microcore_event_bus::Event;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// How long the handler may see no event at all while the publisher
/// waits for one before the round is given up: a broker that stopped
/// delivering fails the run instead of hanging it.
const STALL: Duration = Duration::from_secs(30);

/// A `user.created`-like payload, plus when it was sent.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Payload {
    id: u64,
    email: String,
    roles: Vec<String>,
    /// Nanoseconds since the round's start.
    sent_ns: u64,
}

/// Counts events, records latencies, wakes the publisher when the count
/// it waits for is reached.
pub(super) struct Sink {
    started: Instant,
    handled: AtomicU64,
    target: AtomicU64,
    record: AtomicBool,
    latencies_ns: Mutex<Vec<u64>>,
    done: Notify,
}

impl Sink {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            handled: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            record: AtomicBool::new(false),
            latencies_ns: Mutex::new(Vec::new()),
            done: Notify::new(),
        })
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The next payload to publish, stamped with the time it is sent.
    pub(super) fn payload(&self, id: u64) -> Payload {
        Payload {
            id,
            email: "ada@example.com".into(),
            roles: vec!["user".into()],
            sent_ns: self.now_ns(),
        }
    }

    /// From now on, every handled event records its latency.
    pub(super) fn start_recording(&self) {
        self.record.store(true, Ordering::Relaxed);
    }

    /// The latencies recorded so far, in nanoseconds, sorted.
    pub(super) fn take_latencies(&self) -> Vec<u64> {
        let mut latencies = std::mem::take(&mut *lock(&self.latencies_ns));
        latencies.sort_unstable();
        latencies
    }

    /// The handler, as a plugin method: the same for every path.
    pub(super) async fn on_event(self: Arc<Self>, event: Event<Payload>) -> microcore::Result<()> {
        if self.record.load(Ordering::Relaxed) {
            let latency = self.now_ns().saturating_sub(event.payload.sent_ns);
            lock(&self.latencies_ns).push(latency);
        }
        let n = self.handled.fetch_add(1, Ordering::AcqRel) + 1;
        if n == self.target.load(Ordering::Acquire) {
            self.done.notify_waiters();
        }
        Ok(())
    }

    /// Waits until `n` events in all have been handled.
    ///
    /// # Errors
    /// When no event at all was handled for [`STALL`].
    pub(super) async fn wait_for(&self, n: u64) -> Result<(), String> {
        self.target.store(n, Ordering::Release);
        let mut seen = self.handled.load(Ordering::Acquire);
        loop {
            // Registered before the check, so a wake-up between the check
            // and the wait is not lost (and none is left over for later).
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let handled = self.handled.load(Ordering::Acquire);
            if handled >= n {
                return Ok(());
            }
            if tokio::time::timeout(STALL, notified).await.is_err() {
                let now = self.handled.load(Ordering::Acquire);
                if now == seen {
                    return Err(format!(
                        "no event handled for {} s: {now} of {n} arrived",
                        STALL.as_secs()
                    ));
                }
                seen = now;
            }
        }
    }
}
