// A `Json<T>` body whose `T` derives `Deserialize` but not `Validate`.
use microcore::prelude::*;
use microcore_http::{Http, Json, ToSchema};

#[derive(serde::Deserialize, ToSchema)]
pub struct NewNote {
    pub text: String,
}

pub struct AddNote {
    http: Http,
}

impl AddNote {
    async fn add(self: Arc<Self>, Json(note): Json<NewNote>) -> Result<String> {
        Ok(note.text)
    }

    fn wire(self: &Arc<Self>) {
        self.http.post("/notes", self, Self::add);
    }
}

fn main() {}
