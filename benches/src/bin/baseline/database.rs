//! The pool, opened with the db tool's settings (SQLite: WAL, synchronous
//! NORMAL, foreign keys, 5 s busy timeout; both backends: a lazy pool of
//! 10, 5 s acquire timeout), and the users table created from the users
//! domain's own migration file when it is missing.
//!
//! Two ways to read a user, chosen by `BASELINE_QUERY`:
//! - `sea-orm` (the default): sea-orm's entity API on its pool,
//!   `Entity::find_by_id(id).one(&db)`, the whole row decoded, exactly the
//!   calls the example app's plugin makes. This baseline measures what the
//!   framework adds over the same ORM calls.
//! - `sqlx`: the plain server a careful user writes without an ORM: one
//!   hand-written `SELECT id, name, email … WHERE id = $1` through sqlx on
//!   its pool, the statement prepared once per connection and reused from
//!   sqlx's per-connection cache (sqlx's default for a query with bound
//!   arguments), only the three columns the answer shows decoded.
//!
//! Pool options are sqlx's defaults besides those above (so every acquire
//! pings the connection, as sqlx does unless told otherwise).

use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};

/// The users domain's migrations, the schema every server queries.
const CREATE_USERS_SQLITE: &str =
    include_str!("../../../../domains/users/migrations/0001_create_users.sqlite.sql");
const CREATE_USERS_POSTGRES: &str =
    include_str!("../../../../domains/users/migrations/0001_create_users.postgres.sql");

/// The db tool's defaults: `DB_POOL_MAX` 10, `DB_ACQUIRE_TIMEOUT_SECS` 5.
const POOL_MAX: u32 = 10;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where users are read from.
#[derive(Clone)]
pub(crate) enum Store {
    /// sea-orm's entity API (`BASELINE_QUERY=sea-orm`).
    SeaOrm(DatabaseConnection),
    /// sqlx on SQLite (`BASELINE_QUERY=sqlx`).
    Sqlite(SqlitePool),
    /// sqlx on PostgreSQL (`BASELINE_QUERY=sqlx`).
    Postgres(PgPool),
}

/// Opens the pool and makes sure the users table exists.
pub(crate) async fn connect(url: &str, plain: bool) -> Result<Store, String> {
    let cannot = |e: sea_orm::sqlx::Error| format!("cannot open the database (DATABASE_URL): {e}");
    if url.starts_with("postgres:") {
        let options: PgConnectOptions = url.parse().map_err(cannot)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.application_name("bench-baseline"));
        let exists: Option<(i32,)> = sea_orm::sqlx::query_as(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'users'",
        )
        .fetch_optional(&pool)
        .await
        .map_err(cannot)?;
        if exists.is_none() {
            sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(CREATE_USERS_POSTGRES))
                .execute(&pool)
                .await
                .map_err(cannot)?;
        }
        return Ok(if plain {
            Store::Postgres(pool)
        } else {
            Store::SeaOrm(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
        });
    }
    let options: SqliteConnectOptions = url.parse().map_err(cannot)?;
    let pool = SqlitePoolOptions::new()
        .max_connections(POOL_MAX)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(
            options
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal),
        );
    let exists: Option<(i32,)> = sea_orm::sqlx::query_as(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'",
    )
    .fetch_optional(&pool)
    .await
    .map_err(cannot)?;
    if exists.is_none() {
        sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(CREATE_USERS_SQLITE))
            .execute(&pool)
            .await
            .map_err(cannot)?;
    }
    Ok(if plain {
        Store::Sqlite(pool)
    } else {
        Store::SeaOrm(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    })
}
