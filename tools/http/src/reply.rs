//! The one JSON envelope: `{"success": true, "data": …}` and
//! `{"success": false, "error": "…"}`, written straight to bytes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use microcore::{Error, ErrorKind};
use serde::Serialize;

/// What a handler may return: `Result<T, Error>` where `T` is
/// [`Serialize`] (sent as `data`), `()` (no `data`), or a [`Reply`].
pub trait IntoReply {
    /// The HTTP response.
    fn into_reply(self) -> Response;
}

/// A success answer with a chosen status or extra headers.
///
/// ```
/// use microcore_http::Reply;
/// use axum::http::StatusCode;
///
/// let created = Reply::new(serde_json::json!({"id": 1})).status(StatusCode::CREATED);
/// # let _ = created;
/// ```
#[derive(Debug)]
pub struct Reply<T> {
    body: T,
    status: StatusCode,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl<T: Serialize> Reply<T> {
    /// `200 OK` with `data: body`.
    pub fn new(body: T) -> Self {
        Self {
            body,
            status: StatusCode::OK,
            headers: Vec::new(),
        }
    }

    /// Another success status (`201 Created`, ...).
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a header (`Set-Cookie`, ...).
    pub fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A success body as it goes in the envelope.
pub trait ReplyBody {
    /// The HTTP response.
    fn into_response(self) -> Response;
}

impl<T: Serialize> ReplyBody for T {
    fn into_response(self) -> Response {
        success(StatusCode::OK, &self)
    }
}

impl<T: Serialize> ReplyBody for Reply<T> {
    fn into_response(self) -> Response {
        let mut response = success(self.status, &self.body);
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

impl<T: ReplyBody> IntoReply for Result<T, Error> {
    fn into_reply(self) -> Response {
        match self {
            Ok(body) => body.into_response(),
            Err(e) => error_response(&e),
        }
    }
}

impl IntoReply for Response {
    fn into_reply(self) -> Response {
        self
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `{"success":true,"data":…}`; a body that serializes to `null` (`()`)
/// gives `{"success":true}`.
pub fn success<T: Serialize + ?Sized>(status: StatusCode, data: &T) -> Response {
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(br#"{"success":true,"data":"#);
    let start = bytes.len();
    if let Err(e) = serde_json::to_writer(&mut bytes, data) {
        return error_response(&Error::internal(format!("response did not serialize: {e}")));
    }
    if &bytes[start..] == b"null" {
        bytes.truncate(start - br#","data":"#.len());
    }
    bytes.push(b'}');
    json_response(status, bytes)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    success: bool,
    error: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [microcore::FieldError],
}

/// The envelope for an error. Internal errors are logged with their cause
/// and answered with a fixed message: no detail leaks to callers.
pub fn error_response(e: &Error) -> Response {
    let status =
        StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match e.kind() {
        ErrorKind::Internal | ErrorKind::Config => {
            tracing::error!("request failed: {}", e.chain());
            "Internal server error"
        }
        ErrorKind::Unavailable => {
            tracing::warn!("dependency unavailable: {}", e.chain());
            "Service unavailable"
        }
        _ => e.message(),
    };
    error_envelope(status, message, e.details())
}

/// `{"success":false,"error":message}` with `status`.
pub fn error_envelope(
    status: StatusCode,
    message: &str,
    details: &[microcore::FieldError],
) -> Response {
    let body = ErrorBody {
        success: false,
        error: message,
        details,
    };
    let bytes = serde_json::to_vec(&body)
        .unwrap_or_else(|_| br#"{"success":false,"error":"Internal server error"}"#.to_vec());
    let mut response = json_response(status, bytes);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Every 503 is temporary (a dependency down, a saturated stage):
        // tell clients when to come back rather than let them hammer.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, RETRY_AFTER_SECS);
    }
    response
}

/// The `Retry-After` of a 503, in seconds.
const RETRY_AFTER_SECS: HeaderValue = HeaderValue::from_static("1");

fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}
