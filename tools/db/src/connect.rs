//! Opening the pool: the settings each backend needs (WAL, foreign keys and
//! a busy timeout on SQLite; one connection for an in-memory database), and
//! a first connection at boot whose failure names the database (password
//! masked) and says what the driver said.

use std::time::Duration;

use microcore::{Error, ErrorKind};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::migrator::database_message;
use crate::settings::DbSettings;

/// How long SQLite waits for another writer before giving up with "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// When the pool has to wait for a PostgreSQL connection (`acquire`), one
/// idle this long is pinged before it is handed out. sqlx's default pings
/// on every acquire, one more round trip to the server per query; but sqlx
/// already pings every connection as it returns to the pool and closes a
/// broken one, and the statements `Db` runs take an idle connection
/// straight from the pool when there is one (`direct.rs`): a connection
/// the server dropped while it sat idle fails one query, answered 503 like
/// any lost database, and is replaced.
const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Opens the pool and checks that the database answers.
pub(crate) async fn connect(settings: &DbSettings) -> Result<DatabaseConnection, Error> {
    let masked = settings.masked_url();
    let unreachable = |why: String| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot connect to the database at {masked} (DATABASE_URL): {why}"),
        )
    };
    #[cfg(feature = "postgres")]
    if settings.backend() == DbBackend::Postgres {
        probe_postgres(settings).await.map_err(unreachable)?;
    }
    let conn = Database::connect(options(settings))
        .await
        .map_err(|e| unreachable(database_message(&e)))?;
    match tokio::time::timeout(
        settings.connect_timeout,
        conn.execute_unprepared("SELECT 1"),
    )
    .await
    {
        Ok(Ok(_)) => Ok(conn),
        Ok(Err(e)) => Err(unreachable(database_message(&e))),
        Err(_) => Err(unreachable(no_answer(settings))),
    }
}

fn no_answer(settings: &DbSettings) -> String {
    format!(
        "no answer within {} s (DB_CONNECT_TIMEOUT_SECS)",
        settings.connect_timeout.as_secs_f32()
    )
}

#[cfg(feature = "postgres")]
/// One connection outside the pool: the pool retries a refused connection
/// until its timeout and then only says "timed out"; the driver says why.
async fn probe_postgres(settings: &DbSettings) -> Result<(), String> {
    use sea_orm::sqlx::postgres::PgConnectOptions;
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};

    let options: PgConnectOptions = settings.url.parse().map_err(|e| format!("{e}"))?;
    match tokio::time::timeout(settings.connect_timeout, options.connect()).await {
        Ok(Ok(conn)) => {
            drop(conn.close().await);
            Ok(())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(no_answer(settings)),
    }
}

/// sea-orm's options for these settings.
pub(crate) fn options(settings: &DbSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy(true)
        .sqlx_logging(false);
    match settings.backend() {
        // No ping before a SQLite connection is handed out: it is a file
        // opened in this process, with no server or network to lose, and
        // the ping is a round trip to the connection's worker thread on
        // every query. (sqlx still pings it as it returns to the pool.)
        DbBackend::Sqlite if settings.is_memory() => {
            // An in-memory database lives as long as a connection to it:
            // keep exactly one, forever, so every query sees the same data.
            options
                .max_connections(1)
                .test_before_acquire(false)
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>)
                .map_sqlx_sqlite_opts(|o| o.foreign_keys(true).busy_timeout(SQLITE_BUSY_TIMEOUT));
        }
        DbBackend::Sqlite => {
            let create = !settings.url.contains("mode=");
            options
                .max_connections(settings.pool_max)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(move |o| {
                    // Without an explicit `mode=`, a missing file is created.
                    let o = if create { o.create_if_missing(true) } else { o };
                    o.foreign_keys(true)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                });
        }
        _ => {
            options
                .max_connections(settings.pool_max)
                .test_before_acquire_if_idle_for(POSTGRES_PING_AFTER_IDLE)
                .set_application_name("microcore");
        }
    }
    options
}
