//! GET /system/metrics (recent tool calls), GET /metrics (Prometheus) and
//! the live stream of tool calls.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;
use microcore_registry::{CallRecord, Registry, prometheus, sse};

/// Call metrics: the last 1000 calls, Prometheus counters and histograms,
/// and every call live.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Metrics {
    http: Http,
    config: Config,
    registry: Registry,
}

impl Plugin for Metrics {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        let Some(system) = crate::guarded(&self.http, &self.config)? else {
            return Ok(());
        };
        system
            .get("/system/metrics", &self, Self::recent)
            .summary("The most recent tool calls (up to 1000), newest first");
        crate::raw::get(&system, "/metrics", &self, Self::prometheus);
        crate::raw::get(&system, "/system/metrics/stream", &self, Self::stream);
        Ok(())
    }
}

impl Metrics {
    async fn recent(self: Arc<Self>) -> Result<Vec<CallRecord>> {
        Ok(self.registry.recent_calls())
    }

    fn prometheus(&self) -> Response {
        let mut response = self.registry.prometheus().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus::CONTENT_TYPE),
        );
        response
    }

    fn stream(&self) -> Response {
        self.registry
            .stream(vec![], self.registry.watch_calls(), |call| sse::json(&call))
    }
}
