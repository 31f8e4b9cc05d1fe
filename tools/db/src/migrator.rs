//! Applying, reverting and listing migrations, recorded in the table
//! `microcore_migrations(domain, name, checksum, applied_at)`.
//!
//! Each migration runs in its own transaction together with its record, so
//! a file is applied whole or not at all (SQLite and PostgreSQL both roll
//! back DDL). On PostgreSQL a transaction-scoped advisory lock serialises
//! replicas booting at once; on SQLite an immediate transaction does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Instant;

use microcore::{Error, ErrorKind};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};

use crate::migration::Migration;
use crate::split;

/// The table that records applied migrations.
pub const TABLE: &str = "microcore_migrations";

/// Arbitrary, fixed: the PostgreSQL advisory lock every migrating replica takes.
const LOCK_KEY: i64 = 0x6d69_6372_6f63_6f72;

/// Which migrations `up` and `down` touch.
///
/// ```
/// use microcore_db::Selection;
/// let all = Selection::default();
/// let last_of_users = Selection { domain: Some("users".into()), steps: Some(1) };
/// # let _ = (all, last_of_users);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this domain's migrations (all domains when `None`).
    pub domain: Option<String>,
    /// At most this many: `up` applies all pending ones when `None`,
    /// `down` reverts one.
    pub steps: Option<usize>,
}

/// Where a migration stands in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Not applied yet.
    Pending,
    /// Applied at this time (RFC 3339, UTC).
    Applied {
        /// When.
        at: String,
    },
    /// Applied, but its file has changed since: `up` refuses to run.
    Changed {
        /// When it was applied.
        at: String,
    },
    /// Recorded as applied, but no such migration is in this binary (a
    /// deleted file, or a binary older than the database).
    Unknown {
        /// When it was applied.
        at: String,
    },
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationState::Pending => f.write_str("pending"),
            MigrationState::Applied { at } => f.write_str(at),
            MigrationState::Changed { at } => write!(f, "{at} (CHANGED since applied)"),
            MigrationState::Unknown { at } => write!(f, "{at} (not in this binary)"),
        }
    }
}

/// One line of `migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The domain that owns it.
    pub domain: String,
    /// Its name (`0001_create_users`).
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
}

struct Record {
    checksum: String,
    applied_at: String,
}

type Records = BTreeMap<(String, String), Record>;

/// Every known migration and every recorded one, known ones in run order,
/// then the recorded ones this binary does not know.
pub(crate) async fn status(
    conn: &DatabaseConnection,
    migrations: &[Migration],
) -> Result<Vec<MigrationStatus>, Error> {
    let backend = conn.get_database_backend();
    let ordered = ordered(migrations)?;
    ensure_table(conn).await?;
    let mut records = records(conn).await?;
    let mut out = Vec::new();
    for m in ordered {
        let state = match records.remove(&key(m)) {
            None => MigrationState::Pending,
            Some(r) if r.checksum != m.checksum(backend) => {
                MigrationState::Changed { at: r.applied_at }
            }
            Some(r) => MigrationState::Applied { at: r.applied_at },
        };
        out.push(line(m.domain, m.name, state));
    }
    for ((domain, name), r) in records {
        out.push(line(
            &domain,
            &name,
            MigrationState::Unknown { at: r.applied_at },
        ));
    }
    Ok(out)
}

/// Applies pending migrations in order; returns those it applied.
pub(crate) async fn up(
    conn: &DatabaseConnection,
    migrations: &[Migration],
    selection: &Selection,
) -> Result<Vec<MigrationStatus>, Error> {
    let backend = conn.get_database_backend();
    let ordered: Vec<&Migration> = ordered(migrations)?
        .into_iter()
        .filter(|m| selection.domain.as_deref().is_none_or(|d| d == m.domain))
        .collect();
    ensure_table(conn).await?;
    let records = records(conn).await?;
    for m in &ordered {
        if let Some(r) = records.get(&key(m)) {
            check_unchanged(m, r, backend)?;
        }
    }
    let pending = ordered
        .into_iter()
        .filter(|m| !records.contains_key(&key(m)))
        .take(selection.steps.unwrap_or(usize::MAX));
    let mut applied = Vec::new();
    for m in pending {
        let started = Instant::now();
        if let Some(at) = apply(conn, m).await? {
            tracing::info!(
                "applied migration {} in {} ms",
                m.up_file(backend),
                started.elapsed().as_millis()
            );
            applied.push(line(m.domain, m.name, MigrationState::Applied { at }));
        }
    }
    Ok(applied)
}

/// Reverts the most recently applied migrations (one unless `steps` says
/// otherwise); returns those it reverted.
pub(crate) async fn down(
    conn: &DatabaseConnection,
    migrations: &[Migration],
    selection: &Selection,
) -> Result<Vec<MigrationStatus>, Error> {
    let backend = conn.get_database_backend();
    let known: BTreeMap<(String, String), &Migration> = ordered(migrations)?
        .into_iter()
        .map(|m| (key(m), m))
        .collect();
    ensure_table(conn).await?;
    let mut applied: Vec<((String, String), Record)> = records(conn)
        .await?
        .into_iter()
        .filter(|((domain, _), _)| selection.domain.as_deref().is_none_or(|d| d == domain))
        .collect();
    // Latest first; within one boot's millisecond, the reverse of run order.
    applied.sort_by(|(ka, a), (kb, b)| (&b.applied_at, kb).cmp(&(&a.applied_at, ka)));
    let mut reverted = Vec::new();
    for ((domain, name), _) in applied.into_iter().take(selection.steps.unwrap_or(1)) {
        let Some(m) = known.get(&(domain.clone(), name.clone())) else {
            return Err(Error::internal(format!(
                "migration {domain}/{name} is recorded as applied but is not in this binary, so it cannot be reverted\n  = help: restore its file under domains/{domain}/migrations/, or delete its row from {TABLE} by hand"
            )));
        };
        let Some(sql) = m.down(backend) else {
            return Err(Error::internal(format!(
                "migration {} has no down file, so it cannot be reverted\n  = help: add {} (or one per backend, {}.<backend>.down.sql)",
                m.up_file(backend),
                m.down_file(backend),
                m.name
            )));
        };
        revert(conn, m, sql).await?;
        tracing::info!("reverted migration {}", m.up_file(backend));
        reverted.push(line(&domain, &name, MigrationState::Pending));
    }
    Ok(reverted)
}

/// Known migrations in run order: by domain, then name. Two with one name
/// are a mistake worth stopping for.
fn ordered(migrations: &[Migration]) -> Result<Vec<&Migration>, Error> {
    let mut ordered: Vec<&Migration> = migrations.iter().collect();
    ordered.sort_by_key(|m| (m.domain, m.name));
    let mut seen = BTreeSet::new();
    for m in &ordered {
        if !seen.insert((m.domain, m.name)) {
            return Err(Error::internal(format!(
                "migration {} is defined twice; each migration name must be unique within its domain",
                m.id()
            )));
        }
    }
    Ok(ordered)
}

fn key(m: &Migration) -> (String, String) {
    (m.domain.to_string(), m.name.to_string())
}

fn line(domain: &str, name: &str, state: MigrationState) -> MigrationStatus {
    MigrationStatus {
        domain: domain.to_string(),
        name: name.to_string(),
        state,
    }
}

fn check_unchanged(m: &Migration, r: &Record, backend: DbBackend) -> Result<(), Error> {
    let now = m.checksum(backend);
    if now == r.checksum {
        return Ok(());
    }
    Err(Error::internal(format!(
        "migration {} was changed after it was applied at {} (recorded checksum {}, file now {})\n  = help: restore the file as it was and put the change in a new migration",
        m.up_file(backend),
        r.applied_at,
        r.checksum,
        now
    )))
}

async fn ensure_table(conn: &DatabaseConnection) -> Result<(), Error> {
    let ddl = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (domain TEXT NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, name))"
    );
    let txn = begin(conn).await.map_err(table_error)?;
    txn.execute_unprepared(&ddl).await.map_err(table_error)?;
    txn.commit().await.map_err(table_error)
}

fn table_error(e: DbErr) -> Error {
    context(&format!("cannot prepare the {TABLE} table"), &e)
}

/// A database error met outside a migration's own SQL, with what was being done.
fn context(what: &str, e: &DbErr) -> Error {
    Error::new(kind_of(e), format!("{what}: {}", database_message(e)))
}

fn kind_of(e: &DbErr) -> ErrorKind {
    if is_connection_error(e) {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Internal
    }
}

async fn records(conn: &impl ConnectionTrait) -> Result<Records, Error> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT domain, name, checksum, applied_at FROM {TABLE}"),
        ))
        .await
        .map_err(|e| context(&format!("cannot read {TABLE}"), &e))?;
    let mut records = Records::new();
    for row in rows {
        let get = |col: &str| {
            row.try_get::<String>("", col)
                .map_err(|e| context(&format!("cannot read {TABLE}"), &e))
        };
        records.insert(
            (get("domain")?, get("name")?),
            Record {
                checksum: get("checksum")?,
                applied_at: get("applied_at")?,
            },
        );
    }
    Ok(records)
}

/// Starts the transaction of one migration step, holding the migration lock.
async fn begin(conn: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = conn
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    if conn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))
            .await?;
    }
    Ok(txn)
}

/// Applies one migration and records it; `None` when another replica
/// applied it in the meantime.
async fn apply(conn: &DatabaseConnection, m: &Migration) -> Result<Option<String>, Error> {
    let backend = conn.get_database_backend();
    let file = m.up_file(backend);
    let step_error = |e: DbErr| failure(&file, None, &e);
    let txn = begin(conn).await.map_err(step_error)?;
    if let Some(r) = records(&txn).await?.get(&key(m)) {
        check_unchanged(m, r, backend)?;
        return Ok(None);
    }
    let sql = m.up(backend);
    let txn = run_file(conn, txn, &file, sql).await?;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let values = [m.domain, m.name, &m.checksum(backend), &at].map(|v| Value::from(v.to_string()));
    let insert = format!(
        "INSERT INTO {TABLE} (domain, name, checksum, applied_at) VALUES ({})",
        placeholders(backend, 4)
    );
    txn.execute_raw(Statement::from_sql_and_values(backend, insert, values))
        .await
        .map_err(step_error)?;
    txn.commit().await.map_err(step_error)?;
    Ok(Some(at))
}

async fn revert(conn: &DatabaseConnection, m: &Migration, sql: &str) -> Result<(), Error> {
    let backend = conn.get_database_backend();
    let file = format!("{} (down)", m.up_file(backend));
    let step_error = |e: DbErr| failure(&file, None, &e);
    let txn = begin(conn).await.map_err(step_error)?;
    let txn = run_file(conn, txn, &file, sql).await?;
    let delete = format!(
        "DELETE FROM {TABLE} WHERE domain = {} AND name = {}",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    let values = [m.domain, m.name].map(|v| Value::from(v.to_string()));
    txn.execute_raw(Statement::from_sql_and_values(backend, delete, values))
        .await
        .map_err(step_error)?;
    txn.commit().await.map_err(step_error)
}

/// Runs a whole file in `txn`; on failure, rolls back and names the
/// failing statement.
async fn run_file(
    conn: &DatabaseConnection,
    txn: DatabaseTransaction,
    file: &str,
    sql: &str,
) -> Result<DatabaseTransaction, Error> {
    if split::statements(sql).is_empty() {
        return Ok(txn);
    }
    match txn.execute_unprepared(sql).await {
        Ok(_) => Ok(txn),
        Err(e) => {
            drop(txn.rollback().await);
            Err(diagnose(conn, file, sql, &e).await)
        }
    }
}

/// The file failed as a whole: replay it statement by statement in a
/// transaction that is rolled back, to name the statement that fails.
async fn diagnose(conn: &DatabaseConnection, file: &str, sql: &str, first: &DbErr) -> Error {
    if is_connection_error(first) {
        return failure(file, None, first);
    }
    let Ok(txn) = begin(conn).await else {
        return failure(file, None, first);
    };
    let pieces = split::statements(sql);
    let count = pieces.len();
    for (index, piece) in pieces.into_iter().enumerate() {
        if let Err(e) = txn.execute_unprepared(piece.sql).await {
            drop(txn.rollback().await);
            return failure(file, Some((index + 1, count, piece)), &e);
        }
    }
    drop(txn.rollback().await);
    failure(file, None, first)
}

fn is_connection_error(e: &DbErr) -> bool {
    crate::classify::is_unavailable(e)
}

/// The one error a failed migration stops the boot with.
fn failure(file: &str, statement: Option<(usize, usize, split::Piece<'_>)>, e: &DbErr) -> Error {
    let mut message = format!("migration {file} failed");
    if let Some((index, count, piece)) = statement {
        let shown: String = piece.sql.chars().take(400).collect();
        let ellipsis = if shown.len() < piece.sql.len() {
            " …"
        } else {
            ""
        };
        message.push_str(&format!(
            " at statement {index} of {count} (line {}):\n    {}{ellipsis}",
            piece.line,
            shown.replace('\n', "\n    ")
        ));
    }
    message.push_str(&format!(
        "\n  database said: {}\n  = note: nothing of this file was applied (it ran in a transaction)",
        database_message(e)
    ));
    Error::new(kind_of(e), message)
}

/// The database's own words: its message and code, without sea-orm's and
/// sqlx's wrapping ("Execution Error: error returned from database: …").
pub(crate) fn database_message(e: &DbErr) -> String {
    let sqlx = match e {
        DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s))
        | DbErr::Conn(RuntimeErr::SqlxError(s)) => s,
        other => return other.to_string(),
    };
    let Some(db) = sqlx.as_database_error() else {
        return sqlx.to_string();
    };
    let mut out = db.message().to_string();
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            out.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = pg.hint() {
            out.push_str(&format!(" (hint: {hint})"));
        }
    }
    if let Some(code) = db.code() {
        out.push_str(&format!(" [code {code}]"));
    }
    out
}

fn placeholder(backend: DbBackend, index: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${index}"),
        _ => "?".to_string(),
    }
}

fn placeholders(backend: DbBackend, count: usize) -> String {
    (1..=count)
        .map(|i| placeholder(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}
