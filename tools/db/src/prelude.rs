//! What a plugin needs for typed, portable queries, in one glob: the
//! sea-orm traits whose methods it calls (`find`, `filter`, `insert`,
//! `delete_many`, ...), `Set`, the derives of an entity, [`Db`], and `Utc` for timestamps.
//!
//! An app's domains prelude re-exports it, so a plugin file that reads and
//! writes its tables needs only `use crate::prelude::*;`. The same query
//! runs on SQLite and PostgreSQL: sea-orm writes each backend's SQL
//! (placeholders, `RETURNING`), which raw SQL strings would not.
//!
//! ```
//! use microcore_db::prelude::*;
//! use microcore_db::Migration;
//!
//! /// The `notes` table (its migration is below).
//! pub mod note {
//!     use microcore_db::prelude::*;
//!
//!     /// One row of `notes`.
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "notes")]
//!     pub struct Model {
//!         /// Primary key, chosen by the database.
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         /// The text.
//!         pub body: String,
//!     }
//!
//!     /// No relations.
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! const NOTES: Migration = Migration::shared("notes", "0001_create_notes",
//!     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", None);
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
//! let db = Db::memory_with(&[NOTES]).await?;
//! let row = note::ActiveModel { body: Set("hi".into()), ..Default::default() }.insert(&db).await?;
//! let found = note::Entity::find()
//!     .filter(note::Column::Body.eq("hi"))
//!     .order_by_asc(note::Column::Id)
//!     .all(&db)
//!     .await?;
//! assert_eq!(found, [row]);
//! note::Entity::delete_many().filter(note::Column::Id.lt(10)).exec(&db).await?;
//! assert_eq!(note::Entity::find().count(&db).await?, 0);
//! # Ok(()) }
//! ```

pub use crate::{Db, Txn};
/// The clock of portable timestamps: a `BIGINT` column of unix seconds
/// holds `Utc::now().timestamp()`.
pub use chrono::Utc;
/// Everything an entity's derives expand to (`DerivePrimaryKey`,
/// `PrimaryKeyTrait`, ...), and the query traits: sea-orm's own prelude.
pub use sea_orm::entity::prelude::*;
pub use sea_orm::{
    ActiveValue, Condition, FromQueryResult, IntoActiveModel, NotSet, Order, QueryOrder,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
