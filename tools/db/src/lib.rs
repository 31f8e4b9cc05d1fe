//! The `db` tool: a sea-orm connection pool for plugins, on SQLite (the
//! default, a file `microcore.db` in the working directory) or PostgreSQL,
//! chosen by `DATABASE_URL`; per-domain SQL migrations embedded in the
//! binary and applied at boot; transactions; a health check; and an
//! in-memory test kit.
//!
//! A plugin names [`Db`] as a field and queries through it:
//!
//! ```
//! use microcore::prelude::*;
//! use microcore_db::Db;
//! use sea_orm::{ConnectionTrait, Statement};
//!
//! /// Counts the notes.
//! #[plugin(domain = "notes")]
//! pub struct CountNotes {
//!     db: Db,
//! }
//!
//! impl Plugin for CountNotes {}
//!
//! impl CountNotes {
//!     async fn count(&self) -> Result<i64> {
//!         let sql = Statement::from_string(self.db.backend(), "SELECT count(*) AS n FROM notes");
//!         let row = self.db.query_one_raw(sql).await?; // a lost database answers 503
//!         Ok(row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0))
//!     }
//! }
//!
//! // A test builds the plugin as a struct literal, on an in-memory database
//! // with the migrations it needs.
//! use microcore_db::Migration;
//! const NOTES: Migration = Migration::shared("notes", "0001_create_notes",
//!     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", None);
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
//! let plugin = CountNotes { db: Db::memory_with(&[NOTES]).await? };
//! assert_eq!(plugin.count().await?, 0);
//! # Ok(()) }
//! ```
//!
//! Settings ([`DbSettings`]): `DATABASE_URL` (`sqlite://microcore.db?mode=rwc`,
//! `sqlite::memory:`, `postgres://user:password@host/db`), `DB_POOL_MAX` (10),
//! `DB_CONNECT_TIMEOUT_SECS` (5), `DB_ACQUIRE_TIMEOUT_SECS` (5),
//! `DB_AUTO_MIGRATE` (true).
//!
//! Migrations live in `domains/<domain>/migrations/` as
//! `<NNNN>_<name>.sql` (both backends), or `<NNNN>_<name>.sqlite.sql` with
//! `<NNNN>_<name>.postgres.sql`, each with an optional down file
//! (`<NNNN>_<name>.down.sql`, `<NNNN>_<name>.<backend>.down.sql`). The
//! domains crate's build script embeds them in [`MIGRATIONS`]; the tool
//! applies them at boot, and `<app> migrate status|up|down` handles them by
//! hand. See `docs/database.md`.

mod by_id;
mod classify;
mod cli;
mod connect;
mod direct;
mod handle;
mod migration;
mod migrator;
pub mod prelude;
mod settings;
mod split;
mod tool;
mod txn;

pub use classify::classify;
pub use handle::Db;
pub use migration::{MIGRATIONS, Migration};
pub use migrator::{MigrationState, MigrationStatus, Selection, TABLE};
pub use settings::{DEFAULT_URL, DbSettings, mask_url};
pub use tool::SeaOrmDb;
pub use txn::Txn;

#[doc(hidden)]
pub mod __private {
    pub use microcore::__private::linkme;
}
