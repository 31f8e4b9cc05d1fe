//! How plugins really use the handle: sea-orm entities, queried and saved
//! through `&db` and through a transaction, on both backends.

mod common;

use common::{TestDb, on_both_backends};
use microcore::{Error, ErrorKind};
use microcore_db::{Db, DbSettings, Migration, Selection};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

// sea-orm's derives expect `pub` items, as in a real domain's models.rs.
#[allow(unreachable_pub)]
mod note {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const NOTES: Migration = Migration {
    domain: "notes",
    name: "0001_create_notes",
    up_sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL UNIQUE);",
    up_postgres: "CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL UNIQUE);",
    down_sqlite: None,
    down_postgres: None,
    file: "domains/notes/migrations/0001_create_notes.<backend>.sql",
};

async fn entities_work_through_the_handle(test: TestDb) {
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    db.migrate_up(&[NOTES], &Selection::default())
        .await
        .unwrap();

    let saved = note::ActiveModel {
        body: Set("first".into()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    assert_eq!(
        note::Entity::find_by_id(saved.id).one(&db).await.unwrap(),
        Some(saved)
    );

    // Two inserts in one transaction; the second breaks a constraint, so neither stays.
    let result: Result<(), Error> = db
        .transaction(async |txn| {
            note::ActiveModel {
                body: Set("second".into()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            note::ActiveModel {
                body: Set("first".into()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(())
        })
        .await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Internal);
    assert_eq!(note::Entity::find().count(&db).await.unwrap(), 1);
    assert!(
        note::Entity::find()
            .filter(note::Column::Body.eq("second"))
            .one(&db)
            .await
            .unwrap()
            .is_none()
    );
}

/// A note without its id, for `find_by_id` into a partial model.
#[derive(Debug, PartialEq, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "note::Entity")]
struct Body {
    body: String,
}

/// `Db::find_by_id` keeps one statement per (entity, model): each call
/// must still bind its own key, and the two models keep two statements.
async fn lookups_by_key_bind_each_key_to_the_kept_statement(test: TestDb) {
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    db.migrate_up(&[NOTES], &Selection::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for body in ["a", "b", "c"] {
        let saved = note::ActiveModel {
            body: Set(body.into()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        ids.push((saved.id, body));
    }
    for _ in 0..2 {
        for (id, body) in &ids {
            let found = db.find_by_id::<note::Entity, Body>(*id).await.unwrap();
            assert_eq!(
                found,
                Some(Body {
                    body: body.to_string()
                })
            );
            let whole = db
                .find_by_id::<note::Entity, note::Model>(*id)
                .await
                .unwrap();
            assert_eq!(whole.map(|n| n.body).as_deref(), Some(*body));
        }
        assert_eq!(db.find_by_id::<note::Entity, Body>(-1).await.unwrap(), None);
    }
}

on_both_backends!(
    entities_work_through_the_handle,
    lookups_by_key_bind_each_key_to_the_kept_statement
);
