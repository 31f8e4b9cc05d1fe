//! OpenAPI 3.1, generated from the handlers' own types: each extractor
//! argument ([`ApiArg`]) and the return type ([`ApiReply`]) describe their
//! part of the operation when the route is registered, so there is no
//! second list of routes to keep in sync.

use std::collections::BTreeMap;

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, RefOr,
    Required, ResponseBuilder,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::extract::{Json, Path, Query};
use crate::reply::Reply;

/// Name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// What one route contributes to the document; filled by its handler's
/// types, then by the route builder (`.tag()`, `.responds()`, ...).
#[derive(Debug, Clone, Default)]
pub struct OperationDoc {
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) body: Option<RequestBody>,
    pub(crate) success: Option<(u16, RefOr<Schema>)>,
    pub(crate) errors: BTreeMap<u16, String>,
    pub(crate) secured: bool,
    pub(crate) schemas: Vec<(String, RefOr<Schema>)>,
    pub(crate) path_schema: Option<RefOr<Schema>>,
    pub(crate) tags: Vec<String>,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) operation_id: Option<String>,
    pub(crate) hidden: bool,
    pub(crate) auth: Option<&'static str>,
    /// Tools the handler's arguments need (`auth` for `AuthUser`), with
    /// the argument's name.
    pub(crate) needs: Vec<(&'static str, &'static str)>,
}

impl OperationDoc {
    /// Documents an error status this route can answer.
    pub fn error(&mut self, status: u16, description: impl Into<String>) {
        self.errors
            .entry(status)
            .or_insert_with(|| description.into());
    }

    /// Says who may call the route, for the `routes` command (`secure`
    /// says `bearer`); it adds nothing to the OpenAPI document.
    pub fn requires(&mut self, who: &'static str) {
        self.auth = Some(who);
    }

    /// Says that argument `argument` needs tool `tool` to work (what an
    /// extractor that reads a tool's state declares in its
    /// [`ApiArg::describe`]): the route's plugin then depends on that tool,
    /// and the boot marks it `DEAD`, naming this route, when the tool is
    /// not set up.
    ///
    /// ```
    /// # let mut doc = microcore_http::OperationDoc::default();
    /// doc.needs("auth", "AuthUser");
    /// ```
    pub fn needs(&mut self, tool: &'static str, argument: &'static str) {
        self.needs.push((tool, argument));
    }

    /// Marks the route as needing a bearer token (401 when missing or bad).
    pub fn secure(&mut self) {
        self.secured = true;
        self.requires("bearer");
        self.error(401, "Missing, invalid or expired token");
    }

    /// Adds a schema and the schemas it refers to as components.
    pub fn schema<T: ToSchema>(&mut self) -> RefOr<Schema> {
        T::schemas(&mut self.schemas);
        T::schema()
    }
}

/// A handler argument that documents itself (a parameter, a body, a
/// security requirement).
///
/// Implement it for your own extractors, saying how the argument is
/// extracted: [`ViaParts`](crate::ViaParts) for an axum
/// `FromRequestParts`, [`ViaBody`](crate::ViaBody) for a `FromRequest`
/// that reads the body. An extractor that adds nothing to the document
/// has nothing else to write:
///
/// ```
/// # struct MyExtractor;
/// impl microcore_http::ApiArg for MyExtractor {
///     type Via = microcore_http::ViaParts;
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a handler argument that microcore cannot document in OpenAPI",
    note = "use `microcore_http::{{Json, Query, Path}}` or an auth extractor, or add `impl microcore_http::ApiArg for {Self} {{ type Via = microcore_http::ViaParts; }}` (`ViaBody` if it reads the body; a `describe` may add what it needs to the operation)"
)]
pub trait ApiArg {
    /// How the argument is extracted: [`ViaParts`](crate::ViaParts) or
    /// [`ViaBody`](crate::ViaBody).
    type Via;

    /// Adds this argument's part of the operation.
    fn describe(doc: &mut OperationDoc) {
        let _ = doc;
    }
}

/// A handler's return type, documented as the success response.
pub trait ApiReply {
    /// Adds the success response (and any error it always may answer).
    fn describe(doc: &mut OperationDoc);
}

/// A success body: its schema inside the envelope.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be documented as a reply: it does not implement `ToSchema`",
    label = "the handler's success type",
    note = "add `#[derive(serde::Serialize, microcore_http::ToSchema)]` to `{Self}`"
)]
pub trait ApiBody {
    /// The status and the `data` schema.
    fn describe(doc: &mut OperationDoc);
}

// Not recommended: the note above names the derives, the failed bound one.
#[diagnostic::do_not_recommend]
impl<T: ToSchema> ApiBody for T {
    fn describe(doc: &mut OperationDoc) {
        let data = (T::name() != "TupleUnit").then(|| doc.schema::<T>());
        doc.success = Some((200, success_envelope(data)));
    }
}

impl<T: ToSchema, const STATUS: u16> ApiBody for Reply<T, STATUS> {
    fn describe(doc: &mut OperationDoc) {
        <T as ApiBody>::describe(doc);
        if let Some(success) = &mut doc.success {
            success.0 = STATUS;
        }
    }
}

impl<T: ApiBody> ApiReply for Result<T, microcore::Error> {
    fn describe(doc: &mut OperationDoc) {
        T::describe(doc);
    }
}

impl ApiReply for axum::response::Response {
    fn describe(doc: &mut OperationDoc) {
        doc.success
            .get_or_insert((200, ObjectBuilder::new().into()));
    }
}

impl<T: ToSchema> ApiArg for Json<T> {
    type Via = crate::ViaBody;
    fn describe(doc: &mut OperationDoc) {
        let schema = doc.schema::<T>();
        doc.body = Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .required(Some(Required::True))
                .build(),
        );
        doc.error(400, "Malformed JSON body");
        doc.error(413, "Request body too large");
        doc.error(415, "Not a JSON body");
        doc.error(422, "Invalid field values");
    }
}

impl<T: IntoParams> ApiArg for Query<T> {
    type Via = crate::ViaParts;
    fn describe(doc: &mut OperationDoc) {
        doc.parameters
            .extend(T::into_params(|| Some(ParameterIn::Query)));
        doc.error(422, "Invalid query parameters");
    }
}

impl<T: PartialSchema> ApiArg for Path<T> {
    type Via = crate::ViaParts;
    fn describe(doc: &mut OperationDoc) {
        doc.path_schema = Some(T::schema());
        doc.error(422, "Invalid path parameter");
    }
}

impl ApiArg for axum::http::HeaderMap {
    type Via = crate::ViaParts;
}
impl ApiArg for axum::http::Method {
    type Via = crate::ViaParts;
}
impl ApiArg for axum::http::Uri {
    type Via = crate::ViaParts;
}
impl<T> ApiArg for axum::Extension<T> {
    type Via = crate::ViaParts;
}
#[cfg(feature = "ws")]
impl ApiArg for axum::extract::ws::WebSocketUpgrade {
    type Via = crate::ViaParts;
}

/// `{"success": true, "data": …}` (or without `data`).
fn success_envelope(data: Option<RefOr<Schema>>) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .property("success", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("success");
    if let Some(data) = data {
        object = object.property("data", data).required("data");
    }
    object.into()
}

/// `{"success": false, "error": "…", "details": [{field, message}]}`.
fn error_envelope_schema() -> Schema {
    let detail = ObjectBuilder::new()
        .property("field", ObjectBuilder::new().schema_type(Type::String))
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("field")
        .required("message");
    ObjectBuilder::new()
        .property("success", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("error", ObjectBuilder::new().schema_type(Type::String))
        .property("details", ArrayBuilder::new().items(detail))
        .required("success")
        .required("error")
        .into()
}

/// One route as the document sees it.
#[derive(Debug)]
pub(crate) struct DocumentedRoute<'a> {
    pub(crate) method: &'static str,
    pub(crate) path: &'a str,
    pub(crate) doc: &'a OperationDoc,
}

/// The whole document.
pub(crate) fn document(title: &str, routes: &[DocumentedRoute<'_>]) -> OpenApi {
    let mut paths = PathsBuilder::new().build();
    let mut components = ComponentsBuilder::new()
        .schema("ErrorEnvelope", error_envelope_schema())
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    let mut tags = std::collections::BTreeSet::new();
    for route in routes.iter().filter(|r| !r.doc.hidden) {
        let Some(method) = http_method(route.method) else {
            continue;
        };
        let doc = route.doc;
        let mut op = OperationBuilder::new()
            .operation_id(doc.operation_id.clone())
            .summary(doc.summary.clone())
            .description(doc.description.clone())
            .tags(Some(doc.tags.clone()));
        tags.extend(doc.tags.iter().cloned());
        for name in path_params(route.path) {
            let schema = doc
                .path_schema
                .clone()
                .unwrap_or_else(|| ObjectBuilder::new().schema_type(Type::String).into());
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(schema)),
            );
        }
        for p in &doc.parameters {
            op = op.parameter(p.clone());
        }
        op = op.request_body(doc.body.clone());
        let (status, schema) = doc.success.clone().unwrap_or((200, success_envelope(None)));
        op = op.response(
            status.to_string(),
            ResponseBuilder::new().description("Success").content(
                "application/json",
                ContentBuilder::new().schema(Some(schema)).build(),
            ),
        );
        for (status, description) in &doc.errors {
            op = op.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(description.clone())
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name(
                                "ErrorEnvelope",
                            )))
                            .build(),
                    ),
            );
        }
        if doc.secured {
            op = op.security(SecurityRequirement::new::<_, _, &str>(BEARER, []));
        }
        paths.add_path_operation(route.path, vec![method], op.build());
        for (name, schema) in &doc.schemas {
            components = components.schema(name.clone(), schema.clone());
        }
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(title)
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(
            tags.into_iter()
                .map(|t| TagBuilder::new().name(t).build())
                .collect::<Vec<_>>(),
        ))
        .build()
}

fn http_method(method: &str) -> Option<HttpMethod> {
    Some(match method {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => return None,
    })
}

/// `{user_id}` segments of a route path.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_start_matches('*'))
}
