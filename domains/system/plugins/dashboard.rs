//! GET /system/dashboard: one page, embedded in the binary, that draws the
//! other system routes live (dependency graph, event stream, trace trees,
//! call metrics). Plain HTML, CSS and JS: no CDN, no build step.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::prelude::*;
use crate::system::models::{Caller, Policy};

/// The page itself; it reads `/system/status`, `/system/metrics` and the
/// three SSE streams from the same origin.
const PAGE: &str = include_str!("../assets/dashboard.html");

/// The live dashboard.
#[plugin]
pub struct Dashboard {
    http: Http,
    config: Config,
    #[state]
    policy: Policy,
}

impl Plugin for Dashboard {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        // HTML, not a JSON envelope: kept out of OpenAPI, where it would
        // be described (and fuzzed) as JSON.
        self.http
            .get("/system/dashboard", &self, Self::page)
            .summary("The live dashboard (HTML)")
            .hidden();
        Ok(())
    }
}

impl Dashboard {
    /// A browser cannot add a bearer header to a page load, so in `token`
    /// mode the page (and the requests it makes) rely on the
    /// `access_token` cookie that `POST /auth/login` sets.
    async fn page(self: Arc<Self>, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
        let mut response = Html(PAGE).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}
