//! GET /notes/{id}: the `notes.GetNote` plugin. Answers one row of `notes` by id, 404 when there is none. Say here why.

use crate::notes::models::{Note, notes};
use crate::prelude::*;

/// Serves `GET /notes/{id}` on the `notes` table.
#[plugin]
pub struct GetNote {
    http: Http,
    db: Db,
}

impl Plugin for GetNote {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/notes/{id}", &self, Self::execute);
        Ok(())
    }
}

impl GetNote {
    async fn execute(self: Arc<Self>, Path(id): Path<i64>) -> Result<Note> {
        let row = notes::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("Note not found"))?;
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
        let plugin = Arc::new(GetNote {
            http: Http::detached(),
            db: db.clone(),
        });
        let id = insert(&db, "Ada").await;
        assert_eq!(plugin.clone().execute(Path(id)).await.unwrap().name, "Ada");
        let missing = plugin.execute(Path(id + 1)).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
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
