//! The job table, `microcore_jobs`: the one place replicas agree on who
//! runs what.
//!
//! Every claim is a single statement whose success only one replica can
//! see: inserting the row of a cron fire (its id is the job's name and the
//! fire time, so a second insert hits the primary key and changes nothing),
//! or turning a due row to `running` with a conditional `UPDATE` (the
//! database serialises two of them on one row; the loser matches no row).
//! The SQL is plain and portable: SQLite and PostgreSQL run the same text,
//! bar the placeholders.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use microcore::Error;
use microcore_db::Db;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use crate::job::{JobKind, JobRecord, JobStatus};

/// The table's name.
pub const TABLE: &str = "microcore_jobs";

/// Finished cron fires are kept this long (their row is what stops a late
/// replica from running the fire again), then deleted.
pub(crate) const KEEP_DONE: Duration = Duration::from_secs(3600);

/// Failed cron fires are kept longer, for whoever investigates.
pub(crate) const KEEP_FAILED: Duration = Duration::from_secs(7 * 24 * 3600);

const CREATE: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS microcore_jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        handler TEXT NOT NULL,
        scheduled_at BIGINT NOT NULL,
        due_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        claimed_by TEXT,
        lease_until BIGINT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS microcore_jobs_due ON microcore_jobs (status, due_at)",
];

/// Any constant: replicas creating the table at once take turns on it.
const CREATE_LOCK: i64 = 0x6d63_5f6a_6f62;

/// A row this scheduler just claimed: it runs it, nobody else does.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: JobKind,
    pub(crate) handler: String,
    pub(crate) scheduled: DateTime<Utc>,
    pub(crate) attempt: u32,
}

/// A row the poll found due, not yet claimed.
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: JobKind,
    pub(crate) handler: String,
    pub(crate) scheduled_at: i64,
}

/// The job table through one database handle.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    db: Db,
}

/// The id of a one-shot job's row.
pub(crate) fn once_id(name: &str) -> String {
    format!("once:{name}")
}

/// The id of one cron fire's row: the claim key.
pub(crate) fn fire_id(name: &str, fire: DateTime<Utc>) -> String {
    format!("cron:{name}@{}", fire.timestamp_millis())
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn ms_of(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = self.db.backend();
        let sql = match backend {
            DbBackend::Postgres => numbered(sql),
            _ => sql.to_string(),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    async fn execute(&self, sql: &str, values: Vec<Value>) -> Result<u64, Error> {
        Ok(self
            .db
            .execute_raw(self.stmt(sql, values))
            .await?
            .rows_affected())
    }

    /// Creates the table and its index if missing.
    pub(crate) async fn create(&self) -> Result<(), Error> {
        if self.db.backend() == DbBackend::Postgres {
            // Two replicas booting together would race on PostgreSQL's
            // catalog ("duplicate key ... pg_type") even with IF NOT EXISTS.
            return self
                .db
                .transaction(async |txn| {
                    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CREATE_LOCK})"))
                        .await?;
                    for sql in CREATE {
                        txn.execute_unprepared(sql).await?;
                    }
                    Ok(())
                })
                .await;
        }
        for sql in CREATE {
            self.db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    /// One cheap query on the table.
    pub(crate) async fn ping(&self) -> Result<(), Error> {
        self.db
            .query_one_raw(self.stmt(
                "SELECT count(*) AS n FROM microcore_jobs WHERE id = ''",
                vec![],
            ))
            .await?;
        Ok(())
    }

    /// Stores one-shot job `name` unless a job of that name exists; `true`
    /// when this call stored it.
    pub(crate) async fn insert_once(
        &self,
        name: &str,
        handler: &str,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let (due, now) = (millis(due), millis(now));
        let inserted = self
            .execute(
                "INSERT INTO microcore_jobs (id, name, kind, handler, scheduled_at, due_at, status, attempt, created_at, updated_at) \
                 VALUES (?, ?, 'once', ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING",
                vec![
                    once_id(name).into(),
                    name.into(),
                    handler.into(),
                    due.into(),
                    due.into(),
                    now.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok(inserted == 1)
    }

    /// Claims one fire of cron job `name` by inserting its row; `None` when
    /// another scheduler inserted it first.
    pub(crate) async fn claim_fire(
        &self,
        name: &str,
        handler: &str,
        fire: DateTime<Utc>,
        me: &str,
        lease: Duration,
    ) -> Result<Option<Claim>, Error> {
        let now = millis(Utc::now());
        let id = fire_id(name, fire);
        let inserted = self
            .execute(
                "INSERT INTO microcore_jobs (id, name, kind, handler, scheduled_at, due_at, status, attempt, claimed_by, lease_until, created_at, updated_at) \
                 VALUES (?, ?, 'cron', ?, ?, ?, 'running', 1, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                vec![
                    id.clone().into(),
                    name.into(),
                    handler.into(),
                    millis(fire).into(),
                    millis(fire).into(),
                    me.into(),
                    (now + ms_of(lease)).into(),
                    now.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok((inserted == 1).then(|| Claim {
            id,
            name: name.to_string(),
            kind: JobKind::Cron,
            handler: handler.to_string(),
            scheduled: fire,
            attempt: 1,
        }))
    }

    /// Rows that may be claimed now and that one of `handlers` runs:
    /// pending and due, or running on a lease that ran out (their runner
    /// died), oldest first.
    pub(crate) async fn due(
        &self,
        now: DateTime<Utc>,
        handlers: &BTreeSet<String>,
        limit: u32,
    ) -> Result<Vec<Due>, Error> {
        let now = millis(now);
        let marks = vec!["?"; handlers.len()].join(", ");
        let mut values: Vec<Value> = vec![now.into(), now.into()];
        values.extend(handlers.iter().map(|h| Value::from(h.as_str())));
        values.push(i64::from(limit).into());
        let rows = self
            .db
            .query_all_raw(self.stmt(
                &format!(
                    "SELECT id, name, kind, handler, scheduled_at FROM microcore_jobs \
                     WHERE ((status = 'pending' AND due_at <= ?) OR (status = 'running' AND lease_until < ?)) \
                     AND handler IN ({marks}) ORDER BY due_at LIMIT ?"
                ),
                values,
            ))
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Due {
                    id: row.try_get("", "id")?,
                    name: row.try_get("", "name")?,
                    kind: JobKind::parse(&row.try_get::<String>("", "kind")?),
                    handler: row.try_get("", "handler")?,
                    scheduled_at: row.try_get("", "scheduled_at")?,
                })
            })
            .collect()
    }

    /// Claims a due row (see [`Store::due`]); `None` when another
    /// scheduler got it first.
    pub(crate) async fn claim(
        &self,
        due: &Due,
        me: &str,
        lease: Duration,
    ) -> Result<Option<Claim>, Error> {
        let now = millis(Utc::now());
        let row = self
            .db
            .query_one_raw(self.stmt(
                "UPDATE microcore_jobs SET status = 'running', attempt = attempt + 1, claimed_by = ?, \
                 lease_until = ?, updated_at = ? \
                 WHERE id = ? AND ((status = 'pending' AND due_at <= ?) OR (status = 'running' AND lease_until < ?)) \
                 RETURNING attempt",
                vec![
                    me.into(),
                    (now + ms_of(lease)).into(),
                    now.into(),
                    due.id.clone().into(),
                    now.into(),
                    now.into(),
                ],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let attempt: i64 = row.try_get("", "attempt")?;
        Ok(Some(Claim {
            id: due.id.clone(),
            name: due.name.clone(),
            kind: due.kind,
            handler: due.handler.clone(),
            scheduled: time(due.scheduled_at),
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        }))
    }

    /// Extends a running claim; `false` when it is no longer ours.
    pub(crate) async fn renew(&self, id: &str, me: &str, lease: Duration) -> Result<bool, Error> {
        let now = millis(Utc::now());
        let renewed = self
            .execute(
                "UPDATE microcore_jobs SET lease_until = ?, updated_at = ? \
                 WHERE id = ? AND claimed_by = ? AND status = 'running'",
                vec![
                    (now + ms_of(lease)).into(),
                    now.into(),
                    id.into(),
                    me.into(),
                ],
            )
            .await?;
        Ok(renewed == 1)
    }

    /// The run succeeded.
    pub(crate) async fn done(&self, id: &str, me: &str) -> Result<(), Error> {
        let now = millis(Utc::now());
        self.execute(
            "UPDATE microcore_jobs SET status = 'done', lease_until = NULL, last_error = NULL, updated_at = ? \
             WHERE id = ? AND claimed_by = ?",
            vec![now.into(), id.into(), me.into()],
        )
        .await?;
        Ok(())
    }

    /// The run failed and will be tried again at `due`, by any scheduler.
    pub(crate) async fn retry(
        &self,
        id: &str,
        me: &str,
        due: DateTime<Utc>,
        error: &str,
    ) -> Result<(), Error> {
        let now = millis(Utc::now());
        self.execute(
            "UPDATE microcore_jobs SET status = 'pending', due_at = ?, lease_until = NULL, last_error = ?, updated_at = ? \
             WHERE id = ? AND claimed_by = ?",
            vec![
                millis(due).into(),
                error.into(),
                now.into(),
                id.into(),
                me.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The job failed for good.
    pub(crate) async fn fail(&self, id: &str, me: &str, error: &str) -> Result<(), Error> {
        let now = millis(Utc::now());
        self.execute(
            "UPDATE microcore_jobs SET status = 'failed', lease_until = NULL, last_error = ?, updated_at = ? \
             WHERE id = ? AND claimed_by = ?",
            vec![error.into(), now.into(), id.into(), me.into()],
        )
        .await?;
        Ok(())
    }

    /// Gives a claim back untouched (its handler went away meanwhile).
    pub(crate) async fn release(&self, id: &str, me: &str) -> Result<(), Error> {
        self.execute(
            "UPDATE microcore_jobs SET status = 'pending', attempt = attempt - 1, claimed_by = NULL, lease_until = NULL \
             WHERE id = ? AND claimed_by = ? AND status = 'running'",
            vec![id.into(), me.into()],
        )
        .await?;
        Ok(())
    }

    /// Deletes old finished cron fires; one-shot jobs stay, since their row
    /// is what keeps a re-declared job from running twice.
    pub(crate) async fn prune(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let now = millis(now);
        self.execute(
            "DELETE FROM microcore_jobs WHERE kind = 'cron' AND \
             ((status = 'done' AND updated_at < ?) OR (status = 'failed' AND updated_at < ?))",
            vec![
                (now - ms_of(KEEP_DONE)).into(),
                (now - ms_of(KEEP_FAILED)).into(),
            ],
        )
        .await
    }

    /// Deletes one-shot job `name` unless it is running; `true` if it existed.
    pub(crate) async fn cancel(&self, name: &str) -> Result<bool, Error> {
        let deleted = self
            .execute(
                "DELETE FROM microcore_jobs WHERE id = ? AND status <> 'running'",
                vec![once_id(name).into()],
            )
            .await?;
        Ok(deleted == 1)
    }

    /// Every row of job `name`, by scheduled time.
    pub(crate) async fn records(&self, name: &str) -> Result<Vec<JobRecord>, Error> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT name, kind, scheduled_at, due_at, status, attempt, claimed_by, last_error, updated_at \
                 FROM microcore_jobs WHERE name = ? ORDER BY scheduled_at, id",
                vec![name.into()],
            ))
            .await?;
        rows.iter().map(record).collect()
    }

    /// Every job's rows counted per status: one aggregate query, whatever
    /// the number of one-shot rows.
    pub(crate) async fn tallies(&self) -> Result<Vec<Tally>, Error> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT kind, CASE WHEN kind = 'cron' THEN name ELSE handler END AS job, status, \
                 count(*) AS n, min(due_at) AS due, max(updated_at) AS updated \
                 FROM microcore_jobs GROUP BY 1, 2, 3",
                vec![],
            ))
            .await?;
        rows.iter().map(tally).collect()
    }

    /// The handlers of rows waiting to run, with how many wait for each.
    pub(crate) async fn waiting_handlers(&self) -> Result<Vec<(String, i64)>, Error> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT handler, count(*) AS n FROM microcore_jobs WHERE status = 'pending' GROUP BY handler ORDER BY handler",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("", "handler")?, row.try_get("", "n")?)))
            .collect()
    }
}

fn record(row: &QueryResult) -> Result<JobRecord, Error> {
    let attempts: i64 = row.try_get("", "attempt")?;
    Ok(JobRecord {
        name: row.try_get("", "name")?,
        kind: JobKind::parse(&row.try_get::<String>("", "kind")?),
        scheduled: time(row.try_get("", "scheduled_at")?),
        due: time(row.try_get("", "due_at")?),
        status: JobStatus::parse(&row.try_get::<String>("", "status")?),
        attempts: u32::try_from(attempts).unwrap_or(0),
        claimed_by: row.try_get("", "claimed_by")?,
        last_error: row.try_get("", "last_error")?,
        updated: time(row.try_get("", "updated_at")?),
    })
}

/// How many rows of one job stand in one status, and when (a cron job is
/// counted by name, one-shot jobs by their handler).
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    pub(crate) kind: JobKind,
    /// The cron job's name, or the one-shot jobs' handler.
    pub(crate) job: String,
    pub(crate) status: JobStatus,
    pub(crate) rows: u64,
    /// The earliest `due_at` among them.
    pub(crate) due: DateTime<Utc>,
    /// The latest `updated_at` among them.
    pub(crate) updated: DateTime<Utc>,
}

fn tally(row: &QueryResult) -> Result<Tally, Error> {
    let rows: i64 = row.try_get("", "n")?;
    Ok(Tally {
        kind: JobKind::parse(&row.try_get::<String>("", "kind")?),
        job: row.try_get("", "job")?,
        status: JobStatus::parse(&row.try_get::<String>("", "status")?),
        rows: u64::try_from(rows).unwrap_or(0),
        due: time(row.try_get("", "due")?),
        updated: time(row.try_get("", "updated")?),
    })
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, … (the SQL here holds no
/// `?` inside a literal).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("UPDATE t SET a = ? WHERE id = ? AND b < ?"),
            "UPDATE t SET a = $1 WHERE id = $2 AND b < $3"
        );
    }

    #[test]
    fn fire_ids_are_the_name_and_the_time() {
        let fire = time(1_700_000_001_000);
        assert_eq!(fire_id("tick", fire), "cron:tick@1700000001000");
        assert_eq!(once_id("welcome"), "once:welcome");
    }
}
