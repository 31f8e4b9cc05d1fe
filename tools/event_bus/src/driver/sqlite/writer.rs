//! The one task that touches the SQLite file.
//!
//! Every operation (publish, claim, ack, ...) is a message to this task,
//! which runs whatever has queued up in one transaction (group commit):
//! a burst of 10,000 publishes costs a handful of commits, not 10,000, and
//! one writer never meets `SQLITE_BUSY` from itself. A batch whose
//! transaction fails is re-run one operation per transaction, so one bad
//! operation fails alone.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use sea_orm::sqlx::{self, Connection, Row, SqliteConnection};
use tokio::sync::{Notify, mpsc, oneshot};

use super::schema;

/// An operation on the store; times are epoch milliseconds.
#[derive(Debug)]
pub(super) enum Op {
    Publish {
        id: String,
        topic: String,
        envelope: String,
        now: i64,
    },
    Join {
        topic: String,
        group: String,
        now: i64,
    },
    Claim {
        topic: String,
        group: String,
        token: String,
        limit: i64,
        now: i64,
    },
    Ack {
        topic: String,
        group: String,
        seq: i64,
    },
    Retry {
        topic: String,
        group: String,
        seq: i64,
        at: i64,
    },
    Bury {
        topic: String,
        group: String,
        seq: i64,
        id: String,
        reason: String,
        attempts: i64,
        now: i64,
    },
    Release {
        token: String,
    },
    DeadLetters,
    Replay {
        id: String,
        now: i64,
    },
    Ping,
    /// Finish what came before, close the file, stop.
    Shutdown,
}

/// One stored dead letter, as read.
#[derive(Debug)]
pub(super) struct LetterRow {
    pub(super) id: String,
    pub(super) group: String,
    pub(super) envelope: String,
    pub(super) reason: String,
    pub(super) attempts: i64,
    pub(super) failed_at: i64,
}

/// What an operation answers.
#[derive(Debug)]
pub(super) enum Out {
    Done,
    /// Claimed `(seq, attempts, envelope)`, and when the next delivery is due
    /// if none was ready.
    Claimed(Vec<(i64, i64, String)>, Option<i64>),
    Letters(Vec<LetterRow>),
    /// The id named nothing.
    Missing,
}

pub(super) type Reply = oneshot::Sender<Result<Out, Arc<sqlx::Error>>>;

/// An operation and who waits for its answer (no one for a release).
#[derive(Debug)]
pub(super) struct Job {
    pub(super) op: Op,
    pub(super) reply: Option<Reply>,
}

/// Wakes the consumers of a topic when something became ready for it.
#[derive(Debug, Default)]
pub(super) struct Wakers {
    by_topic: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Wakers {
    pub(super) fn of(&self, topic: &str) -> Arc<Notify> {
        let mut map = microcore::sync::lock(&self.by_topic);
        map.entry(topic.to_string()).or_default().clone()
    }

    fn wake(&self, topic: Option<&str>) {
        let map = microcore::sync::lock(&self.by_topic);
        match topic {
            Some(topic) => {
                if let Some(n) = map.get(topic) {
                    n.notify_waiters();
                }
            }
            None => map.values().for_each(|n| n.notify_waiters()),
        }
    }
}

/// Most operations that one transaction takes.
const BATCH: usize = 512;

/// Runs until every sender is dropped, then closes the connection.
pub(super) async fn run(
    mut conn: SqliteConnection,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    wakers: Arc<Wakers>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        let stop = batch.iter().position(|j| matches!(j.op, Op::Shutdown));
        let shutdown = stop.map(|at| {
            let mut rest = batch.split_off(at);
            rest.swap_remove(0)
        });
        let outcomes = match run_batch(&mut conn, &batch).await {
            Ok(outs) => outs.into_iter().map(Ok).collect(),
            Err(_) => {
                let mut outs = Vec::with_capacity(batch.len());
                for job in &batch {
                    outs.push(
                        run_batch(&mut conn, std::slice::from_ref(job))
                            .await
                            .map(|mut one| one.pop().unwrap_or(Out::Done)),
                    );
                }
                outs
            }
        };
        let mut everyone = false;
        let mut topics = BTreeSet::new();
        for (job, out) in batch.iter().zip(&outcomes) {
            match (out, wakes(&job.op)) {
                (Err(_), _) | (_, Wake::Nobody) => {}
                (_, Wake::Topic(topic)) => {
                    topics.insert(topic);
                }
                (_, Wake::Everyone) => everyone = true,
            }
        }
        if everyone {
            wakers.wake(None);
        } else {
            topics.into_iter().for_each(|t| wakers.wake(Some(t)));
        }
        for (job, out) in batch.drain(..).zip(outcomes) {
            if let Some(reply) = job.reply {
                let _ = reply.send(out.map_err(Arc::new));
            }
        }
        if let Some(job) = shutdown {
            let _ = conn.close().await;
            if let Some(reply) = job.reply {
                let _ = reply.send(Ok(Out::Done));
            }
            return;
        }
    }
    let _ = conn.close().await;
}

/// Whose consumers an operation gives work to.
enum Wake<'a> {
    Nobody,
    Topic(&'a str),
    Everyone,
}

fn wakes(op: &Op) -> Wake<'_> {
    match op {
        Op::Publish { topic, .. } | Op::Retry { topic, .. } => Wake::Topic(topic),
        Op::Release { .. } | Op::Replay { .. } => Wake::Everyone,
        _ => Wake::Nobody,
    }
}

async fn run_batch(conn: &mut SqliteConnection, batch: &[Job]) -> Result<Vec<Out>, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut outs = Vec::with_capacity(batch.len());
    for job in batch {
        outs.push(apply(&mut tx, &job.op).await?);
    }
    tx.commit().await?;
    Ok(outs)
}

async fn apply(conn: &mut SqliteConnection, op: &Op) -> Result<Out, sqlx::Error> {
    match op {
        Op::Publish {
            id,
            topic,
            envelope,
            now,
        } => {
            let seq: Option<i64> = sqlx::query(schema::INSERT_MESSAGE)
                .bind(id)
                .bind(topic)
                .bind(envelope)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            if let Some(seq) = seq {
                sqlx::query(schema::FAN_OUT)
                    .bind(seq)
                    .bind(now)
                    .bind(topic)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(Out::Done)
        }
        Op::Join { topic, group, now } => {
            sqlx::query(schema::JOIN)
                .bind(topic)
                .bind(group)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            Ok(Out::Done)
        }
        Op::Claim {
            topic,
            group,
            token,
            limit,
            now,
        } => {
            let claimed = sqlx::query(schema::CLAIM)
                .bind(token)
                .bind(topic)
                .bind(group)
                .bind(now)
                .bind(limit)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            let rows = sqlx::query(schema::CLAIMED)
                .bind(token)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let next_due = if claimed == 0 && rows.is_empty() {
                sqlx::query(schema::NEXT_DUE)
                    .bind(topic)
                    .bind(group)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get::<Option<i64>, _>(0)?
            } else {
                None
            };
            Ok(Out::Claimed(rows, next_due))
        }
        Op::Ack { topic, group, seq } => {
            finish(conn, topic, group, *seq).await?;
            Ok(Out::Done)
        }
        Op::Retry {
            topic,
            group,
            seq,
            at,
        } => {
            sqlx::query(schema::RETRY)
                .bind(topic)
                .bind(group)
                .bind(seq)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            Ok(Out::Done)
        }
        Op::Bury {
            topic,
            group,
            seq,
            id,
            reason,
            attempts,
            now,
        } => {
            sqlx::query(schema::BURY)
                .bind(id)
                .bind(group)
                .bind(reason)
                .bind(attempts)
                .bind(now)
                .bind(seq)
                .execute(&mut *conn)
                .await?;
            finish(conn, topic, group, *seq).await?;
            Ok(Out::Done)
        }
        Op::Release { token } => {
            sqlx::query(schema::RELEASE)
                .bind(token)
                .execute(&mut *conn)
                .await?;
            Ok(Out::Done)
        }
        Op::DeadLetters => {
            let rows = sqlx::query(schema::DEAD_LETTERS)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(LetterRow {
                        id: r.try_get(0)?,
                        group: r.try_get(1)?,
                        envelope: r.try_get(2)?,
                        reason: r.try_get(3)?,
                        attempts: r.try_get(4)?,
                        failed_at: r.try_get(5)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok(Out::Letters(rows))
        }
        Op::Replay { id, now } => {
            let Some(row) = sqlx::query(schema::DEAD_LETTER)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(Out::Missing);
            };
            let (topic, group, envelope): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let event_id = serde_json::from_str::<serde_json::Value>(&envelope)
                .ok()
                .and_then(|e| e["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            let seq: i64 = sqlx::query(schema::INSERT_REPLAYED)
                .bind(event_id)
                .bind(&topic)
                .bind(&envelope)
                .bind(now)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            sqlx::query(schema::DELIVER_TO)
                .bind(seq)
                .bind(&topic)
                .bind(&group)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query(schema::FORGET_DEAD_LETTER)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(Out::Done)
        }
        Op::Ping | Op::Shutdown => {
            sqlx::query("SELECT 1").execute(&mut *conn).await?;
            Ok(Out::Done)
        }
    }
}

/// Removes a delivery and, if it was the last one, its message.
async fn finish(
    conn: &mut SqliteConnection,
    topic: &str,
    group: &str,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(schema::DELETE_DELIVERY)
        .bind(topic)
        .bind(group)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    sqlx::query(schema::COLLECT_MESSAGE)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
