//! [`Db`], what a plugin holds: a cheap clone of the pool, usable wherever
//! sea-orm takes a connection, plus transactions, migrations and an
//! in-memory test kit.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use microcore::{Error, ToolHandle};
use microcore_calls::Calls;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait,
};

use crate::by_id::Lookups;
use crate::direct;
use crate::migration::{MIGRATIONS, Migration};
use crate::migrator::{self, MigrationStatus, Selection};
use crate::settings::DbSettings;
use crate::txn::Txn;

/// The database, as a plugin sees it: a pooled sea-orm connection.
///
/// Pass `&self.db` wherever sea-orm wants a connection (`Entity::find().all(&self.db)`);
/// it also derefs to [`DatabaseConnection`] for everything else (`begin()`,
/// `ping()`, …). Cloning it clones a pool handle.
///
/// ```
/// use microcore_db::Db;
/// use sea_orm::{ConnectionTrait, DbBackend, Statement};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let db = Db::memory_with(&[]).await?;
/// assert_eq!(db.backend(), DbBackend::Sqlite);
/// db.execute_unprepared("CREATE TABLE notes (body TEXT NOT NULL)").await?;
/// db.execute_raw(Statement::from_sql_and_values(
///     db.backend(),
///     "INSERT INTO notes (body) VALUES (?)",
///     ["hello".into()],
/// ))
/// .await?;
/// let row = db.query_one_raw(Statement::from_string(db.backend(), "SELECT count(*) AS n FROM notes")).await?;
/// assert_eq!(row.unwrap().try_get::<i64>("", "n")?, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// Where each query is reported (the app's `calls` tool; a slot
    /// nobody records in for a handle built outside an app).
    calls: Calls,
    owner: &'static str,
    /// The SQL of each [`Db::find_by_id`] lookup, built once per pool.
    pub(crate) lookups: Arc<Lookups>,
}

impl ToolHandle for Db {
    const NAME: &'static str = "db";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            owner,
            ..self.clone()
        }
    }
}

impl Deref for Db {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.conn
    }
}

impl From<DatabaseConnection> for Db {
    fn from(conn: DatabaseConnection) -> Self {
        Self {
            conn,
            calls: Calls::default(),
            owner: "app",
            lookups: Arc::default(),
        }
    }
}

#[microcore::tool(guide = "../AI.md")]
impl Db {
    /// Opens a pool with these settings and checks that the database
    /// answers; applies no migration.
    ///
    /// ```
    /// use microcore_db::{Db, DbSettings};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::connect(&DbSettings::for_url("sqlite::memory:")).await?;
    /// db.ping().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable) naming the URL
    /// (password masked) and the driver's message when it cannot connect.
    pub async fn connect(settings: &DbSettings) -> Result<Self, Error> {
        crate::connect::connect(settings).await.map(Self::from)
    }

    /// A fresh in-memory SQLite database with every linked migration: the
    /// test kit. A plugin test is then a struct literal
    /// (`ListUsers { db: Db::memory().await?, .. }`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = microcore_db::Db::memory().await?;
    /// db.ping().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A migration that fails, with its file, statement and SQLite's message.
    pub async fn memory() -> Result<Self, Error> {
        Self::memory_with(&MIGRATIONS).await
    }

    /// A fresh in-memory SQLite database with these migrations applied.
    ///
    /// ```
    /// use microcore_db::{Db, Migration};
    ///
    /// const NOTES: Migration = Migration::shared("notes", "0001_create_notes",
    ///     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", None);
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[NOTES]).await?;
    /// # use sea_orm::ConnectionTrait;
    /// db.execute_unprepared("INSERT INTO notes (body) VALUES ('hi')").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Db::memory`].
    pub async fn memory_with(migrations: &[Migration]) -> Result<Self, Error> {
        let db = Self::connect(&DbSettings::for_url("sqlite::memory:")).await?;
        db.migrate_up(migrations, &Selection::default()).await?;
        Ok(db)
    }

    /// This handle, reporting its calls to `calls`. Each query and
    /// transaction is reported (tool `db`, the plugin holding the copy,
    /// duration, success).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = microcore_db::Db::memory_with(&[]).await?.with_calls(microcore_calls::Calls::default());
    /// # use sea_orm::ConnectionTrait;
    /// db.execute_unprepared("SELECT 1").await?;
    /// # Ok(()) }
    /// ```
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// `work`, reported as one call of `method`.
    fn timed<'a, T: Send + 'a>(
        &'a self,
        method: &'static str,
        work: BoxFuture<'a, Result<T, DbErr>>,
    ) -> BoxFuture<'a, Result<T, DbErr>> {
        Box::pin(self.calls.timed("db", method, self.owner, work))
    }

    /// The sea-orm connection (a pool).
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// SQLite or PostgreSQL: for the rare query written per backend.
    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Runs `work` in a transaction: committed when it returns `Ok`, rolled
    /// back when it returns `Err` (or panics). `?` works inside on sea-orm
    /// errors and on [`Error`]s alike.
    ///
    /// ```
    /// use microcore::{Error, ErrorKind};
    /// use microcore_db::Db;
    /// use sea_orm::ConnectionTrait;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[]).await?;
    /// db.execute_unprepared("CREATE TABLE accounts (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL)").await?;
    /// db.execute_unprepared("INSERT INTO accounts VALUES (1, 100), (2, 0)").await?;
    ///
    /// // Both updates or neither.
    /// let moved = db
    ///     .transaction(async |txn| {
    ///         txn.execute_unprepared("UPDATE accounts SET cents = cents - 30 WHERE id = 1").await?;
    ///         txn.execute_unprepared("UPDATE accounts SET cents = cents + 30 WHERE id = 2").await?;
    ///         Ok(30)
    ///     })
    ///     .await?;
    /// assert_eq!(moved, 30);
    ///
    /// let refused: Result<(), Error> = db
    ///     .transaction(async |txn| {
    ///         txn.execute_unprepared("UPDATE accounts SET cents = 0").await?;
    ///         Err(Error::business("insufficient funds"))
    ///     })
    ///     .await;
    /// assert_eq!(refused.unwrap_err().kind(), ErrorKind::Business(400));
    /// # Ok(()) }
    /// ```
    ///
    /// `work` gets a [`Txn`]: pass it wherever sea-orm takes a connection;
    /// [`Txn::after_commit`] queues work for once the commit succeeded
    /// (what `bus.publish_in(txn, ..)` uses to wake the outbox relay).
    /// For manual control, sea-orm's `db.begin().await?` returns a
    /// transaction to `commit()` (dropping it rolls back).
    ///
    /// # Errors
    /// The error `work` returned, or the database's if `BEGIN`/`COMMIT` failed.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: for<'c> AsyncFnOnce(&'c Txn) -> Result<T, Error> + Send,
        T: Send,
    {
        let run = async {
            let txn = Txn::new(self.conn.begin().await?, self.clone());
            // A panic in `work` drops `txn`: sea-orm rolls it back.
            match work(&txn).await {
                Ok(value) => {
                    txn.commit().await?;
                    Ok(value)
                }
                Err(e) => {
                    if let Err(rollback) = txn.rollback().await {
                        tracing::warn!(
                            "rolling back a failed transaction failed too: {}",
                            crate::migrator::database_message(&rollback)
                        );
                    }
                    Err(e)
                }
            }
        };
        self.calls.timed("db", "transaction", self.owner, run).await
    }

    /// Where each of `migrations` stands in this database, in run order,
    /// followed by recorded migrations the binary does not know.
    ///
    /// ```
    /// use microcore_db::{Db, Migration, MigrationState};
    /// const A: Migration = Migration::shared("notes", "0001_a", "CREATE TABLE a (x INT);", None);
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[]).await?;
    /// let status = db.migration_status(&[A]).await?;
    /// assert_eq!(status[0].state, MigrationState::Pending);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the record table cannot be read.
    pub async fn migration_status(
        &self,
        migrations: &[Migration],
    ) -> Result<Vec<MigrationStatus>, Error> {
        migrator::status(&self.conn, migrations).await
    }

    /// Applies the pending migrations of `selection` in order (by domain,
    /// then name), each in a transaction with its record; returns those applied.
    ///
    /// ```
    /// use microcore_db::{Db, Migration, Selection};
    /// const A: Migration = Migration::shared("notes", "0001_a", "CREATE TABLE a (x INT);", None);
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[]).await?;
    /// assert_eq!(db.migrate_up(&[A], &Selection::default()).await?.len(), 1);
    /// assert_eq!(db.migrate_up(&[A], &Selection::default()).await?.len(), 0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A failed migration, naming its file, the failing statement and the
    /// database's message; an applied migration whose file changed.
    pub async fn migrate_up(
        &self,
        migrations: &[Migration],
        selection: &Selection,
    ) -> Result<Vec<MigrationStatus>, Error> {
        migrator::up(&self.conn, migrations, selection).await
    }

    /// Reverts the latest applied migrations of `selection` (one unless
    /// `steps` says otherwise) with their down files; returns those reverted.
    ///
    /// ```
    /// use microcore_db::{Db, Migration, Selection};
    /// const A: Migration = Migration::shared("notes", "0001_a", "CREATE TABLE a (x INT);", Some("DROP TABLE a;"));
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[A]).await?;
    /// let reverted = db.migrate_down(&[A], &Selection::default()).await?;
    /// assert_eq!(reverted[0].name, "0001_a");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A migration without a down file, one recorded but not in the binary,
    /// or a failing down file.
    pub async fn migrate_down(
        &self,
        migrations: &[Migration],
        selection: &Selection,
    ) -> Result<Vec<MigrationStatus>, Error> {
        migrator::down(&self.conn, migrations, selection).await
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A [`ConnectionTrait`] method taking one statement, with the signature
/// `#[async_trait]` generates, run straight on the pool
/// ([`direct`](crate::direct)) and timed as `$label`: one boxed future of
/// a few hundred bytes per statement, where sea-orm's own path moves about
/// 7.5 KB by value several times.
macro_rules! timed_statement {
    ($method:ident, $run:path, $label:literal, $out:ty) => {
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            stmt: Statement,
        ) -> BoxFuture<'async_trait, Result<$out, DbErr>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                let work = $run(&self.conn, stmt);
                self.calls.timed("db", $label, self.owner, work).await
            })
        }
    };
}

/// `&db` works wherever sea-orm takes a connection. The signatures are what
/// `#[async_trait]` generates for the trait, delegating to the pool.
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    timed_statement!(execute_raw, direct::execute, "execute", ExecResult);

    fn execute_unprepared<'life0, 'life1, 'async_trait>(
        &'life0 self,
        sql: &'life1 str,
    ) -> BoxFuture<'async_trait, Result<ExecResult, DbErr>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.timed("execute_unprepared", self.conn.execute_unprepared(sql))
    }

    timed_statement!(
        query_one_raw,
        direct::query_one,
        "query_one",
        Option<QueryResult>
    );
    timed_statement!(
        query_all_raw,
        direct::query_all,
        "query_all",
        Vec<QueryResult>
    );
}
