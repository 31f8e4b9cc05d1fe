//! Routes that answer something other than the JSON envelope: the SSE
//! streams and Prometheus text.

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use microcore_http::Http;

/// Serves `GET path` with `answer(plugin)`, kept out of OpenAPI (which
/// would describe it as JSON). Access is the guard's job, as for every
/// route of the handle. The route's place (for `routes` and collision
/// errors) is the caller's line.
#[track_caller]
pub(crate) fn get<P: Send + Sync + 'static>(
    http: &Http,
    path: &str,
    plugin: &Arc<P>,
    answer: fn(&P) -> Response,
) {
    let plugin = plugin.clone();
    http.route(
        Method::GET,
        path,
        axum::routing::get(move || {
            let plugin = plugin.clone();
            async move { answer(&plugin) }
        }),
    );
}
