//! The transport stack every route gets: request ids, security headers,
//! CORS, body limit, timeout, panic recovery, and the envelope on every
//! error the framework itself produces (404, 405, 413, 414, 415, 431,
//! rejections).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tower::ServiceBuilder;
use tower::util::MapResponseLayer;
use tower_http::cors::{AllowOrigin, Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::head_limits::HeadLimitsLayer;
use crate::measure::MeasureLayer;
use crate::panic::CatchPanicLayer;
use crate::panic::RouteOwners;
use crate::reply::error_envelope;
use crate::scope::{Provided, ScopeLayer};
use crate::settings::HttpSettings;
use crate::trace::TraceLayer;

/// `X-Request-ID`: kept when the client sends one, generated otherwise.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The body of what the body limit answers (the route's, or its own 413).
type LimitedBody = tower_http::limit::ResponseBody<Body>;

/// What tools add to the stack: the values every request carries and the
/// registry that counts requests.
#[derive(Default)]
pub(crate) struct Contributions {
    pub(crate) provided: Provided,
    pub(crate) measure: Option<Arc<dyn crate::RecordHits>>,
    /// Who serves each route, for the log line of a panic.
    pub(crate) owners: Arc<RouteOwners>,
}

/// Wraps every route of `router` in the transport stack: one
/// `ServiceBuilder`, applied with one `Router::layer`, so a request pays
/// for one boxed service whatever the number of layers (each
/// `Router::layer` boxes every route again; seventeen of them cost a
/// `/ping` 2.6× what a hand-written axum server spends). Outermost first.
pub(crate) fn apply(router: Router, settings: &HttpSettings, tools: Contributions) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(cors(settings))
            // Outside the panic catcher, the limit and the timeout: their
            // answers are counted with their status.
            .layer(MeasureLayer {
                registry: tools.measure,
            })
            // Before anything reads the head: a refused one is still counted.
            .layer(HeadLimitsLayer {
                max_uri: settings.max_uri_bytes,
                max_headers: settings.max_header_bytes,
            })
            .layer(CatchPanicLayer {
                owners: tools.owners,
            })
            // A server span (only when traces are exported), around the
            // handler and what it publishes.
            .layer(TraceLayer::new())
            // Outside the limit and the timeout, so their answers get the envelope too.
            .layer(MapResponseLayer::new(
                envelope_errors::<LimitedBody> as fn(Response<LimitedBody>) -> Response,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                settings.timeout,
            ))
            .layer(RequestBodyLimitLayer::new(settings.body_limit))
            .layer(ScopeLayer {
                provided: tools.provided,
            })
            .layer(DefaultBodyLimit::disable()),
    )
}

/// A random (v4) UUID for a request that came without an id. Written
/// straight into the header's bytes: tower-http's `MakeRequestUuid` formats
/// a `String` first, one more allocation and a formatter on every request.
#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
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

/// Errors answered by axum or tower-http (not by a handler) come as plain
/// text; give them the envelope, with a fixed message per status so no
/// submitted value is echoed.
fn envelope_errors<B>(response: Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(Body::new);
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
