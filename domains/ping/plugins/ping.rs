//! GET /ping: the liveness check of the example app.

use crate::prelude::*;

/// Answers `GET /ping` with `{"status": "ok", "message": "pong"}`.
#[plugin]
pub struct Ping {
    http: Http,
}

/// The body of a `/ping` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pong {
    status: &'static str,
    message: &'static str,
}

impl Plugin for Ping {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/ping", &self, Self::execute);
        Ok(())
    }
}

impl Ping {
    async fn execute(self: Arc<Self>) -> Result<Pong> {
        Ok(Pong {
            status: "ok",
            message: "pong",
        })
    }
}
