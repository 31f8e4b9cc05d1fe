//! [`Txn`], what [`Db::transaction`] hands its closure: a sea-orm
//! transaction that also knows the pool it came from and runs work queued
//! for after its `COMMIT`.
//!
//! The after-commit queue exists for effects that must not happen unless
//! the rows they describe are durable, and must not hold the transaction
//! open while they happen: waking the event bus's outbox relay is the one
//! the framework uses (an event written to the outbox table in this
//! transaction is sent to the broker once it is committed, not before).

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Mutex;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};

use crate::Db;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A database transaction in progress, as [`Db::transaction`] lends it.
///
/// Pass it wherever sea-orm takes a connection (`row.insert(txn)`,
/// `Entity::find().all(txn)`, `txn.execute_unprepared(..)`); it derefs to
/// sea-orm's [`DatabaseTransaction`] for the rest. What it adds:
/// [`Txn::after_commit`] and [`Txn::db`].
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use microcore_db::Db;
/// use sea_orm::ConnectionTrait;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let db = Db::memory_with(&[]).await?;
/// db.execute_unprepared("CREATE TABLE notes (body TEXT NOT NULL)").await?;
/// let sent = Arc::new(AtomicBool::new(false));
/// let flag = sent.clone();
/// db.transaction(async |txn| {
///     txn.execute_unprepared("INSERT INTO notes VALUES ('hi')").await?;
///     // Runs only once the insert is committed.
///     txn.after_commit(async move { flag.store(true, Ordering::SeqCst) });
///     Ok(())
/// })
/// .await?;
/// assert!(sent.load(Ordering::SeqCst));
/// # Ok(()) }
/// ```
pub struct Txn {
    inner: DatabaseTransaction,
    db: Db,
    after_commit: Mutex<Vec<BoxFuture<'static, ()>>>,
}

impl fmt::Debug for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Txn")
            .field("backend", &self.inner.get_database_backend())
            .field("after_commit", &self.queued())
            .finish_non_exhaustive()
    }
}

impl Txn {
    pub(crate) fn new(inner: DatabaseTransaction, db: Db) -> Self {
        Self {
            inner,
            db,
            after_commit: Mutex::default(),
        }
    }

    /// Queues `work` to run once this transaction is committed, after the
    /// `COMMIT` succeeded and before [`Db::transaction`] returns; dropped
    /// without running if the transaction rolls back (an `Err`, a panic, or
    /// a failed `COMMIT`). Queued works run one after the other, in order.
    ///
    /// Keep it short: the caller of `transaction` waits for it. To start
    /// something long, spawn it or wake a task from here.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use microcore::Error;
    /// use microcore_db::Db;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[]).await?;
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let l = log.clone();
    /// let _: Result<(), Error> = db
    ///     .transaction(async |txn| {
    ///         txn.after_commit(async move { l.lock().unwrap().push("sent") });
    ///         Err(Error::business("refused"))
    ///     })
    ///     .await;
    /// assert!(log.lock().unwrap().is_empty(), "rolled back: nothing ran");
    /// # Ok(()) }
    /// ```
    pub fn after_commit(&self, work: impl Future<Output = ()> + Send + 'static) {
        microcore::sync::lock(&self.after_commit).push(Box::pin(work));
    }

    /// The database this transaction runs on: the pool, for work that must
    /// happen outside the transaction (after it, or beside it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = microcore_db::Db::memory_with(&[]).await?;
    /// db.transaction(async |txn| {
    ///     assert_eq!(txn.db().backend(), sea_orm::DbBackend::Sqlite);
    ///     Ok(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// How many works are queued for after the commit.
    fn queued(&self) -> usize {
        microcore::sync::lock(&self.after_commit).len()
    }

    /// Commits, then runs what was queued for after the commit.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        let Self {
            inner,
            after_commit,
            ..
        } = self;
        let queued = after_commit
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.commit().await?;
        for work in queued {
            work.await;
        }
        Ok(())
    }

    /// Rolls back; what was queued is dropped.
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        self.inner.rollback().await
    }
}

impl Deref for Txn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.inner
    }
}

/// One statement method of `ConnectionTrait`, with the signature
/// `#[async_trait]` generates for it, passed on to the transaction.
macro_rules! on_the_transaction {
    ($method:ident, $out:ty) => {
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            stmt: Statement,
        ) -> BoxFuture<'async_trait, Result<$out, DbErr>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.$method(stmt)
        }
    };
}

/// `txn` works wherever sea-orm takes a connection, delegating to the
/// transaction.
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    on_the_transaction!(execute_raw, ExecResult);
    on_the_transaction!(query_one_raw, Option<QueryResult>);
    on_the_transaction!(query_all_raw, Vec<QueryResult>);

    fn execute_unprepared<'life0, 'life1, 'async_trait>(
        &'life0 self,
        sql: &'life1 str,
    ) -> BoxFuture<'async_trait, Result<ExecResult, DbErr>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.inner.execute_unprepared(sql)
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}
