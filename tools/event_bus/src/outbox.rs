//! The transactional outbox: an event that stands or falls with the rows
//! of a database transaction.
//!
//! Publishing to the broker inside a transaction cannot be atomic with it:
//! if the broker holds the event and the `COMMIT` then fails, consumers see
//! an event about rows that do not exist. So `bus.publish_in(txn, ..)`
//! does not touch the broker: it inserts the finished envelope into the
//! table `microcore_outbox` through `txn`, and queues a wake-up of the
//! relay for after the commit ([`Txn::after_commit`]). The relay (one task
//! per process, started by the tool once the plugins are booted) publishes
//! committed rows in `seq` order and deletes each once the driver
//! confirmed it; it wakes at every commit that wrote to the outbox, after a
//! failure retries with a backoff of up to [`RETRY_MAX`], and sweeps every
//! [`SWEEP_EVERY`] for rows nobody woke it for (left by a crash, or by
//! another replica). A row whose envelope does not decode is never
//! published nor deleted: its `error` column says why, and the log too.
//!
//! On PostgreSQL several replicas share one outbox. Each pass runs in a
//! transaction holding an advisory lock, so one relay at a time publishes
//! (global order, no row published by two relays at once); a replica that
//! finds the lock taken tries again after [`BUSY_RETRY`]. A relay that dies
//! after the broker took an event and before its `DELETE` committed leaves
//! the row: the next pass publishes it again, with the same event id,
//! through [`Driver::publish_once`](crate::driver::Driver::publish_once):
//! NATS JetStream (`Nats-Msg-Id`) and Redis (a marker key per id) drop the
//! repeat within two minutes; memory and SQLite deliver it twice
//! (at-least-once: handlers key on the event id).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use microcore::sync::lock;
use microcore::{Error, Result};
use microcore_db::{Db, Txn};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::Envelope;
use crate::shared::Core;

/// The outbox table (`tools/event_bus/migrations/`).
pub(crate) const TABLE: &str = "microcore_outbox";

/// Rows published per pass (per transaction on PostgreSQL).
const BATCH: u64 = 100;
/// How often the relay looks at the table with no wake-up.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// The longest wait between two attempts while the broker fails.
pub(crate) const RETRY_MAX: Duration = Duration::from_secs(2);
/// The first wait after a failure; doubled up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// How soon a replica that found another one relaying looks again.
pub(crate) const BUSY_RETRY: Duration = Duration::from_millis(100);
/// How long the last pass at shutdown may take.
const LAST_PASS: Duration = Duration::from_secs(2);
/// Any constant: the PostgreSQL advisory lock of the relaying replica.
const RELAY_LOCK: i64 = 0x6d63_6f75_7462_6f78;

microcore_db::migration_entry! {
    domain: "event_bus",
    name: "0001_create_outbox",
    file: "tools/event_bus/migrations/0001_create_outbox.<backend>.sql",
    up_sqlite: include_str!("../migrations/0001_create_outbox.sqlite.sql"),
    up_postgres: include_str!("../migrations/0001_create_outbox.postgres.sql"),
    down_sqlite: Some(include_str!("../migrations/0001_create_outbox.down.sql")),
    down_postgres: Some(include_str!("../migrations/0001_create_outbox.down.sql")),
}

/// `sql` with `?` placeholders numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// What a failed statement on the outbox means, with the fix when the
/// table is missing.
fn outbox_error(e: sea_orm::DbErr, doing: &str) -> Error {
    let text = e.to_string();
    if text.contains(TABLE) && (text.contains("no such table") || text.contains("does not exist")) {
        return Error::internal(format!(
            "cannot {doing}: the table {TABLE} is missing\n  = help: apply the migrations (`<app> migrate up`, or boot with DB_AUTO_MIGRATE=true): the event bus's migration event_bus/0001_create_outbox creates it"
        ));
    }
    let err = Error::from(e);
    if err.kind() == microcore::ErrorKind::Unavailable {
        return err;
    }
    Error::internal(format!("cannot {doing}: {text}"))
}

/// Inserts `envelope` into the outbox through `txn`.
pub(crate) async fn write(txn: &Txn, envelope: &Envelope) -> Result<()> {
    let text = serde_json::to_string(envelope).map_err(|e| {
        Error::internal(format!(
            "the envelope of '{}' cannot be serialized: {e}",
            envelope.event
        ))
    })?;
    let sql = "INSERT INTO microcore_outbox (id, topic, envelope, created_at) VALUES (?, ?, ?, ?)";
    let values = vec![
        envelope.id.as_str().into(),
        envelope.event.as_str().into(),
        text.into(),
        Utc::now().timestamp_millis().into(),
    ];
    txn.execute_raw(statement(txn.get_database_backend(), sql, values))
        .await
        .map_err(|e| outbox_error(e, &format!("write '{}' to the outbox", envelope.event)))?;
    Ok(())
}

/// The relay of one bus: where commits wake it, and its task.
#[derive(Debug)]
pub(crate) struct Outbox {
    db: Db,
    wake: Notify,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    started: OnceLock<()>,
}

impl Outbox {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            wake: Notify::new(),
            stop: watch::Sender::new(false),
            task: Mutex::default(),
            started: OnceLock::new(),
        }
    }

    /// A commit wrote to the outbox: look now (or as soon as the pass in
    /// progress ends).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the relay task (once); its first pass publishes what a
    /// previous run left.
    pub(crate) fn start(self: &Arc<Self>, core: &Arc<Core>) {
        if self.started.set(()).is_err() {
            return;
        }
        let task = tokio::spawn(run(self.clone(), core.clone(), self.stop.subscribe()));
        *lock(&self.task) = Some(task);
    }

    /// Stops the task after one last pass (bounded), so what was committed
    /// before the shutdown is not left for the next boot when the broker
    /// answers.
    pub(crate) async fn stop(&self) {
        self.stop.send_replace(true);
        let task = lock(&self.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(LAST_PASS + Duration::from_secs(1), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// The table has no publishable row left (as far as this pass saw).
    Empty {
        /// Rows published and deleted.
        published: usize,
    },
    /// A full batch went out: look again at once.
    More {
        /// Rows published and deleted.
        published: usize,
    },
    /// Another replica holds the relay lock (PostgreSQL).
    Busy,
}

/// One pass over the committed rows, oldest first: publish, delete what
/// the driver confirmed, stop at the first driver error (returned after
/// the deletion of what went out before it, so order is kept).
pub(crate) async fn pass(db: &Db, core: &Core) -> Result<Pass> {
    if db.backend() == DbBackend::Postgres {
        let outcome = db
            .transaction(async |txn| {
                let locked = txn
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK}) AS locked"),
                    ))
                    .await?
                    .map(|row| row.try_get::<bool>("", "locked"))
                    .transpose()?
                    .unwrap_or(false);
                if !locked {
                    return Ok(Ok(Pass::Busy));
                }
                batch(txn, core).await
            })
            .await;
        return outcome?;
    }
    batch(db, core).await.and_then(|inner| inner)
}

/// Publishes up to [`BATCH`] rows through `conn`. The outer `Result` is
/// the database's (the pass is void), the inner one the driver's (what
/// went out before it is deleted, and the pass commits).
async fn batch<C: ConnectionTrait>(conn: &C, core: &Core) -> Result<Result<Pass>> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT seq, id, envelope FROM microcore_outbox WHERE error IS NULL ORDER BY seq LIMIT {BATCH}"
            ),
            vec![],
        ))
        .await
        .map_err(|e| outbox_error(e, "read the outbox"))?;
    let full = rows.len() as u64 == BATCH;
    let mut sent: Vec<i64> = Vec::new();
    let mut failure = None;
    for row in rows {
        let seq: i64 = row.try_get("", "seq")?;
        let id: String = row.try_get("", "id")?;
        let text: String = row.try_get("", "envelope")?;
        let envelope = match decode(&id, &text) {
            Ok(envelope) => envelope,
            Err(reason) => {
                tracing::error!(
                    seq,
                    id = %id,
                    "outbox row {seq} is not published: {reason}; it stays in {TABLE} with this reason in its `error` column (fix or delete it by hand)"
                );
                conn.execute_raw(statement(
                    backend,
                    "UPDATE microcore_outbox SET error = ? WHERE seq = ?",
                    vec![reason.into(), seq.into()],
                ))
                .await
                .map_err(|e| outbox_error(e, "mark a malformed outbox row"))?;
                continue;
            }
        };
        match core.send_once(envelope).await {
            Ok(_) => sent.push(seq),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !sent.is_empty() {
        let list = sent
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        conn.execute_raw(Statement::from_string(
            backend,
            format!("DELETE FROM microcore_outbox WHERE seq IN ({list})"),
        ))
        .await
        .map_err(|e| outbox_error(e, "delete published rows from the outbox"))?;
    }
    let published = sent.len();
    Ok(match failure {
        Some(e) => Err(e),
        None if full => Ok(Pass::More { published }),
        None => Ok(Pass::Empty { published }),
    })
}

/// A stored row's envelope, or why it cannot be published.
fn decode(id: &str, text: &str) -> std::result::Result<Envelope, String> {
    let envelope: Envelope = serde_json::from_str(text)
        .map_err(|e| format!("its envelope is not a valid event envelope: {e}"))?;
    if envelope.id.as_str() != id {
        return Err(format!(
            "its envelope's id '{}' is not the row's id '{id}'",
            envelope.id
        ));
    }
    if envelope.event.trim().is_empty() {
        return Err("its envelope has an empty topic".into());
    }
    Ok(envelope)
}

/// The relay task: a pass at start, then one at each wake-up or sweep,
/// with a backoff while the broker (or the database) fails.
async fn run(outbox: Arc<Outbox>, core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut retry = RETRY_FIRST;
    let mut failing: Option<(Instant, usize)> = None;
    loop {
        let wait = match pass(&outbox.db, &core).await {
            Ok(Pass::More { published }) => {
                recovered(&mut failing, &mut retry, published, core.driver.backend());
                continue;
            }
            Ok(Pass::Empty { published }) => {
                recovered(&mut failing, &mut retry, published, core.driver.backend());
                None
            }
            Ok(Pass::Busy) => Some(BUSY_RETRY),
            Err(e) => {
                match &mut failing {
                    None => {
                        tracing::warn!(
                            backend = core.driver.backend(),
                            "cannot relay the outbox, retrying every {} s at most until it works (events stay in {TABLE} meanwhile): {}",
                            RETRY_MAX.as_secs(),
                            e.chain()
                        );
                        failing = Some((Instant::now(), 1));
                    }
                    Some((_, n)) => *n += 1,
                }
                let wait = retry;
                retry = (retry * 2).min(RETRY_MAX);
                Some(wait)
            }
        };
        if *stop.borrow() {
            break;
        }
        match wait {
            // Idle: a commit or the sweep.
            None => tokio::select! {
                _ = outbox.wake.notified() => {}
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stop.changed() => break,
            },
            // Backing off: wake-ups wait too (their permit is kept).
            Some(wait) => tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => break,
            },
        }
    }
    match tokio::time::timeout(LAST_PASS, pass(&outbox.db, &core)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(
            "the outbox's last pass before shutdown failed; what it holds goes out at the next start: {}",
            e.chain()
        ),
        Err(_) => tracing::warn!(
            "the outbox's last pass before shutdown took over {} s; what it holds goes out at the next start",
            LAST_PASS.as_secs()
        ),
    }
}

/// After a successful pass: say so once if the relay had been failing.
fn recovered(
    failing: &mut Option<(Instant, usize)>,
    retry: &mut Duration,
    published: usize,
    backend: &str,
) {
    *retry = RETRY_FIRST;
    if let Some((since, _)) = failing.take() {
        tracing::info!(
            backend,
            "relaying the outbox again after {} s ({published} event(s) in the first pass)",
            since.elapsed().as_secs()
        );
    }
}

/// What the commit of a transaction that wrote to the outbox does: wake
/// the relay, or, on a bus no tool relays for (a plugin test's struct
/// literal), publish inline so the test sees the events when the
/// transaction returns.
pub(crate) async fn committed(core: Arc<Core>, db: Db) {
    if let Some(outbox) = core.outbox.get() {
        outbox.wake();
        return;
    }
    loop {
        match pass(&db, &core).await {
            Ok(Pass::More { .. }) => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(
                    "no outbox relay runs for this bus and publishing the outbox inline failed; the event stays in {TABLE}: {}",
                    e.chain()
                );
                break;
            }
        }
    }
}
