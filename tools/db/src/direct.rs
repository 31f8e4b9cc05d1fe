//! The pool's statements, run straight on sqlx: what `Db` does for each
//! `execute_raw`, `query_one_raw` and `query_all_raw` on a sqlx pool.
//!
//! sea-orm's own path (`DatabaseConnection::query_one_raw`) builds its
//! future inside a tracing span, an instrumented driver call and a metric
//! wrapper, about 7.5 KB that is moved by value several times per query
//! (`memcpy`), and clones the statement's values. Here the query is built
//! from the statement without a copy, a connection is taken from the pool
//! (see [`acquire`]) and the statement run on it, in one small future that
//! `Db` boxes once. What runs is the same as sea-orm's: `sqlx::query_with` (a
//! persistent statement: prepared once per connection and then reused from
//! sqlx's per-connection cache, keyed by its SQL), the pool's own
//! connections (an idle one is taken without sqlx's acquire future and
//! without a ping, see [`acquire`]) and the same error mapping (`DbErr::ConnectionAcquire` for a pool time-out,
//! `DbErr::Query` / `DbErr::Exec` with the driver's error otherwise), so
//! `DbErr::sql_err` and the app's error classes see what they saw before.
//! Anything that is not a sqlx pool (a disconnected handle) goes through
//! sea-orm as before.
//!
//! One rewrite, on SQLite only: a statement ending in `LIMIT ?` (sea-orm's
//! `.one()` adds `LIMIT 1` as a bound value) gets its limit written into
//! the SQL instead. SQLite folds a bound LIMIT into the query plan and
//! marks the parameter so that binding it again expires the prepared
//! statement (`sqlite3VdbeSetVarmask` in `sqlite3ExprIsInteger`): the next
//! step re-parses and re-plans the whole statement, on every query, and
//! sqlx's statement cache saves nothing. With the limit in the SQL the
//! statement is prepared once per connection and reused.

use std::sync::Arc;

use sea_orm::sea_query::{Value, Values};
use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;

/// The pool's statements run on, or `None` to let sea-orm run it.
pub(crate) enum Pool<'a> {
    Sqlite(&'a sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(&'a sqlx::PgPool),
}

impl<'a> Pool<'a> {
    pub(crate) fn of(conn: &'a DatabaseConnection) -> Option<Self> {
        match &conn.inner {
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                Some(Self::Sqlite(conn.get_sqlite_connection_pool()))
            }
            #[cfg(feature = "postgres")]
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                Some(Self::Postgres(conn.get_postgres_connection_pool()))
            }
            #[allow(unreachable_patterns)] // other drivers, when features add them
            _ => None,
        }
    }
}

/// The statement's SQL and values as sqlx wants them, moved, not cloned.
fn parts(stmt: Statement) -> (sqlx::AssertSqlSafe<String>, SqlxValues) {
    let values = stmt.values.unwrap_or(Values(Vec::new()));
    (sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
}

/// [`parts`] for SQLite, with a trailing bound `LIMIT ?` written into the
/// SQL (see the module docs). The SQL is sea-query's, whose placeholders
/// are in the order of the values: the last `?` is the last value.
fn sqlite_parts(stmt: Statement) -> (sqlx::AssertSqlSafe<String>, SqlxValues) {
    let (sqlx::AssertSqlSafe(mut sql), SqlxValues(mut values)) = parts(stmt);
    if let Some(head) = sql.strip_suffix(" LIMIT ?")
        && let Some(limit) = values.0.last().and_then(literal_limit)
    {
        let head_len = head.len();
        sql.truncate(head_len);
        sql.push_str(" LIMIT ");
        sql.push_str(&limit.to_string());
        values.0.pop();
    }
    (sqlx::AssertSqlSafe(sql), SqlxValues(values))
}

/// A bound LIMIT as a number to write into SQL: non-negative integers only.
fn literal_limit(value: &Value) -> Option<u64> {
    match value {
        Value::BigUnsigned(Some(n)) => Some(*n),
        Value::Unsigned(Some(n)) => Some(u64::from(*n)),
        Value::BigInt(Some(n)) => u64::try_from(*n).ok(),
        Value::Int(Some(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// A connection from `pool`: an idle one taken straight from the pool when
/// there is one (`try_acquire`: no future at all), sqlx's `acquire`
/// otherwise, boxed. Its future holds everything that opens a new
/// connection (about 14 KB on SQLite) and, held inline, would be copied
/// with each move of the statement's future. A connection taken straight
/// from the idle queue is not pinged first (see `connect.rs`: SQLite never
/// pings; on PostgreSQL sqlx pings each connection as it returns to the
/// pool and closes a broken one, and `acquire` pings one idle for a second).
async fn acquire<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> Result<sqlx::pool::PoolConnection<DB>, DbErr> {
    match pool.try_acquire() {
        Some(conn) => Ok(conn),
        None => Box::pin(pool.acquire()).await.map_err(acquire_err),
    }
}

fn acquire_err(err: sqlx::Error) -> DbErr {
    match err {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
    }
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}

fn exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
}

/// `stmt`'s SQL and values (`parts`), run on a connection of `pool` with
/// sqlx's `fetch` method; the rows mapped with `rows`, a driver error with
/// `err`. One body for every statement and backend: they differ in those
/// four only.
macro_rules! on_pool {
    ($pool:expr, $parts:expr, $fetch:ident, $rows:expr, $err:expr) => {{
        let (sql, values) = $parts;
        let mut c = acquire($pool).await?;
        let done = sqlx::query_with(sql, values).$fetch(&mut *c).await;
        done.map($rows).map_err($err)
    }};
}

/// A driver's row, if any, as sea-orm's (for either backend).
fn one_row<R: Into<QueryResult>>(row: Option<R>) -> Option<QueryResult> {
    row.map(Into::into)
}

/// A driver's rows as sea-orm's (for either backend).
fn all_rows<R: Into<QueryResult>>(rows: Vec<R>) -> Vec<QueryResult> {
    rows.into_iter().map(Into::into).collect()
}

/// `ConnectionTrait::query_one_raw`.
pub(crate) async fn query_one(
    conn: &DatabaseConnection,
    stmt: Statement,
) -> Result<Option<QueryResult>, DbErr> {
    match Pool::of(conn) {
        Some(Pool::Sqlite(pool)) => {
            on_pool!(pool, sqlite_parts(stmt), fetch_optional, one_row, query_err)
        }
        #[cfg(feature = "postgres")]
        Some(Pool::Postgres(pool)) => {
            on_pool!(pool, parts(stmt), fetch_optional, one_row, query_err)
        }
        None => conn.query_one_raw(stmt).await,
    }
}

/// `ConnectionTrait::query_all_raw`.
pub(crate) async fn query_all(
    conn: &DatabaseConnection,
    stmt: Statement,
) -> Result<Vec<QueryResult>, DbErr> {
    match Pool::of(conn) {
        Some(Pool::Sqlite(pool)) => {
            on_pool!(pool, sqlite_parts(stmt), fetch_all, all_rows, query_err)
        }
        #[cfg(feature = "postgres")]
        Some(Pool::Postgres(pool)) => on_pool!(pool, parts(stmt), fetch_all, all_rows, query_err),
        None => conn.query_all_raw(stmt).await,
    }
}

/// `ConnectionTrait::execute_raw`.
pub(crate) async fn execute(
    conn: &DatabaseConnection,
    stmt: Statement,
) -> Result<ExecResult, DbErr> {
    match Pool::of(conn) {
        Some(Pool::Sqlite(pool)) => {
            on_pool!(
                pool,
                sqlite_parts(stmt),
                execute,
                ExecResult::from,
                exec_err
            )
        }
        #[cfg(feature = "postgres")]
        Some(Pool::Postgres(pool)) => {
            on_pool!(pool, parts(stmt), execute, ExecResult::from, exec_err)
        }
        None => conn.execute_raw(stmt).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    fn sqlite(sql: &str, values: Vec<Value>) -> (String, Vec<Value>) {
        let stmt = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        let (sqlx::AssertSqlSafe(sql), SqlxValues(values)) = sqlite_parts(stmt);
        (sql, values.0)
    }

    #[test]
    fn a_bound_limit_is_written_into_the_sql() {
        let (sql, values) = sqlite(
            r#"SELECT "id" FROM "users" WHERE "users"."id" = ? LIMIT ?"#,
            vec![7i64.into(), 1u64.into()],
        );
        assert_eq!(
            sql,
            r#"SELECT "id" FROM "users" WHERE "users"."id" = ? LIMIT 1"#
        );
        assert_eq!(values, vec![Value::from(7i64)]);
    }

    #[test]
    fn other_statements_are_left_alone() {
        for (sql, values) in [
            (
                "SELECT 1 LIMIT ? OFFSET ?",
                vec![Value::from(10u64), Value::from(20u64)],
            ),
            ("SELECT ? LIMIT 5", vec![Value::from("x")]),
            ("SELECT 1 LIMIT ?", vec![Value::from("not a number")]),
            ("SELECT 1 LIMIT ?", vec![Value::from(-1i64)]),
        ] {
            assert_eq!(sqlite(sql, values.clone()), (sql.to_string(), values));
        }
    }

    #[tokio::test]
    async fn one_reads_the_same_row_with_the_limit_written_in() {
        let db = crate::Db::memory_with(&[]).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
            .await
            .unwrap();
        for _ in 0..3 {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT v FROM t WHERE id > ? ORDER BY id LIMIT ?",
                    [0i64.into(), 1u64.into()],
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get::<String>("", "v").unwrap(), "a");
        }
        let none = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT v FROM t WHERE id > ? LIMIT ?",
                [5i64.into(), 1u64.into()],
            ))
            .await
            .unwrap();
        assert!(none.is_none());
    }
}
