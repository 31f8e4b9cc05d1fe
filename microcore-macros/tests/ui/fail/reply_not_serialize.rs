// A handler whose success type does not implement `Serialize`.
use microcore::prelude::*;
use microcore_http::Http;

pub struct Note {
    pub text: String,
}

pub struct GetNote {
    http: Http,
}

impl GetNote {
    async fn get(self: Arc<Self>) -> Result<Note> {
        Ok(Note { text: "hi".into() })
    }

    fn wire(self: &Arc<Self>) {
        self.http.get("/note", self, Self::get);
    }
}

fn main() {}
