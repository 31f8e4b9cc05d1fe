//! GET /system/logs/stream: every log line of the process, live.

use axum::response::Response;
use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;
use microcore_log::Log;
use microcore_registry::{Registry, sse};

/// The live log.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Logs {
    http: Http,
    config: Config,
    registry: Registry,
    log: Log,
}

impl Plugin for Logs {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if let Some(system) = crate::guarded(&self.http, &self.config)? {
            crate::raw::get(&system, "/system/logs/stream", &self, Self::stream);
        }
        Ok(())
    }
}

impl Logs {
    fn stream(&self) -> Response {
        self.registry
            .stream(vec![], self.log.watch(), |line| sse::json(&line))
    }
}
