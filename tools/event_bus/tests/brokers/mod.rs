//! What the tests of the broker drivers (Redis Streams, NATS JetStream)
//! share: private prefixes and their cleanup, a TCP proxy the test can
//! cut, a log capture, and the crash scenarios run in child processes.
//!
//! Every test owns a random prefix (`mctest_<random>`): its streams, keys
//! and subjects are its own, so tests run in parallel on the shared
//! servers, and the harness deletes them at the end.

#![allow(dead_code, unreachable_pub)]

pub mod crash;
pub mod logs;
pub mod proxy;
pub mod scenarios;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use microcore_event_bus::driver::Driver;
use microcore_event_bus::{BusOptions, EventBus};

/// A broker driver's test harness, for the scenarios every broker passes.
pub trait Broker: Send + Sync {
    /// Where the shared server listens (a proxy forwards there).
    const ADDR: &'static str;
    /// The URL scheme and the driver's `backend()` name.
    const SCHEME: &'static str;
    /// This harness's private prefix.
    fn prefix(&self) -> &str;
    /// A bus on this prefix through `url` (the server's, or a proxy's).
    fn bus(
        &self,
        url: &str,
        claim_after: Duration,
        options: BusOptions,
    ) -> impl Future<Output = EventBus> + Send;
    /// The server's own URL.
    fn url() -> String {
        format!("{}://{}", Self::SCHEME, Self::ADDR)
    }
}

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const NATS_URL: &str = "nats://127.0.0.1:4222";

/// A prefix no other test (or run) uses.
pub fn prefix() -> String {
    format!(
        "mctest_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Runs `work` to completion on a runtime of its own, in a thread of its
/// own: cleanup from `Drop`, which may run inside a test's runtime.
pub fn on_own_runtime<F>(work: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let done = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for cleanup")
            .block_on(work)
    });
    let _ = done.join();
}

/// The drivers a harness opened: stopped before the cleanup, so none
/// recreates what was just deleted.
#[derive(Debug, Default)]
pub struct Opened(Mutex<Vec<Arc<dyn Driver>>>);

impl Opened {
    pub fn keep(&self, driver: Arc<dyn Driver>) -> Arc<dyn Driver> {
        self.0.lock().unwrap().push(driver.clone());
        driver
    }

    /// Marks every driver closed (the drivers stop their consumers when
    /// `close` is called, before its future is polled).
    pub fn stop_all(&self) {
        for driver in self.0.lock().unwrap().drain(..) {
            drop(driver.close());
        }
    }
}

/// Deletes every Redis key of `prefix`, twice (a consumer stopping at
/// that moment may still touch one).
pub fn delete_redis_prefix(prefix: &str) {
    let pattern = format!("{prefix}:*");
    for pass in 0..2 {
        if pass > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        let Ok(client) = redis::Client::open(REDIS_URL) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// How many Redis keys `prefix` has.
pub fn redis_keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut conn)
        .unwrap()
}

/// Deletes the NATS streams of `prefix`, twice.
pub fn delete_nats_prefix(prefix: &str) {
    let prefix = prefix.to_string();
    on_own_runtime(async move {
        let Ok(client) = async_nats::connect(NATS_URL).await else {
            return;
        };
        let js = async_nats::jetstream::new(client);
        for pass in 0..2 {
            if pass > 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let _ = js.delete_stream(&prefix).await;
            let _ = js.delete_stream(format!("{prefix}_dead_letters")).await;
        }
    });
}

/// Whether NATS has a stream of that name.
pub async fn nats_stream_exists(name: &str) -> bool {
    let client = async_nats::connect(NATS_URL).await.unwrap();
    async_nats::jetstream::new(client)
        .get_stream(name)
        .await
        .is_ok()
}
