//! DELETE /notes/{id}: the `notes.DeleteNote` plugin. Deletes one row of `notes` by id and answers it, 404 when there is none. Say here why.

use crate::notes::models::{Note, notes};
use crate::prelude::*;

/// Serves `DELETE /notes/{id}` on the `notes` table.
#[plugin]
pub struct DeleteNote {
    http: Http,
    db: Db,
}

impl Plugin for DeleteNote {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.delete("/notes/{id}", &self, Self::execute);
        Ok(())
    }
}

impl DeleteNote {
    async fn execute(self: Arc<Self>, Path(id): Path<i64>) -> Result<Note> {
        let row = notes::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("Note not found"))?;
        notes::Entity::delete_by_id(id).exec(&self.db).await?;
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
        let plugin = Arc::new(DeleteNote {
            http: Http::detached(),
            db: db.clone(),
        });
        let id = insert(&db, "Ada").await;
        assert_eq!(plugin.execute(Path(id)).await.unwrap().id, id);
        assert_eq!(notes::Entity::find().count(&db).await.unwrap(), 0);
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
