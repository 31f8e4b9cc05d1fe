//! GET /system/dashboard: one page, embedded in the binary, that draws the
//! other system routes live (dependency graph, event stream, trace trees,
//! call metrics). Plain HTML, CSS and JS: no CDN, no build step.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;

/// The page itself; it reads `/system/status`, `/system/metrics` and the
/// three SSE streams from the same origin.
const PAGE: &str = include_str!("../assets/dashboard.html");

/// The live dashboard.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Dashboard {
    http: Http,
    config: Config,
}

impl Plugin for Dashboard {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if let Some(system) = crate::guarded(&self.http, &self.config)? {
            // HTML, not a JSON envelope: kept out of OpenAPI, where it
            // would be described (and fuzzed) as JSON.
            system
                .get("/system/dashboard", &self, Self::page)
                .summary("The live dashboard (HTML)")
                .hidden();
        }
        Ok(())
    }
}

impl Dashboard {
    async fn page(self: Arc<Self>) -> Response {
        let mut response = Html(PAGE).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}
