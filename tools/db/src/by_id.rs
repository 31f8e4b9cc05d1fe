//! [`Db::find_by_id`]: the commonest query of a CRUD app, with its SQL
//! built once.
//!
//! sea-query builds a statement from an expression tree on every call:
//! `Entity::find_by_id(id).select_only().columns(..)` allocates the tree,
//! clones and compares its column references, renders it into a fresh
//! string with quoted identifiers and drops it all again. On
//! `GET /users/{id}` that was about 13,000 instructions per request, more
//! than SQLite spent running the query. A lookup by primary key has SQL
//! that depends only on the entity, the model it is read into and the
//! backend, so the first call builds it and keeps it, and every later call
//! binds its key to the same text (which sqlx also prepares once per
//! connection, see `direct.rs`).

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use microcore::sync::{read, write};
use sea_orm::sea_query::{IntoValueTuple, Value, Values};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, PartialModelTrait,
    PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
};

use crate::Db;

/// One lookup's SQL, and the values it binds after the key (the `LIMIT`).
#[derive(Debug)]
struct Built {
    sql: String,
    tail: Vec<Value>,
}

/// The built lookups of one pool, by (entity, model) type.
#[derive(Debug, Default)]
pub(crate) struct Lookups(RwLock<HashMap<TypeId, Arc<Built>>>);

impl Lookups {
    /// The statement reading `E`'s row with primary key `key` into `M`:
    /// the kept SQL with `key` bound, built (and kept) on the first call.
    fn statement<E, M>(&self, backend: DbBackend, key: Vec<Value>) -> Statement
    where
        E: EntityTrait,
        M: PartialModelTrait + 'static,
    {
        let id = TypeId::of::<(E, M)>();
        let kept = read(&self.0).get(&id).cloned();
        let built = match kept {
            Some(built) => built,
            None => match build::<E, M>(backend, &key) {
                Ok(built) => write(&self.0).entry(id).or_insert(built).clone(),
                Err(stmt) => return stmt,
            },
        };
        let mut values = key;
        values.extend(built.tail.iter().cloned());
        Statement {
            sql: built.sql.clone(),
            values: Some(Values(values)),
            db_backend: backend,
        }
    }
}

/// Builds the lookup the way sea-orm's `find_by_id(..).into_partial_model()
/// .one(..)` does. Kept only when the key values come first among the
/// statement's values: a model that selects an expression with values of
/// its own (`#[sea_orm(from_expr = ..)]`) binds those before the key, so
/// its statement is handed back to run as built, every time.
fn build<E, M>(backend: DbBackend, key: &[Value]) -> Result<Arc<Built>, Statement>
where
    E: EntityTrait,
    M: PartialModelTrait,
{
    let select = M::select_cols(E::find().select_only());
    let model_values = select
        .build(backend)
        .values
        .is_some_and(|v| !v.0.is_empty());
    let mut select = select;
    for (column, value) in E::PrimaryKey::iter().zip(key.iter().cloned()) {
        select = select.filter(column.into_column().eq(value));
    }
    let stmt = select.limit(1).build(backend);
    if model_values {
        return Err(stmt);
    }
    let mut values = stmt.values.map(|v| v.0).unwrap_or_default();
    let tail = values.split_off(key.len().min(values.len()));
    Ok(Arc::new(Built {
        sql: stmt.sql,
        tail,
    }))
}

#[microcore::tool]
impl Db {
    /// The row of `E` with key `id` as `M` (its `Model` or a partial model), SQL built once.
    ///
    /// `M` is the entity's `Model`, or a `DerivePartialModel` that selects
    /// fewer columns; `None` when no row has that key. The same query as sea-orm's
    /// `E::find_by_id(id).into_partial_model::<M>().one(&db)`, with its SQL
    /// built on the first call and reused after (see the module docs).
    ///
    /// ```
    /// use microcore_db::{Db, Migration};
    /// use sea_orm::entity::prelude::*;
    /// use sea_orm::DerivePartialModel;
    ///
    /// mod note {
    ///     use sea_orm::entity::prelude::*;
    ///     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    ///     #[sea_orm(table_name = "notes")]
    ///     pub struct Model {
    ///         #[sea_orm(primary_key)]
    ///         pub id: i64,
    ///         pub body: String,
    ///         pub secret: String,
    ///     }
    ///     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    ///     pub enum Relation {}
    ///     impl ActiveModelBehavior for ActiveModel {}
    /// }
    ///
    /// /// A note without its secret.
    /// #[derive(Debug, PartialEq, DerivePartialModel)]
    /// #[sea_orm(entity = "note::Entity")]
    /// struct Body {
    ///     id: i64,
    ///     body: String,
    /// }
    ///
    /// const NOTES: Migration = Migration::shared("notes", "0001_create_notes",
    ///     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, secret TEXT NOT NULL);", None);
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[NOTES]).await?;
    /// db.execute_unprepared("INSERT INTO notes VALUES (7, 'hi', 'shh')").await?;
    ///
    /// let found = db.find_by_id::<note::Entity, Body>(7).await?;
    /// assert_eq!(found, Some(Body { id: 7, body: "hi".into() }));
    /// assert_eq!(db.find_by_id::<note::Entity, Body>(8).await?, None);
    /// let whole = db.find_by_id::<note::Entity, note::Model>(7).await?.unwrap();
    /// assert_eq!(whole.secret, "shh");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database's error (a lost database is
    /// [`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable) once
    /// converted with `?`), or a row that does not decode into `M`.
    pub async fn find_by_id<E, M>(
        &self,
        id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    ) -> Result<Option<M>, DbErr>
    where
        E: EntityTrait,
        M: PartialModelTrait + Send + 'static,
    {
        let key: Vec<Value> = id.into().into_value_tuple().into_iter().collect();
        let stmt = self.lookups.statement::<E, M>(self.backend(), key);
        let row = self.query_one_raw(stmt).await?;
        row.map(|row| M::from_query_result(&row, "")).transpose()
    }
}
