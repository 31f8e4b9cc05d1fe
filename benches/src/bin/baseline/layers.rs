//! The transport stack, layer for layer the one of `tools/http/src/layers.rs`
//! (request id set and propagated, security headers, CORS, panic recovery,
//! timeout, body limit), with framework errors given the envelope by a
//! plain response mapper.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::map_response;
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::envelope;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The app's defaults: `HTTP_BODY_LIMIT` 1 MiB, `HTTP_TIMEOUT_SECS` 30.
const BODY_LIMIT: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `router` in the transport stack, outermost first in the order of
/// the app's stack.
///
/// By default as one `ServiceBuilder` applied with a single
/// `Router::layer`, as axum's docs recommend for several middleware: each
/// route gets one boxed service, however many layers the stack holds.
/// With `separate` (`BASELINE_LAYERS=separate`), one `Router::layer` per
/// middleware, as `tools/http/src/layers.rs` does: every call boxes each
/// route once more, which the benchmark measures to show what that
/// structure costs.
pub(crate) fn apply(router: Router, separate: bool) -> Router {
    let cors = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::HEAD,
        ])
        .max_age(Duration::from_secs(600))
        .allow_origin(AnyOrigin)
        .allow_headers(AnyOrigin);
    let frame = SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    );
    let nosniff = SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, TIMEOUT);
    if separate {
        return router
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(timeout)
            .layer(map_response(envelope_errors::<Body>))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(cors)
            .layer(nosniff)
            .layer(frame)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    }
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(frame)
            .layer(nosniff)
            .layer(cors)
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(map_response(envelope_errors))
            .layer(timeout)
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(DefaultBodyLimit::disable()),
    )
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!("handler panicked");
    envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

/// Plain-text errors from axum or tower-http (405, 408, 413, ...) get the
/// envelope; handlers' own answers are JSON already and pass untouched.
async fn envelope_errors<B>(response: Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(Body::new);
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "Request body too large",
        StatusCode::REQUEST_TIMEOUT => "Request timed out",
        s if s.is_server_error() => "Internal server error",
        s => s.canonical_reason().unwrap_or("Request failed"),
    };
    let mut enveloped = envelope::error(status, message);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            enveloped.headers_mut().append(name.clone(), value.clone());
        }
    }
    enveloped
}
