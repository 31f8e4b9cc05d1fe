//! `sqlite://<path>`: the durable driver.
//!
//! Messages and per-group delivery state live in one SQLite file (tables in
//! [`schema`]), so a delivery not acknowledged before a crash comes again
//! after the restart: at-least-once. Consumers claim deliveries in batches
//! and are woken by publishes in this process; they also poll once a
//! second (and when a retry falls due), which covers a second process on
//! the same file. One process per file is the intended use: several
//! replicas want Redis Streams or NATS JetStream.

mod schema;
mod writer;

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures::future::BoxFuture;
use microcore::{Error, Result};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sea_orm::sqlx::{self, Connection};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::{Consumer, DeadLetter, Delivery, Driver, Guarantee, no_dead_letter, unavailable};
use crate::Envelope;
use writer::{Job, Op, Out, Wakers};

/// How many deliveries a consumer claims at once.
const CLAIM_BATCH: i64 = 64;

/// The longest a consumer sleeps before looking again.
const POLL: Duration = Duration::from_secs(1);

/// The durable driver (`sqlite://<path>`).
///
/// ```
/// use std::sync::Arc;
/// use microcore_event_bus::{Envelope, driver::{Driver, SqliteDriver}};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("bus.db");
/// let driver = SqliteDriver::open(path.to_str().unwrap()).await?;
/// let consumer = driver.consume("t", "g").await?;
/// driver.publish(&Arc::new(Envelope::new("t", serde_json::json!(1), "app"))).await?;
/// let delivery = consumer.next().await?.unwrap();
/// consumer.ack(&delivery).await?;
/// driver.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteDriver {
    jobs: mpsc::UnboundedSender<Job>,
    wakers: Arc<Wakers>,
    closed: watch::Sender<bool>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn closed_error() -> Error {
    Error::unavailable(std::io::Error::other("the SQLite event bus is closed"))
}

/// Sends `op` to the writer and waits for its answer.
async fn call(jobs: &mpsc::UnboundedSender<Job>, op: Op) -> Result<Out> {
    let (reply, answer) = oneshot::channel();
    jobs.send(Job {
        op,
        reply: Some(reply),
    })
    .map_err(|_| closed_error())?;
    answer
        .await
        .map_err(|_| closed_error())?
        .map_err(unavailable)
}

impl SqliteDriver {
    /// Opens (creating if needed) the store at `path` (`:memory:` for a
    /// throwaway one), makes every delivery a dead process had claimed
    /// ready again, and drops the reply inboxes of earlier processes.
    ///
    /// # Errors
    /// [`Error::unavailable`] when the file cannot be opened or migrated.
    pub async fn open(path: &str) -> Result<Self> {
        let options = if path == ":memory:" {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(unavailable)?
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        };
        let mut conn = SqliteConnection::connect_with(&options)
            .await
            .map_err(unavailable)?;
        for statement in schema::CREATE {
            sqlx::query(*statement)
                .execute(&mut conn)
                .await
                .map_err(unavailable)?;
        }
        for statement in schema::FORGET_INBOXES.iter().chain([&schema::RELEASE_ALL]) {
            sqlx::query(*statement)
                .execute(&mut conn)
                .await
                .map_err(unavailable)?;
        }
        let (jobs, rx) = mpsc::unbounded_channel();
        let wakers = Arc::new(Wakers::default());
        let writer = tokio::spawn(writer::run(conn, rx, wakers.clone()));
        Ok(Self {
            jobs,
            wakers,
            closed: watch::channel(false).0,
            writer: Mutex::new(Some(writer)),
        })
    }
}

impl Driver for SqliteDriver {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::AtLeastOnce
    }

    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let op = Op::Publish {
                id: envelope.id.to_string(),
                topic: envelope.event.clone(),
                envelope: serde_json::to_string(&**envelope)?,
                now: now_ms(),
            };
            call(&self.jobs, op).await.map(drop)
        })
    }

    fn consume<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        Box::pin(async move {
            let op = Op::Join {
                topic: topic.to_string(),
                group: group.to_string(),
                now: now_ms(),
            };
            call(&self.jobs, op).await?;
            let consumer: Box<dyn Consumer> = Box::new(SqliteConsumer {
                topic: topic.to_string(),
                group: group.to_string(),
                token: uuid::Uuid::new_v4().to_string(),
                jobs: self.jobs.clone(),
                wake: self.wakers.of(topic),
                closed: self.closed.subscribe(),
                buffer: tokio::sync::Mutex::new(VecDeque::new()),
            });
            Ok(consumer)
        })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(async move {
            let Out::Letters(rows) = call(&self.jobs, Op::DeadLetters).await? else {
                return Ok(Vec::new());
            };
            rows.into_iter()
                .map(|row| {
                    Ok(DeadLetter {
                        id: row.id,
                        envelope: serde_json::from_str(&row.envelope)?,
                        group: row.group,
                        reason: row.reason,
                        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                        failed_at: Utc
                            .timestamp_millis_opt(row.failed_at)
                            .single()
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
    }

    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let op = Op::Replay {
                id: id.to_string(),
                now: now_ms(),
            };
            match call(&self.jobs, op).await? {
                Out::Missing => Err(no_dead_letter(id)),
                _ => Ok(()),
            }
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { call(&self.jobs, Op::Ping).await.map(drop) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.closed.send_replace(true);
        let writer = microcore::sync::lock(&self.writer).take();
        Box::pin(async move {
            if writer.is_some() {
                let _ = call(&self.jobs, Op::Shutdown).await;
            }
            if let Some(writer) = writer {
                let _ = writer.await;
            }
        })
    }
}

/// One member of a group, holding a batch of claimed deliveries.
#[derive(Debug)]
struct SqliteConsumer {
    topic: String,
    group: String,
    token: String,
    jobs: mpsc::UnboundedSender<Job>,
    wake: Arc<Notify>,
    closed: watch::Receiver<bool>,
    buffer: tokio::sync::Mutex<VecDeque<Delivery>>,
}

impl SqliteConsumer {
    /// Claims the next batch; returns how long to wait when none was ready.
    async fn claim(&self, buffer: &mut VecDeque<Delivery>) -> Result<Option<Duration>> {
        let op = Op::Claim {
            topic: self.topic.clone(),
            group: self.group.clone(),
            token: self.token.clone(),
            limit: CLAIM_BATCH,
            now: now_ms(),
        };
        let Out::Claimed(rows, next_due) = call(&self.jobs, op).await? else {
            return Ok(Some(POLL));
        };
        if rows.is_empty() {
            let wait = next_due
                .map(|due| Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)))
                .map_or(POLL, |w| w.min(POLL));
            return Ok(Some(wait));
        }
        for (seq, attempts, text) in rows {
            let receipt = seq.to_string();
            let attempt = u32::try_from(attempts).unwrap_or(u32::MAX).max(1);
            match serde_json::from_str::<Envelope>(&text) {
                Ok(envelope) => buffer.push_back(Delivery {
                    envelope: Arc::new(envelope),
                    attempt,
                    receipt,
                }),
                Err(e) => self.bury_unreadable(seq, attempt, &e.to_string()).await?,
            }
        }
        Ok(None)
    }

    /// A row that no longer parses as an envelope cannot reach a handler:
    /// keep it as a dead letter rather than loop on it.
    async fn bury_unreadable(&self, seq: i64, attempt: u32, why: &str) -> Result<()> {
        tracing::error!(topic = %self.topic, group = %self.group, "stored event {seq} is unreadable: {why}");
        let op = Op::Bury {
            topic: self.topic.clone(),
            group: self.group.clone(),
            seq,
            id: uuid::Uuid::new_v4().to_string(),
            reason: format!("the stored envelope is unreadable: {why}"),
            attempts: i64::from(attempt),
            now: now_ms(),
        };
        call(&self.jobs, op).await.map(drop)
    }

    fn seq(delivery: &Delivery) -> i64 {
        delivery.receipt.parse().unwrap_or(i64::MAX)
    }
}

impl Consumer for SqliteConsumer {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        Box::pin(async move {
            let mut buffer = self.buffer.lock().await;
            let mut closed = self.closed.clone();
            loop {
                if *closed.borrow() {
                    return Ok(None);
                }
                if let Some(delivery) = buffer.pop_front() {
                    return Ok(Some(delivery));
                }
                let notified = self.wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(wait) = self.claim(&mut buffer).await? {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(wait) => {}
                        _ = closed.wait_for(|c| *c) => {}
                    }
                }
            }
        })
    }

    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        let op = Op::Ack {
            topic: self.topic.clone(),
            group: self.group.clone(),
            seq: Self::seq(delivery),
        };
        Box::pin(async move { call(&self.jobs, op).await.map(drop) })
    }

    fn retry<'a>(&'a self, delivery: &'a Delivery, delay: Duration) -> BoxFuture<'a, Result<()>> {
        let delay = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
        let op = Op::Retry {
            topic: self.topic.clone(),
            group: self.group.clone(),
            seq: Self::seq(delivery),
            at: now_ms().saturating_add(delay),
        };
        Box::pin(async move { call(&self.jobs, op).await.map(drop) })
    }

    fn dead<'a>(&'a self, delivery: &'a Delivery, reason: &'a str) -> BoxFuture<'a, Result<()>> {
        let op = Op::Bury {
            topic: self.topic.clone(),
            group: self.group.clone(),
            seq: Self::seq(delivery),
            id: uuid::Uuid::new_v4().to_string(),
            reason: reason.to_string(),
            attempts: i64::from(delivery.attempt),
            now: now_ms(),
        };
        Box::pin(async move { call(&self.jobs, op).await.map(drop) })
    }
}

impl Drop for SqliteConsumer {
    /// What this consumer claimed but never finished is ready again for
    /// the rest of its group.
    fn drop(&mut self) {
        let _ = self.jobs.send(Job {
            op: Op::Release {
                token: self.token.clone(),
            },
            reply: None,
        });
    }
}
