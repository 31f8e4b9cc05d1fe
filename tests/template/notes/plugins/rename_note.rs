//! PUT /notes/{id}: the `notes.RenameNote` plugin. Renames one row of `notes` by id, 404 when there is none. Say here why.

use crate::notes::models::{Note, notes};
use crate::prelude::*;

/// Serves `PUT /notes/{id}` on the `notes` table.
#[plugin]
pub struct RenameNote {
    http: Http,
    db: Db,
}

/// The body of a `PUT /notes/{id}` request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RenameNoteRequest {
    /// 1 to 100 characters.
    #[validate(length(min = 1, max = 100))]
    name: String,
}

impl Plugin for RenameNote {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.put("/notes/{id}", &self, Self::execute);
        Ok(())
    }
}

impl RenameNote {
    async fn execute(
        self: Arc<Self>,
        Path(id): Path<i64>,
        Json(request): Json<RenameNoteRequest>,
    ) -> Result<Note> {
        let row = notes::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("Note not found"))?;
        let mut row = row.into_active_model();
        row.name = Set(request.name);
        let row = row.update(&self.db).await?;
        Ok(Note::from(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_from_the_table() {
        // Db::memory(): a fresh in-memory SQLite with every migration applied.
        let db = Db::memory().await.unwrap();
        let plugin = Arc::new(RenameNote {
            http: Http::detached(),
            db: db.clone(),
        });
        let id = insert(&db, "Ada").await;
        let renamed = plugin
            .execute(
                Path(id),
                Json(RenameNoteRequest {
                    name: "Grace".into(),
                }),
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Grace");
    }

    /// A row named `name`, stored directly: the state the handler starts from.
    async fn insert(db: &Db, name: &str) -> i64 {
        let row = notes::ActiveModel {
            name: Set(name.to_string()),
            ..Default::default()
        };
        row.insert(db).await.unwrap().id
    }
}
