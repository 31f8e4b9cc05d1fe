//! The pool, opened with the db tool's SQLite settings (WAL, synchronous
//! NORMAL, foreign keys, 5 s busy timeout, a lazy pool of 10), and the
//! users table created from the users domain's own migration file.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

/// The users domain's SQLite migration, the schema both servers query.
const CREATE_USERS: &str =
    include_str!("../../../../domains/users/migrations/0001_create_users.sqlite.sql");

/// Opens the pool and makes sure the users table exists.
pub(crate) async fn connect(url: &str) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(true)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        });
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("cannot open the database (DATABASE_URL): {e}"))?;
    let exists = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'users'",
        ))
        .await
        .map_err(|e| format!("cannot read the schema: {e}"))?
        .is_some();
    if !exists {
        db.execute_unprepared(CREATE_USERS)
            .await
            .map_err(|e| format!("cannot create the users table: {e}"))?;
    }
    Ok(db)
}
