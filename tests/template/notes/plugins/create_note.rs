//! POST /notes: the `notes.CreateNote` plugin. Creates a row of `notes` and answers it with 201. Say here why.

use crate::notes::models::{Note, notes};
use crate::prelude::*;

/// Serves `POST /notes` on the `notes` table.
#[plugin]
pub struct CreateNote {
    http: Http,
    db: Db,
}

/// The body of a `POST /notes` request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateNoteRequest {
    /// 1 to 100 characters.
    #[validate(length(min = 1, max = 100))]
    name: String,
}

impl Plugin for CreateNote {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.post("/notes", &self, Self::execute);
        Ok(())
    }
}

impl CreateNote {
    async fn execute(
        self: Arc<Self>,
        Json(request): Json<CreateNoteRequest>,
    ) -> Result<Created<Note>> {
        let row = notes::ActiveModel {
            name: Set(request.name),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(Created::new(Note::from(row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_from_the_table() {
        // Db::memory(): a fresh in-memory SQLite with every migration applied.
        let db = Db::memory().await.unwrap();
        let plugin = Arc::new(CreateNote {
            http: Http::detached(),
            db: db.clone(),
        });
        let created = plugin
            .execute(Json(CreateNoteRequest { name: "Ada".into() }))
            .await
            .unwrap()
            .into_body();
        assert_eq!(created.name, "Ada");
        let stored = notes::Entity::find_by_id(created.id)
            .one(&db)
            .await
            .unwrap();
        assert_eq!(stored.map(|r| r.name).as_deref(), Some("Ada"));
    }
}
