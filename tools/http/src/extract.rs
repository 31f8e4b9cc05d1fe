//! Extractors whose every rejection is the JSON envelope: `Json`, `Query`
//! and `Path`. Input errors name the field and the rule, never the value
//! sent (error bodies must not echo passwords or multi-megabyte strings).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use microcore::{Error, FieldError};
use serde::de::DeserializeOwned;

use crate::reply::error_response;

/// A JSON request body, deserialized then validated (`validator::Validate`).
///
/// Not JSON (`Content-Type` missing or other) → 415; malformed JSON or
/// invalid UTF-8 → 400; wrong types, missing fields or broken rules → 422
/// with `details: [{field, message}]`. Unknown fields are ignored.
///
/// ```
/// use microcore_http::{Json, Validate};
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Validate)]
/// struct Register {
///     #[validate(length(min = 1, max = 100))]
///     name: String,
///     #[validate(email)]
///     email: String,
/// }
/// // In a handler: `async fn register(self: Arc<Self>, Json(body): Json<Register>) -> Result<...>`
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// Query parameters, deserialized then validated; errors → 422 with details.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// Path parameters (`/users/{user_id}`); a value of the wrong type → 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

/// What a [`Json<T>`] body or a [`Query<T>`] decodes into: a type that
/// deserializes and validates. Nothing to implement: derive both.
///
/// ```
/// use microcore_http::{JsonBody, Validate};
///
/// #[derive(serde::Deserialize, Validate)]
/// struct Rename {
///     #[validate(length(min = 1))]
///     name: String,
/// }
/// fn is_body<T: JsonBody>() {}
/// is_body::<Rename>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a request: it must derive `Deserialize` and `Validate`",
    label = "the type inside `Json<...>` or `Query<...>`",
    note = "add `#[derive(serde::Deserialize, microcore_http::Validate)]` (and `microcore_http::ToSchema` for OpenAPI) to `{Self}`; a field without rules needs no `#[validate(...)]`"
)]
pub trait JsonBody: DeserializeOwned + validator::Validate {}

// Not recommended: the note above names both derives, the failed bound one.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + validator::Validate> JsonBody for T {}

impl<T, S> FromRequest<S> for Json<T>
where
    T: JsonBody,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Rejection> {
        if !is_json(req.headers()) {
            return Err(rejection(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a JSON body (Content-Type: application/json)",
            ));
        }
        let bytes = match bytes::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(rejection(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body too large",
                ));
            }
            Err(_) => {
                return Err(rejection(
                    StatusCode::BAD_REQUEST,
                    "Could not read the request body",
                ));
            }
        };
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => value,
            Err(e) => {
                let inner = e.inner();
                if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                    return Err(rejection(StatusCode::BAD_REQUEST, "Malformed JSON body"));
                }
                let field = e.path().to_string();
                return Err(reject(vec![field_error(
                    &field,
                    &inner.to_string(),
                    "body",
                )]));
            }
        };
        if de.end().is_err() {
            return Err(rejection(StatusCode::BAD_REQUEST, "Malformed JSON body"));
        }
        validate(&value)?;
        Ok(Json(value))
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: JsonBody,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            reject(vec![field_error(&field, &e.inner().to_string(), "query")])
        })?;
        validate(&value)?;
        Ok(Query(value))
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let field = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key } => key.clone(),
                    ErrorKind::DeserializeError { key, .. } => key.clone(),
                    // A single value (`Path<i64>`) carries no key: name the route's parameter.
                    _ => axum::extract::RawPathParams::from_request_parts(parts, state)
                        .await
                        .ok()
                        .and_then(|params| params.iter().next().map(|(k, _)| k.to_string()))
                        .unwrap_or_else(|| "path".to_string()),
                };
                let message = match e.kind() {
                    ErrorKind::ParseErrorAtKey { expected_type, .. }
                    | ErrorKind::ParseError { expected_type, .. } => expected(expected_type),
                    _ => "is invalid".to_string(),
                };
                Err(reject(vec![FieldError { field, message }]))
            }
            Err(other) => Err(rejection(other.status(), "Invalid path")),
        }
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Why an extractor refused a request: answered with the envelope.
#[derive(Debug)]
pub struct Rejection(pub Error);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

fn rejection(status: StatusCode, message: &'static str) -> Rejection {
    Rejection(Error::business(message).with_status(status.as_u16()))
}

fn reject(details: Vec<FieldError>) -> Rejection {
    Rejection(Error::validation(details))
}

fn validate<T: validator::Validate>(value: &T) -> Result<(), Rejection> {
    value
        .validate()
        .map_err(|errors| reject(crate::validation::field_errors(&errors)))
}

/// A serde message without the submitted value: serde's messages quote it
/// (`invalid type: string "hunter2", expected u32`), so keep only the rule.
/// An error about the input as a whole names the field serde names
/// (`missing field `email``, `duplicate field `limit``), else `whole`
/// (`"body"` or `"query"`): a query error never names the body.
fn field_error(path: &str, serde_message: &str, whole: &str) -> FieldError {
    let message = serde_message
        .split(" at line ")
        .next()
        .unwrap_or(serde_message);
    let at_top = path == "." || path.is_empty();
    let within = |name: &str| {
        if at_top {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    for (prefix, rule) in [
        ("missing field `", "is required"),
        ("duplicate field `", "is given more than once"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return FieldError {
                field: within(rest.trim_end_matches('`')),
                message: rule.into(),
            };
        }
    }
    let field = if at_top {
        whole.to_string()
    } else {
        path.to_string()
    };
    let message = match message.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None if message.starts_with("invalid type: null") || message.contains("null") => {
            "must not be null".into()
        }
        None => "is invalid".into(),
    };
    FieldError { field, message }
}

/// `i64` → "must be an integer", for path parameters.
fn expected(rust_type: &str) -> String {
    let kind = match rust_type.rsplit("::").next().unwrap_or(rust_type) {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => "an integer",
        "f32" | "f64" => "a number",
        "bool" => "true or false",
        "Uuid" => "a UUID",
        _ => "valid",
    };
    format!("must be {kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_the_submitted_value() {
        let e = field_error(
            "age",
            "invalid type: string \"hunter2\", expected u32 at line 1 column 20",
            "body",
        );
        assert_eq!(e.field, "age");
        assert_eq!(e.message, "expected u32");
        assert!(!format!("{e:?}").contains("hunter2"));
        let e = field_error(".", "missing field `email` at line 1 column 2", "body");
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("email", "is required")
        );
        let e = field_error(
            ".",
            "invalid type: null, expected struct Register at line 1 column 4",
            "body",
        );
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("body", "expected struct Register")
        );
    }

    #[test]
    fn a_query_error_names_the_query_parameter() {
        #[derive(Debug, serde::Deserialize, validator::Validate)]
        #[allow(dead_code)]
        struct Page {
            limit: Option<u32>,
            offset: Option<u32>,
        }
        let parse = |query: &str| {
            let (mut parts, ()) = axum::http::Request::get(format!("/users?{query}"))
                .body(())
                .unwrap()
                .into_parts();
            futures::executor::block_on(Query::<Page>::from_request_parts(&mut parts, &()))
                .unwrap_err()
                .0
        };
        for (query, field) in [
            ("limit=1&limit=2", "limit"),
            ("limit=x", "limit"),
            ("offset=-1", "offset"),
        ] {
            let e = parse(query);
            assert_eq!(e.details()[0].field, field, "{query}: {:?}", e.details());
        }
    }

    #[test]
    fn path_types_are_named_for_people() {
        assert_eq!(expected("i64"), "must be an integer");
        assert_eq!(expected("uuid::Uuid"), "must be a UUID");
    }
}
