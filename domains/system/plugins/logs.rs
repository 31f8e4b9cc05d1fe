//! GET /system/logs/stream: every log line of the process, live.

use axum::response::Response;
use microcore_registry::sse;

use crate::prelude::*;
use crate::system::models::{Caller, Policy, raw_get};

/// The live log.
#[plugin]
pub struct Logs {
    http: Http,
    config: Config,
    registry: Registry,
    log: Log,
    #[state]
    policy: Policy,
}

impl Plugin for Logs {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        raw_get(&self.http, "/system/logs/stream", &self, Self::stream);
        Ok(())
    }
}

impl Logs {
    fn stream(&self, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
        self.registry
            .stream(vec![], self.log.watch(), |line| sse::json(&line))
    }
}
