//! The backend contract: what a transport must do for [`EventBus`](crate::EventBus).
//!
//! The handle does everything that does not depend on the transport: JSON,
//! envelopes and causal ids, decoding, running handlers, the retry policy,
//! TTL, request/reply, topology. A driver only moves envelopes: it fans each
//! one out to the consumer groups of its topic, hands deliveries to
//! consumers (each delivery to one consumer of its group), and records the
//! outcome (ack, retry later, dead letter). Keeping this trait small and
//! object-safe is what lets `EVENT_BUS_URL` swap backends without a plugin
//! or the kernel changing by a line.

mod memory;
#[cfg(feature = "nats")]
mod nats;
mod recording;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "redis", feature = "nats"))]
mod releases;
mod sqlite;
#[cfg(any(feature = "redis", feature = "nats"))]
mod stored;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use microcore::{Error, Result};
#[cfg(not(all(feature = "redis", feature = "nats")))]
use microcore_config::Backend;
use serde::Serialize;

pub use memory::MemoryDriver;
#[cfg(feature = "nats")]
pub use nats::NatsDriver;
pub use recording::RecordingDriver;
#[cfg(feature = "redis")]
pub use redis::RedisDriver;
pub use sqlite::SqliteDriver;

use crate::{DriverOptions, Envelope};

/// What a driver promises about delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarantee {
    /// Lost if the process dies before the handler finishes (in process).
    AtMostOnce,
    /// Redelivered until acknowledged, across restarts: handlers must be
    /// idempotent (use the event id or key as an idempotency key).
    AtLeastOnce,
}

/// One envelope handed to one consumer of a group.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event.
    pub envelope: Arc<Envelope>,
    /// 1 for the first delivery to this group, then 2, 3, ...
    pub attempt: u32,
    /// The driver's own reference to this delivery (a row id, a stream
    /// entry id, a reply subject); opaque to the handle, which only passes
    /// it back.
    pub receipt: String,
}

/// An event a group gave up on: its handler failed `attempts` times, or
/// its payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// This dead letter's id (an event can die in several groups), for
    /// [`EventBus::replay`](crate::EventBus::replay).
    pub id: String,
    /// The event as published.
    pub envelope: Envelope,
    /// The consumer group (subscriber) that gave up.
    pub group: String,
    /// The last error.
    pub reason: String,
    /// How many deliveries were tried.
    pub attempts: u32,
    /// When it was given up.
    pub failed_at: DateTime<Utc>,
}

/// A transport for the bus. See the module docs for the split of work.
///
/// Rules every driver follows (the conformance suite in
/// `tools/event_bus/tests/` checks them): each consumer group of a topic
/// gets every envelope published after the group was first joined; within
/// a group each delivery goes to one consumer; deliveries of one topic come
/// in publish order except those put back with [`Consumer::retry`]; errors
/// reaching the backend are [`Error::unavailable`].
pub trait Driver: Debug + Send + Sync + 'static {
    /// A short name of the backend (`"memory"`, `"sqlite"`), for logs and health.
    fn backend(&self) -> &'static str;

    /// What delivery guarantee it gives.
    fn guarantee(&self) -> Guarantee;

    /// Hands `envelope` to every group that joined its topic. Returns once
    /// the driver holds it (durably, for a durable driver).
    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>>;

    /// Like [`Driver::publish`], but an envelope whose id this driver
    /// stored within its deduplication window is not stored again: what
    /// the outbox relay calls, since it publishes an event again when it
    /// died (or lost its database) after the driver took it and before the
    /// outbox row was deleted. NATS remembers ids two minutes
    /// (`Nats-Msg-Id`, on every publish), Redis two minutes too (a key per
    /// id, only for these publishes); the default, for drivers with no
    /// deduplication (memory, SQLite), publishes again.
    fn publish_once<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        self.publish(envelope)
    }

    /// Joins `group` on `topic` (creating the group if new) as one more
    /// competing consumer.
    fn consume<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Consumer>>>;

    /// Every dead letter, oldest first.
    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>>;

    /// Delivers a dead letter again to its group, as a first attempt, and
    /// removes it from the dead letters.
    ///
    /// Errors: [`Error::not_found`] for an unknown id.
    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Whether the backend answers.
    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Stops every consumer (their `next` returns `None`) and releases the
    /// backend. In-flight deliveries not acknowledged stay pending in a
    /// durable driver.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// One member of a consumer group.
///
/// `next` must be cancel-safe: when its future is dropped, no delivery is
/// lost (a durable driver puts back what it had claimed when the consumer
/// is dropped).
pub trait Consumer: Debug + Send + Sync {
    /// The next delivery, waiting for one; `None` once the driver is closed.
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>>;

    /// The handler succeeded (or the event expired): never deliver it again.
    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<()>>;

    /// The handler failed: deliver it again, as attempt `attempt + 1`, not
    /// before `delay`.
    fn retry<'a>(&'a self, delivery: &'a Delivery, delay: Duration) -> BoxFuture<'a, Result<()>>;

    /// Give up: move it to the dead letters with `reason`.
    fn dead<'a>(&'a self, delivery: &'a Delivery, reason: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// The Redis Streams driver: the `redis` crate, opt-in.
#[cfg(not(feature = "redis"))]
const REDIS: Backend = Backend {
    name: "Redis",
    krate: "microcore-event-bus",
    feature: "redis",
};

/// The NATS JetStream driver: the `async-nats` crate, opt-in.
#[cfg(not(feature = "nats"))]
const NATS: Backend = Backend {
    name: "NATS",
    krate: "microcore-event-bus",
    feature: "nats",
};

/// Opens the driver `url` names, with the default [`DriverOptions`]
/// (prefix `microcore`): `memory://`, `sqlite://<path>`,
/// `redis://host:port[/db]` or `nats://host:port`.
///
/// # Errors
/// A configuration error naming `EVENT_BUS_URL` for an unknown scheme, a
/// file that cannot be opened or a broker that cannot be reached.
pub async fn open(url: &str) -> Result<Arc<dyn Driver>> {
    open_with(url, &DriverOptions::default()).await
}

/// Like [`open`], with the prefix and claim timeout the broker drivers use.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use microcore_event_bus::{DriverOptions, driver};
/// let options = DriverOptions { prefix: "not a prefix".into(), ..DriverOptions::default() };
/// let e = driver::open_with("redis://127.0.0.1:6379", &options).await.unwrap_err();
/// assert!(e.to_string().starts_with("EVENT_BUS_PREFIX='not a prefix' is invalid"));
/// # }
/// ```
///
/// # Errors
/// As [`open`], and a configuration error naming `EVENT_BUS_PREFIX` or
/// `EVENT_BUS_CLAIM_AFTER` when `options` are invalid (for a broker URL).
// Without a broker driver compiled in, nothing reads the broker options.
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(unused_variables))]
pub async fn open_with(url: &str, options: &DriverOptions) -> Result<Arc<dyn Driver>> {
    let url = url.trim();
    if url.is_empty() || url == "memory" || url.starts_with("memory:") {
        return Ok(Arc::new(MemoryDriver::new()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(invalid_url(
                url,
                "a file path after sqlite://, such as sqlite://events.db",
            ));
        }
        let driver = SqliteDriver::open(path)
            .await
            .map_err(|e| cannot_open(url, &e))?;
        return Ok(Arc::new(driver));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        #[cfg(not(feature = "redis"))]
        return Err(REDIS.compiled_out("EVENT_BUS_URL", &redact(url)));
        #[cfg(feature = "redis")]
        {
            options.check()?;
            let driver = RedisDriver::connect(url, options)
                .await
                .map_err(|e| cannot_open(url, &e))?;
            return Ok(Arc::new(driver));
        }
    }
    if url.starts_with("nats://") {
        #[cfg(not(feature = "nats"))]
        return Err(NATS.compiled_out("EVENT_BUS_URL", &redact(url)));
        #[cfg(feature = "nats")]
        {
            options.check()?;
            let driver = NatsDriver::connect(url, options)
                .await
                .map_err(|e| cannot_open(url, &e))?;
            return Ok(Arc::new(driver));
        }
    }
    Err(invalid_url(
        url,
        "memory:// (the default), sqlite://<path>, redis://host:port[/db] or nats://host:port",
    ))
}

/// A driver that cannot start: a configuration error naming the variable
/// (a configuration error of its own, such as an old Redis, stays as it is).
fn cannot_open(url: &str, e: &Error) -> Error {
    if e.kind() == microcore::ErrorKind::Config {
        return Error::config(e.message().to_string());
    }
    Error::config(format!(
        "EVENT_BUS_URL='{}' cannot be opened: {}",
        redact(url),
        e.chain()
    ))
}

fn invalid_url(url: &str, expected: &str) -> Error {
    Error::config(format!(
        "EVENT_BUS_URL='{}' is invalid: expected {expected}",
        redact(url)
    ))
}

/// The URL with any password replaced by `***`, for messages.
///
/// ```
/// # use microcore_event_bus::driver::redact;
/// assert_eq!(redact("redis://:s3cret@host:6379"), "redis://***@host:6379");
/// assert_eq!(redact("sqlite://events.db"), "sqlite://events.db");
/// ```
pub fn redact(url: &str) -> String {
    let shown: String = url.chars().take(120).collect();
    match (shown.find("://"), shown.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &shown[..scheme_end + 3], &shown[at..])
        }
        _ => shown,
    }
}

/// What [`Driver::replay`] answers for an id that names no dead letter.
pub(crate) fn no_dead_letter(id: &str) -> Error {
    Error::not_found(format!("no dead letter with id '{id}'"))
}

/// What [`Driver::replay`] answers for dead letter `id` when its `group`
/// no longer consumes its `topic`.
pub(crate) fn group_gone(group: &str, topic: &str, id: &str) -> Error {
    Error::not_found(format!(
        "group '{group}' no longer consumes '{topic}': nothing to replay dead letter '{id}' into"
    ))
}

/// A backend error while serving: a 503 for callers, the cause in logs.
pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::unavailable(e)
}
