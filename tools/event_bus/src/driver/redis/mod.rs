//! `redis://host:port[/db]`: the bus on Redis Streams, shared by replicas.
//!
//! One stream per topic (`<prefix>:topic:<topic>`); each bus group is a
//! Redis consumer group on it, created at the first subscribe (`XGROUP
//! CREATE … $ MKSTREAM`: a group gets what is published after it joined).
//! Every subscription is a consumer of its group with a name of its own,
//! reading on a connection of its own (a blocking `XREADGROUP` would hold
//! up every other command on a shared one). Redis keeps each delivered,
//! unacknowledged entry in the group's pending list under the consumer's
//! name: that list is what makes a replica's death lose nothing (see
//! [`consumer`]). Publishing is one `XADD … NOMKSTREAM`, so a topic nobody
//! ever subscribed stores nothing (as with SQLite). Dead letters are one
//! hash per prefix (`<prefix>:dead-letters`), JSON by id.
//!
//! Needs Redis 6.2 or later (`XAUTOCLAIM`). The commands go through
//! redis-rs's [`ConnectionManager`], which reconnects by itself: while
//! Redis is unreachable, publishes fail with [`Error::unavailable`] and
//! consumers retry, and both work again once it is back, with no restart.

mod consumer;
mod scripts;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use microcore::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult};
use tokio::sync::watch;

use super::releases::Releases;
use super::stored::{StoredLetter, sorted_letters};
use super::{Consumer, DeadLetter, Driver, Guarantee, group_gone, no_dead_letter};
use crate::reply::is_inbox;
use crate::{DriverOptions, Envelope};
use consumer::RedisConsumer;
use microcore::sync::lock;

/// How long one command may take before the connection is deemed lost.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection attempts per command while Redis is unreachable: few, so
/// a publish fails in seconds rather than hanging.
const RETRIES: usize = 2;
/// A reply inbox (one per requesting process) lives this long after its
/// last renewal, so the inboxes of killed processes go away by themselves.
const INBOX_TTL: Duration = Duration::from_secs(600);
/// Replies kept in an inbox stream; older ones were answered long ago.
const INBOX_MAXLEN: usize = 1000;
/// How long an event the outbox relay published is remembered, so that
/// publishing it again (after a relay's crash) stores nothing: as NATS.
const DEDUP_WINDOW: Duration = Duration::from_secs(120);

/// The Redis Streams driver (`redis://host:port[/db]`).
///
/// ```no_run
/// use std::sync::Arc;
/// use microcore_event_bus::{DriverOptions, Envelope, driver::{Driver, RedisDriver}};
///
/// # #[tokio::main] async fn main() -> microcore::Result<()> {
/// let options = DriverOptions { prefix: "billing".into(), ..DriverOptions::default() };
/// let driver = RedisDriver::connect("redis://127.0.0.1:6379", &options).await?;
/// let consumer = driver.consume("invoice.paid", "billing.Ledger.on_paid").await?;
/// driver.publish(&Arc::new(Envelope::new("invoice.paid", serde_json::json!({"id": 1}), "app"))).await?;
/// let delivery = consumer.next().await?.unwrap();
/// consumer.ack(&delivery).await?;
/// driver.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisDriver {
    shared: Arc<Shared>,
}

/// What the driver and its consumers share.
pub(super) struct Shared {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    claim_after: Duration,
    /// This process's part of consumer names (`<host>-<pid>-<random>`).
    node: String,
    next_consumer: AtomicU64,
    closed: watch::Sender<bool>,
    /// Inbox streams this process created, deleted at close.
    inboxes: Mutex<Vec<String>>,
    /// Hand-overs of dropped consumers still running, awaited at close.
    releases: Releases,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDriver")
            .field("prefix", &self.prefix)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: RedisError) -> Error {
    Error::unavailable(e)
}

fn closed_error() -> Error {
    Error::unavailable(std::io::Error::other("the Redis event bus is closed"))
}

fn manager_config(response_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(RETRIES)
        .set_max_delay(Duration::from_millis(500))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(response_timeout))
}

impl Shared {
    fn stream_key(&self, topic: &str) -> String {
        format!("{}:topic:{topic}", self.prefix)
    }

    fn dead_key(&self) -> String {
        format!("{}:dead-letters", self.prefix)
    }

    /// The marker of an event the outbox relay published (`publish_once`).
    fn published_key(&self, id: &str) -> String {
        format!("{}:published:{id}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Joins `group` on `key`, creating the stream if needed; a group that
    /// exists already is fine (another replica, an earlier run).
    async fn create_group(&self, key: &str, group: &str) -> Result<()> {
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(key)
            .arg(group)
            .arg("$")
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(unavailable(e)),
            _ => Ok(()),
        }
    }
}

/// `x.y` of a Redis version, when `INFO server` tells it.
fn version(info: &str) -> Option<(u32, u32)> {
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))?;
    let mut parts = line.trim().split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// A name for this process's consumers that says where it runs.
fn node_name() -> String {
    let host: String = std::env::var("HOSTNAME")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    let random = uuid::Uuid::new_v4().simple().to_string();
    let host = if host.is_empty() { "host".into() } else { host };
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

impl RedisDriver {
    /// Connects to the Redis `url` names, checking it is 6.2 or later.
    ///
    /// # Errors
    /// A configuration error for a bad prefix or claim timeout, or a Redis
    /// older than 6.2; [`Error::unavailable`] when Redis cannot be reached.
    pub async fn connect(url: &str, options: &DriverOptions) -> Result<Self> {
        options.check()?;
        let client = redis::Client::open(url).map_err(unavailable)?;
        let mut conn =
            ConnectionManager::new_with_config(client.clone(), manager_config(RESPONSE_TIMEOUT))
                .await
                .map_err(unavailable)?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if let Some((major, minor)) = version(&info)
            && (major, minor) < (6, 2)
        {
            return Err(Error::config(format!(
                "EVENT_BUS_URL names Redis {major}.{minor}: the event bus needs Redis 6.2 or later (XAUTOCLAIM)"
            )));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                conn,
                prefix: options.prefix.clone(),
                claim_after: options.claim_after,
                node: node_name(),
                next_consumer: AtomicU64::new(1),
                closed: watch::channel(false).0,
                inboxes: Mutex::default(),
                releases: Releases::default(),
            }),
        })
    }
}

impl Driver for RedisDriver {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::AtLeastOnce
    }

    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let shared = &self.shared;
            if shared.is_closed() {
                return Err(closed_error());
            }
            let text = serde_json::to_string(&**envelope)?;
            let mut cmd = redis::cmd("XADD");
            cmd.arg(shared.stream_key(&envelope.event))
                .arg("NOMKSTREAM");
            if is_inbox(&envelope.event) {
                cmd.arg("MAXLEN").arg("~").arg(INBOX_MAXLEN);
            }
            cmd.arg("*").arg("envelope").arg(text);
            let _id: Option<String> = cmd
                .query_async(&mut shared.conn())
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn publish_once<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let shared = &self.shared;
            if shared.is_closed() {
                return Err(closed_error());
            }
            if is_inbox(&envelope.event) {
                return self.publish(envelope).await;
            }
            let text = serde_json::to_string(&**envelope)?;
            let _id: Option<String> = scripts::XADD_ONCE
                .key(shared.stream_key(&envelope.event))
                .key(shared.published_key(envelope.id.as_str()))
                .arg(text)
                .arg(DEDUP_WINDOW.as_millis() as u64)
                .invoke_async(&mut shared.conn())
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn consume<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        Box::pin(async move {
            let shared = &self.shared;
            if shared.is_closed() {
                return Err(closed_error());
            }
            let key = shared.stream_key(topic);
            shared.create_group(&key, group).await?;
            let inbox = is_inbox(topic);
            if inbox {
                let _: () = redis::cmd("PEXPIRE")
                    .arg(&key)
                    .arg(INBOX_TTL.as_millis() as u64)
                    .query_async(&mut shared.conn())
                    .await
                    .map_err(unavailable)?;
                lock(&shared.inboxes).push(key.clone());
            }
            let n = shared.next_consumer.fetch_add(1, Ordering::Relaxed);
            let consumer = RedisConsumer::start(
                shared.clone(),
                consumer::Names {
                    topic: topic.to_string(),
                    group: group.to_string(),
                    key,
                    name: format!("{}-{n}", shared.node),
                },
                inbox,
            )?;
            Ok(Box::new(consumer) as Box<dyn Consumer>)
        })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(async move {
            let rows: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL")
                .arg(self.shared.dead_key())
                .query_async(&mut self.shared.conn())
                .await
                .map_err(unavailable)?;
            Ok(sorted_letters(rows, "redis"))
        })
    }

    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let shared = &self.shared;
            let text: Option<Vec<u8>> = redis::cmd("HGET")
                .arg(shared.dead_key())
                .arg(id)
                .query_async(&mut shared.conn())
                .await
                .map_err(unavailable)?;
            let letter = StoredLetter::parse(id, &text.ok_or_else(|| no_dead_letter(id))?)?;
            let outcome: i64 = scripts::REPLAY
                .key(shared.dead_key())
                .key(shared.stream_key(&letter.topic))
                .arg(id)
                .arg(&letter.group)
                .arg(serde_json::to_string(&letter.envelope)?)
                .invoke_async(&mut shared.conn())
                .await
                .map_err(unavailable)?;
            match outcome {
                1 => Ok(()),
                0 => Err(no_dead_letter(id)),
                _ => Err(group_gone(&letter.group, &letter.topic, id)),
            }
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let _: String = redis::cmd("PING")
                .query_async(&mut self.shared.conn())
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        let shared = self.shared.clone();
        shared.closed.send_replace(true);
        Box::pin(async move {
            shared.releases.wait(Duration::from_secs(3)).await;
            let inboxes = std::mem::take(&mut *lock(&shared.inboxes));
            if !inboxes.is_empty() {
                let mut conn = shared.conn();
                let mut del = redis::cmd("DEL");
                del.arg(inboxes);
                let deleted = del.query_async::<()>(&mut conn);
                let _ = tokio::time::timeout(Duration::from_secs(2), deleted).await;
            }
        })
    }
}
