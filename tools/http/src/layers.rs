//! The transport stack every route gets: request ids, security headers,
//! CORS, body limit, timeout, panic recovery, and the envelope on every
//! error the framework itself produces (404, 405, 413, 415, rejections).

use std::any::Any;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::reply::error_envelope;
use crate::settings::HttpSettings;

/// `X-Request-ID`: kept when the client sends one, generated otherwise.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the transport stack (outermost first in the reading order
/// of the code below: the last `.layer` call runs first).
pub(crate) fn apply(router: Router, settings: &HttpSettings) -> Router {
    router
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(cause_scope))
        .layer(RequestBodyLimitLayer::new(settings.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.timeout,
        ))
        // Outside the limit and the timeout, so their answers get the envelope too.
        .layer(middleware::from_fn(envelope_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(cors(settings))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn cors(settings: &HttpSettings) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::HEAD,
        ])
        .max_age(std::time::Duration::from_secs(600));
    match &settings.cors_origins {
        None => layer.allow_origin(AnyOrigin).allow_headers(AnyOrigin),
        Some(list) => {
            let origins: Vec<HeaderValue> = list.iter().filter_map(|o| o.parse().ok()).collect();
            layer
                .allow_origin(AllowOrigin::list(origins))
                .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
                .allow_credentials(settings.cors_credentials)
        }
    }
}

/// A panic in a handler: a 500 envelope; the cause goes to the log only.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!("handler panicked: {message}");
    error_envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal server error",
        &[],
    )
}

/// Runs the request with its id as the causal root of whatever it
/// publishes (see `microcore::cause`).
async fn cause_scope(request: Request, next: Next) -> Response {
    let id: std::sync::Arc<str> = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .into();
    microcore::cause::scope(id, next.run(request)).await
}

/// Errors answered by axum or tower-http (not by a handler) come as plain
/// text; give them the envelope, with a fixed message per status so no
/// submitted value is echoed.
async fn envelope_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "Request body too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Expected a JSON body (Content-Type: application/json)"
        }
        StatusCode::REQUEST_TIMEOUT => "Request timed out",
        StatusCode::UNPROCESSABLE_ENTITY => "Invalid request body",
        StatusCode::BAD_REQUEST => "Bad request",
        s if s.is_server_error() => "Internal server error",
        s => s.canonical_reason().unwrap_or("Request failed"),
    };
    let mut enveloped = error_envelope(status, message, &[]);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            enveloped.headers_mut().append(name.clone(), value.clone());
        }
    }
    enveloped
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
