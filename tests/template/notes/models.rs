//! What the `notes` domain's plugins share: sea-orm entities, common
//! types. Other domains never import it; they talk through events.

use crate::prelude::*;

/// The `notes` table (created by this domain's migrations): its sea-orm
/// entity, for typed queries that run on SQLite and PostgreSQL alike:
/// `notes::Entity::find()`, `notes::ActiveModel { .. }.insert(&self.db)`.
pub mod notes {
    use crate::prelude::*;

    /// One row of `notes`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notes")]
    pub struct Model {
        /// Primary key, chosen by the database.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// 1 to 100 characters.
        pub name: String,
    }

    /// Relations to other tables of this domain (none yet).
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A row of `notes` as this domain's routes answer it and its events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}

impl From<notes::Model> for Note {
    fn from(m: notes::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
        }
    }
}
