//! GET /system/metrics (recent tool calls), GET /metrics (Prometheus) and
//! the live stream of tool calls.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use microcore_registry::{CallRecord, prometheus, sse};

use crate::prelude::*;
use crate::system::models::{Caller, Policy, raw_get};

/// Call metrics: the last 1000 calls, Prometheus counters and histograms,
/// and every call live.
#[plugin]
pub struct Metrics {
    http: Http,
    config: Config,
    registry: Registry,
    #[state]
    policy: Policy,
}

impl Plugin for Metrics {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        self.http
            .get("/system/metrics", &self, Self::recent)
            .summary("The most recent tool calls (up to 1000), newest first")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        raw_get(&self.http, "/metrics", &self, Self::prometheus);
        raw_get(&self.http, "/system/metrics/stream", &self, Self::stream);
        Ok(())
    }
}

impl Metrics {
    async fn recent(self: Arc<Self>, caller: Caller) -> Result<Vec<CallRecord>> {
        self.policy.allow(caller)?;
        Ok(self.registry.recent_calls())
    }

    fn prometheus(&self, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
        let mut response = self.registry.prometheus().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus::CONTENT_TYPE),
        );
        response
    }

    fn stream(&self, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
        self.registry
            .stream(vec![], self.registry.watch_calls(), |call| sse::json(&call))
    }
}
