//! The JSON envelope, `{"success":true,"data":…}` and
//! `{"success":false,"error":"…"}`, as the app answers it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Success<'a, T> {
    success: bool,
    data: &'a T,
}

#[derive(Serialize)]
struct Failure<'a> {
    success: bool,
    error: &'a str,
}

/// `200` with `{"success":true,"data":data}`.
pub(crate) fn ok<T: Serialize>(data: &T) -> Response {
    match serde_json::to_vec(&Success {
        success: true,
        data,
    }) {
        Ok(bytes) => json(StatusCode::OK, bytes),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

/// `status` with `{"success":false,"error":message}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let bytes = serde_json::to_vec(&Failure {
        success: false,
        error: message,
    })
    .unwrap_or_else(|_| br#"{"success":false,"error":"Internal server error"}"#.to_vec());
    json(status, bytes)
}

fn json(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
