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

/// A broker's test harness (a private prefix on the shared server, deleted
/// when dropped), the conformance suite on it, and the replica scenarios:
/// what `redis.rs` and `nats.rs` share. It uses the names the calling file
/// imports.
macro_rules! broker_harness {
    ($name:ident, $driver:ident, $url:ident, $addr:literal, $scheme:literal, $delete:ident) => {
        /// A private prefix on the shared server, deleted with the harness.
        #[derive(Debug)]
        struct $name {
            prefix: String,
            opened: Opened,
        }

        impl $name {
            fn driver_options(&self) -> DriverOptions {
                DriverOptions {
                    prefix: self.prefix.clone(),
                    ..DriverOptions::default()
                }
            }

            async fn driver(&self, options: &DriverOptions) -> Arc<dyn Driver> {
                let driver = $driver::connect($url, options).await.unwrap();
                self.opened.keep(Arc::new(driver))
            }
        }

        impl conformance::Harness for $name {
            async fn new() -> Self {
                $name {
                    prefix: brokers::prefix(),
                    opened: Opened::default(),
                }
            }

            async fn open(&self, options: BusOptions) -> EventBus {
                let driver = self.driver(&self.driver_options()).await;
                EventBus::from_driver(driver, options)
            }

            fn guarantee() -> Guarantee {
                Guarantee::AtLeastOnce
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.opened.stop_all();
                brokers::$delete(&self.prefix);
            }
        }

        conformance::suite!($name);

        impl brokers::Broker for $name {
            const ADDR: &'static str = $addr;
            const SCHEME: &'static str = $scheme;

            fn prefix(&self) -> &str {
                &self.prefix
            }

            async fn bus(&self, url: &str, claim_after: Duration, options: BusOptions) -> EventBus {
                let driver = $driver::connect(
                    url,
                    &DriverOptions {
                        prefix: self.prefix.clone(),
                        claim_after,
                    },
                )
                .await
                .unwrap();
                EventBus::from_driver(self.opened.keep(Arc::new(driver)), options)
            }
        }

        /// Runs the consumers of a crash scenario when this binary is started
        /// again as a child process; passes at once otherwise.
        #[test]
        fn crash_child() {
            brokers::crash::child_main();
        }

        mod replicas {
            use super::$name;
            use crate::brokers::{crash, scenarios, $url};
            use crate::conformance::{Harness, quick};

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn two_processes_one_group_then_sigkill_loses_nothing() {
                let h = $name::new().await;
                let publisher = h.open(quick(5)).await;
                crash::two_processes_one_group_then_sigkill(&publisher, $url, &h.prefix).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sigkill_while_handling_then_restart_loses_nothing() {
                let h = $name::new().await;
                let publisher = h.open(quick(5)).await;
                crash::sigkill_then_restart(&publisher, $url, &h.prefix).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_stopped_consumer_hands_back_what_it_held() {
                scenarios::a_stopped_consumer_hands_back_what_it_held(&$name::new().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn dead_letters_are_shared_by_replicas() {
                scenarios::dead_letters_are_shared_by_replicas(&$name::new().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn connection_loss_fails_publishes_then_recovers() {
                scenarios::connection_loss_fails_publishes_then_recovers(&$name::new().await).await;
            }
        }
    };
}
pub(crate) use broker_harness;
