//! GET /notes: the `notes.ListNotes` plugin. Lists the rows of `notes`, by id. Say here why.

use crate::notes::models::{Note, notes};
use crate::prelude::*;

/// Serves `GET /notes` on the `notes` table.
#[plugin]
pub struct ListNotes {
    http: Http,
    db: Db,
}

/// The answer to `GET /notes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListNotesReply {
    /// Every row, by id.
    items: Vec<Note>,
}

impl Plugin for ListNotes {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/notes", &self, Self::execute);
        Ok(())
    }
}

impl ListNotes {
    async fn execute(self: Arc<Self>) -> Result<ListNotesReply> {
        let rows = notes::Entity::find()
            .order_by_asc(notes::Column::Id)
            .all(&self.db)
            .await?;
        Ok(ListNotesReply {
            items: rows.into_iter().map(Note::from).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_from_the_table() {
        // Db::memory(): a fresh in-memory SQLite with every migration applied.
        let db = Db::memory().await.unwrap();
        let plugin = Arc::new(ListNotes {
            http: Http::detached(),
            db: db.clone(),
        });
        insert(&db, "Ada").await;
        let reply = plugin.execute().await.unwrap();
        assert_eq!(reply.items.len(), 1);
        assert_eq!(reply.items[0].name, "Ada");
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
