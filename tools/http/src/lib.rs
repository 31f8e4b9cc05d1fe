//! The `http` tool: routes registered by plugins, served by axum, wrapped
//! in one transport stack (request ids, CORS, body limit, timeout, security
//! headers) and one JSON envelope for every answer, errors included.

mod access;
mod conflicts;
mod docs_page;
mod extract;
mod handle;
mod handler;
mod head_limits;
mod layers;
mod measure;
mod openapi;
mod panic;
mod reply;
mod scope;
mod serve;
mod settings;
mod tool;
mod trace;
mod validation;

/// HTTP status codes by name, for `.with_status(StatusCode::CONFLICT.as_u16())`
/// on an error or `.responds(..)` on a route.
///
/// ```
/// assert_eq!(microcore_http::StatusCode::CREATED.as_u16(), 201);
/// ```
pub use axum::http::StatusCode;
pub use extract::{Json, JsonBody, Path, Query, Rejection};
pub use handle::{Http, RouteDoc, RouteInfo};
pub use handler::{Describe, Extract, PluginFn, RouteHandler, Serve, ViaBody, ViaParts};
pub use layers::REQUEST_ID;
pub use measure::{Hit, RecordHits};
pub use openapi::{ApiArg, ApiBody, ApiReply, BEARER, OperationDoc};
pub use reply::{
    Created, IntoReply, Reply, ReplyBody, error_envelope, error_response, status_of, success,
};
pub use scope::provided;
pub use settings::HttpSettings;
pub use tool::AxumHttp;
pub use utoipa::{IntoParams, ToSchema};
pub use validator::{Validate, ValidationError};
