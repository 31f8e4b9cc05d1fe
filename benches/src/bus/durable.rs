//! The durable and broker drivers, measured by URL: where each round's bus
//! lives and how it is removed afterwards.
//!
//! Every round isolates itself: SQLite gets a fresh file, Redis and NATS a
//! fresh `EVENT_BUS_PREFIX` (`mcbench_<pid>_<random>`), so runs never see
//! each other's events, nor those of the tests sharing the servers. When
//! the round's bus is shut down, everything the prefix named (Redis keys,
//! NATS streams and their consumers) is deleted, and checked gone.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::GetStreamErrorKind;
use microcore_event_bus::{BusOptions, BusSettings, DriverOptions, driver::redact};

/// A driver that stores or forwards events outside the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    Sqlite,
    Redis,
    Nats,
}

impl Driver {
    /// The URL scheme, also the `--bus-only` value.
    pub(super) fn scheme(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Redis => "redis",
            Self::Nats => "nats",
        }
    }

    /// The driver, in the method's text.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Redis => "Redis Streams",
            Self::Nats => "NATS JetStream",
        }
    }

    /// The row's name in the table.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "EventBus, `sqlite://` (durable)",
            Self::Redis => "EventBus, `redis://` (Redis Streams)",
            Self::Nats => "EventBus, `nats://` (NATS JetStream)",
        }
    }
}

/// One driver to measure, and how much.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) driver: Driver,
    /// The server (Redis, NATS); unused for SQLite, which gets a file.
    pub(crate) url: String,
    /// Events per throughput burst.
    pub(crate) burst: u64,
    /// Events timed one at a time.
    pub(crate) latency_events: u64,
}

impl Target {
    /// Where the events go, as the method text shows it (no password).
    pub(super) fn place(&self) -> String {
        match self.driver {
            Driver::Sqlite => "a fresh file each round (WAL, synchronous NORMAL)".into(),
            Driver::Redis | Driver::Nats => format!(
                "`{}`, a fresh `EVENT_BUS_PREFIX` each round (deleted after it)",
                redact(&self.url)
            ),
        }
    }
}

/// One round's private bus: its settings, and what to delete afterwards.
#[derive(Debug)]
pub(super) struct Store {
    driver: Driver,
    settings: BusSettings,
    /// SQLite: the directory of the file (its WAL and shared memory too).
    dir: Option<PathBuf>,
}

impl Store {
    /// A bus of `target` no one else uses.
    pub(super) fn new(target: &Target) -> Result<Self, String> {
        let unique = format!(
            "mcbench_{}_{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let (url, dir) = match target.driver {
            Driver::Sqlite => {
                let dir = std::env::temp_dir().join(&unique);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let url = format!("sqlite://{}", dir.join("bus.db").display());
                (url, Some(dir))
            }
            Driver::Redis | Driver::Nats => (target.url.clone(), None),
        };
        Ok(Self {
            driver: target.driver,
            settings: BusSettings {
                url,
                options: BusOptions::default(),
                driver: DriverOptions {
                    prefix: unique,
                    ..DriverOptions::default()
                },
            },
            dir,
        })
    }

    pub(super) fn settings(&self) -> &BusSettings {
        &self.settings
    }

    /// Deletes everything the round created; call it once its bus is shut
    /// down (a running consumer would recreate its group).
    ///
    /// # Errors
    /// When the server cannot be reached or something is still there
    /// after three tries, naming what to delete by hand.
    pub(super) async fn remove(self) -> Result<(), String> {
        let mut left = self.delete().await?;
        for _ in 1..3 {
            if left.is_empty() {
                break;
            }
            // A consumer that was stopping may still have touched a key.
            tokio::time::sleep(Duration::from_millis(300)).await;
            left = self.delete().await?;
        }
        if left.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} still holds what the benchmark created, delete it by hand: {}",
            redact(&self.settings.url),
            left.join(", ")
        ))
    }

    /// Deletes what the round created; returns what is still there.
    async fn delete(&self) -> Result<Vec<String>, String> {
        let prefix = &self.settings.driver.prefix;
        match self.driver {
            Driver::Sqlite => {
                let dir = self.dir.as_ref().ok_or("no SQLite directory")?;
                let _ = std::fs::remove_dir_all(dir);
                Ok(if dir.exists() {
                    vec![dir.display().to_string()]
                } else {
                    Vec::new()
                })
            }
            Driver::Redis => delete_redis_keys(&self.settings.url, prefix).await,
            Driver::Nats => delete_nats_streams(&self.settings.url, prefix).await,
        }
    }
}

/// Deletes the keys of `prefix`; returns those still there afterwards.
async fn delete_redis_keys(url: &str, prefix: &str) -> Result<Vec<String>, String> {
    let failed = |e: redis::RedisError| format!("cleaning up {}: {e}", redact(url));
    let client = redis::Client::open(url).map_err(failed)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(failed)?;
    // KEYS, not SCAN: the pattern matches this round's few keys only.
    let mut keys = redis::cmd("KEYS");
    keys.arg(format!("{prefix}:*"));
    let found: Vec<String> = keys.query_async(&mut conn).await.map_err(failed)?;
    if !found.is_empty() {
        redis::cmd("DEL")
            .arg(&found)
            .query_async::<()>(&mut conn)
            .await
            .map_err(failed)?;
    }
    keys.query_async(&mut conn).await.map_err(failed)
}

/// Deletes the streams of `prefix` (their consumers go with them); returns
/// those still there afterwards.
async fn delete_nats_streams(url: &str, prefix: &str) -> Result<Vec<String>, String> {
    let failed = |e: &dyn std::fmt::Display| format!("cleaning up {}: {e}", redact(url));
    let client = async_nats::connect(url).await.map_err(|e| failed(&e))?;
    let js = async_nats::jetstream::new(client);
    let mut left = Vec::new();
    for name in [prefix.to_string(), format!("{prefix}_dead_letters")] {
        // A stream already gone is fine: the check below tells.
        let _ = js.delete_stream(&name).await;
        match js.get_stream(&name).await {
            Ok(_) => left.push(format!("stream {name}")),
            Err(e) => match e.kind() {
                GetStreamErrorKind::JetStream(j)
                    if j.error_code() == ErrorCode::STREAM_NOT_FOUND => {}
                _ => return Err(failed(&e)),
            },
        }
    }
    Ok(left)
}
