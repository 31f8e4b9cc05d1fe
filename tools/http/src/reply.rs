//! The one JSON envelope: `{"success": true, "data": …}` and
//! `{"success": false, "error": "…"}`, written straight to bytes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use microcore::{Error, ErrorKind};
use serde::Serialize;

/// What a handler may return: `Result<T, Error>` where `T` is
/// [`Serialize`] (sent as `data`), `()` (no `data`), or a [`Reply`].
#[diagnostic::on_unimplemented(
    message = "a route handler cannot return `{Self}`",
    label = "the handler's return type",
    note = "return `Result<T>` (microcore's `Result`), where `T` derives `serde::Serialize` and `microcore_http::ToSchema`; `Result<Created<T>>` answers 201"
)]
pub trait IntoReply {
    /// The HTTP response.
    fn into_reply(self) -> Response;
}

/// A success answer with a status other than 200, or extra headers. The
/// status is part of the type, so the OpenAPI document states the status
/// the route sends: `Created<T>` (201) for a creation.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_http::{Created, Reply};
///
/// async fn create() -> Result<Created<serde_json::Value>> {
///     Ok(Created::new(serde_json::json!({"id": 1})))
/// }
///
/// async fn accept() -> Result<Reply<(), 202>> {
///     Ok(Reply::new(()))
/// }
/// ```
#[derive(Debug)]
pub struct Reply<T, const STATUS: u16 = 200> {
    body: T,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

/// `201 Created` with `data: body`.
pub type Created<T> = Reply<T, 201>;

impl<T: Serialize, const STATUS: u16> Reply<T, STATUS> {
    /// `STATUS` (200 unless the type says otherwise) with `data: body`.
    pub fn new(body: T) -> Self {
        const {
            assert!(
                STATUS >= 200 && STATUS < 300,
                "a success reply's status is 2xx: answer errors with `Err(Error::...)`"
            );
        }
        Self {
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a header (`Set-Cookie`, ...).
    pub fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The body, for a plugin test that calls the handler.
    ///
    /// ```
    /// let reply = microcore_http::Created::new(7);
    /// assert_eq!(reply.into_body(), 7);
    /// ```
    pub fn into_body(self) -> T {
        self.body
    }
}

/// A success body as it goes in the envelope: any `Serialize` type, or a
/// [`Reply`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a reply: it does not implement `Serialize`",
    label = "the handler's success type",
    note = "add `#[derive(serde::Serialize, microcore_http::ToSchema)]` to `{Self}` (the `data` of the JSON envelope, documented in OpenAPI), or return `Result<()>` for no data"
)]
pub trait ReplyBody {
    /// The HTTP response.
    fn into_response(self) -> Response;
}

// Not recommended: the note above names the derives, the failed bound one.
#[diagnostic::do_not_recommend]
impl<T: Serialize> ReplyBody for T {
    fn into_response(self) -> Response {
        success(StatusCode::OK, &self)
    }
}

impl<T: Serialize, const STATUS: u16> ReplyBody for Reply<T, STATUS> {
    fn into_response(self) -> Response {
        // `new` checked at compile time that STATUS is 2xx.
        let status = StatusCode::from_u16(STATUS).unwrap_or(StatusCode::OK);
        let mut response = success(status, &self.body);
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

/// The HTTP status of an error kind: the kernel's kinds say *what* went
/// wrong, and this table, the transport's, says how it is answered.
///
/// ```
/// use microcore::{Error, ErrorKind};
/// use microcore_http::status_of;
///
/// assert_eq!(status_of(ErrorKind::Validation), 422);
/// assert_eq!(status_of(Error::not_found("no such user").kind()), 404);
/// assert_eq!(status_of(Error::business("taken").with_status(409).kind()), 409);
/// assert_eq!(status_of(ErrorKind::Config), 500);
/// ```
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Validation => 422,
        ErrorKind::Business(status) => status,
        ErrorKind::Unauthenticated => 401,
        ErrorKind::Forbidden => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal | ErrorKind::Config => 500,
    }
}

/// The envelope for an error. Internal errors are logged with their cause
/// and answered with a fixed message: no detail leaks to callers.
pub fn error_response(e: &Error) -> Response {
    let status =
        StatusCode::from_u16(status_of(e.kind())).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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
