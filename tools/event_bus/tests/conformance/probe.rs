//! A test plugin that records what its handlers see, and can fail, panic,
//! hold, relay or answer on demand.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use microcore::sync::lock;
use std::time::Duration;

use microcore::{Error, Result};
use microcore_event_bus::{Envelope, Event, EventBus, EventId};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::Typed;

/// A topic name no other test (or run) uses.
pub fn topic(name: &str) -> String {
    format!("{name}.{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Waits up to 10 s for `done`, then fails naming `what`.
pub async fn wait_for(what: &str, done: impl Fn() -> bool) {
    wait(what, done, Duration::from_secs(10)).await
}

/// Like [`wait_for`], for bulk tests on slow (debug, durable) backends.
pub async fn wait_long(what: &str, done: impl Fn() -> bool) {
    wait(what, done, Duration::from_secs(120)).await
}

async fn wait(what: &str, done: impl Fn() -> bool, bound: Duration) {
    let deadline = tokio::time::Instant::now() + bound;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {} s waiting for {what}",
            bound.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Add {
    a: i64,
    b: i64,
}

#[derive(Debug, Default)]
pub struct Probe {
    calls: AtomicUsize,
    handled: Mutex<Vec<(Arc<Envelope>, u32)>>,
    /// Fail every delivery whose attempt is below this.
    pub fail_below_attempt: AtomicU32,
    pub always_fail: AtomicBool,
    /// Block handlers until [`Probe::release`].
    pub hold: AtomicBool,
    released: watch::Sender<bool>,
    slow: bool,
    relay_to: Option<(EventBus, String)>,
    counted: AtomicUsize,
    ids: Mutex<HashSet<EventId>>,
    call_times: Mutex<Vec<tokio::time::Instant>>,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Takes a moment per event, so two consumers of a group interleave.
    pub fn slow() -> Arc<Self> {
        Arc::new(Self {
            slow: true,
            ..Self::default()
        })
    }

    /// Republishes every event it gets to `to` with `bus`.
    pub fn relaying(bus: EventBus, to: &str) -> Arc<Self> {
        Arc::new(Self {
            relay_to: Some((bus, to.to_string())),
            ..Self::default()
        })
    }

    pub fn release(&self) {
        self.released.send_replace(true);
    }

    /// Handler invocations, failed ones included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Successful deliveries.
    pub fn handled(&self) -> usize {
        lock(&self.handled).len()
    }

    pub fn envelopes(&self) -> Vec<Arc<Envelope>> {
        lock(&self.handled).iter().map(|(e, _)| e.clone()).collect()
    }

    pub fn payloads(&self) -> Vec<Value> {
        lock(&self.handled)
            .iter()
            .map(|(e, _)| e.payload.clone())
            .collect()
    }

    /// The attempt number of each successful delivery.
    pub fn attempts(&self) -> Vec<u32> {
        lock(&self.handled).iter().map(|(_, a)| *a).collect()
    }

    pub fn counted(&self) -> usize {
        self.counted.load(Ordering::SeqCst)
    }

    pub fn seen_ids(&self) -> HashSet<EventId> {
        lock(&self.ids).clone()
    }

    /// When each handler call started.
    pub fn call_times(&self) -> Vec<tokio::time::Instant> {
        lock(&self.call_times).clone()
    }

    async fn enter(&self, attempt: u32) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        lock(&self.call_times).push(tokio::time::Instant::now());
        if self.slow {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if self.hold.load(Ordering::SeqCst) {
            let _ = self.released.subscribe().wait_for(|r| *r).await;
        }
        if self.always_fail.load(Ordering::SeqCst)
            || attempt < self.fail_below_attempt.load(Ordering::SeqCst)
        {
            return Err(Error::internal("boom"));
        }
        Ok(())
    }

    fn keep<T>(&self, event: &Event<T>) {
        lock(&self.handled).push((event.envelope().clone(), event.attempt));
    }

    pub async fn record(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        self.enter(event.attempt).await?;
        self.keep(&event);
        Ok(())
    }

    /// The same as `record`, under another name (so another default group).
    pub async fn record_too(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        self.record(event).await
    }

    pub async fn panic_first(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if event.attempt == 1 {
            panic!("first attempt panics");
        }
        self.keep(&event);
        Ok(())
    }

    pub async fn typed(self: Arc<Self>, event: Event<Typed>) -> Result<()> {
        self.enter(event.attempt).await?;
        assert!(event.payload.id > 0);
        self.keep(&event);
        Ok(())
    }

    pub async fn relay(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        self.keep(&event);
        if let Some((bus, to)) = &self.relay_to {
            bus.publish(to, &json!({"step": 2})).await?;
        }
        Ok(())
    }

    pub async fn add(self: Arc<Self>, event: Event<Add>) -> Result<i64> {
        if event.payload.a == 404 {
            return Err(Error::not_found("no such sum"));
        }
        Ok(event.payload.a + event.payload.b)
    }

    pub async fn count(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        lock(&self.ids).insert(event.id().clone());
        self.counted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
