//! Telling a lost database from a bug: a `?` on a [`DbErr`] in a handler
//! becomes HTTP 503 when the database cannot be reached or cannot write
//! right now (the client may retry; the pool reconnects when it returns, a
//! SQLite file writes again once its disk does) and 500 otherwise.

use std::error::Error as StdError;

use microcore::ErrorKind;
use microcore::error::{ERROR_CLASSIFIERS, ErrorClassifier};
use sea_orm::sqlx;
use sea_orm::sqlx::error::DatabaseError as _;
use sea_orm::{DbErr, RuntimeErr, TransactionError};

#[microcore::__private::linkme::distributed_slice(ERROR_CLASSIFIERS)]
#[linkme(crate = microcore::__private::linkme)]
static CLASSIFY_DB_ERRORS: ErrorClassifier = classify;

/// [`ErrorKind::Unavailable`] for a connection or pool failure anywhere in
/// the error's chain, `None` (the default, 500) for anything else.
///
/// ```
/// use microcore::{Error, ErrorKind};
/// use microcore_db as _; // linked, so its classifier is registered
/// use sea_orm::{ConnAcquireErr, DbErr};
///
/// let lost: Error = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout).into();
/// assert_eq!(lost.kind(), ErrorKind::Unavailable);
/// let bug: Error = DbErr::RecordNotUpdated.into();
/// assert_eq!(bug.kind(), ErrorKind::Internal);
/// ```
pub fn classify(err: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    let mut next = Some(err);
    while let Some(e) = next {
        let unavailable = if let Some(db) = e.downcast_ref::<DbErr>() {
            is_unavailable(db)
        } else if let Some(TransactionError::Connection(db)) =
            e.downcast_ref::<TransactionError<DbErr>>()
        {
            is_unavailable(db)
        } else if let Some(TransactionError::Transaction(db)) =
            e.downcast_ref::<TransactionError<DbErr>>()
        {
            is_unavailable(db)
        } else if let Some(sqlx) = e.downcast_ref::<sqlx::Error>() {
            sqlx_unavailable(sqlx)
        } else {
            false
        };
        if unavailable {
            return Some(ErrorKind::Unavailable);
        }
        next = e.source();
    }
    None
}

/// Whether `e` means "the database cannot be reached" rather than "this
/// query is wrong".
pub(crate) fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            sqlx_unavailable(s)
        }
        _ => false,
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => match db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
            Some(sqlite) => sqlite
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(sqlite_unavailable),
            None => db.code().is_some_and(|code| postgres_unavailable(&code)),
        },
        _ => false,
    }
}

/// Connection exceptions (class 08), the server shutting down or starting
/// (57P01–57P03), too many connections (53300).
fn postgres_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// The file cannot be written or opened now, whatever the query: locked by
/// another writer past the busy timeout (5), read-only (8), an I/O error
/// (10, e.g. a read-only or failing file system), the disk full (13), the
/// file cannot be opened (14). sqlx reports the extended code, whose low
/// byte is the primary one (778 is `SQLITE_IOERR_WRITE`).
fn sqlite_unavailable(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 8 | 10 | 13 | 14)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;

    #[test]
    fn connection_failures_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let exec = DbErr::Exec(RuntimeErr::SqlxError(io.into()));
        assert_eq!(classify(&exec), Some(ErrorKind::Unavailable));
        let pool = DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed);
        assert_eq!(classify(&pool), Some(ErrorKind::Unavailable));
        let txn: TransactionError<DbErr> = TransactionError::Connection(pool);
        assert_eq!(classify(&txn), Some(ErrorKind::Unavailable));
    }

    #[test]
    fn sqlite_write_failures_are_unavailable() {
        // SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, SQLITE_FULL, SQLITE_BUSY.
        for code in [778, 1032, 13, 5] {
            assert!(sqlite_unavailable(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_ERROR (a bad query), SQLITE_MISMATCH.
        for code in [2067, 1, 20] {
            assert!(!sqlite_unavailable(code), "{code}");
        }
    }

    #[tokio::test]
    async fn a_real_sqlite_error_is_classified_by_its_code() {
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let bad = db
            .execute_unprepared("SELECT * FROM missing")
            .await
            .unwrap_err();
        assert_eq!(classify(&bad), None);
        db.execute_unprepared("CREATE TABLE t (x INTEGER PRIMARY KEY); PRAGMA query_only = 1")
            .await
            .unwrap();
        let readonly = db
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap_err();
        assert_eq!(classify(&readonly), Some(ErrorKind::Unavailable));
    }

    #[test]
    fn other_errors_are_left_alone() {
        let custom = DbErr::Custom("nope".into());
        assert_eq!(classify(&custom), None);
        let decode = DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::RowNotFound.into()));
        assert_eq!(classify(&decode), None);
        assert_eq!(classify(&std::fmt::Error), None);
    }
}
