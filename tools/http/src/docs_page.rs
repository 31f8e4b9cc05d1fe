//! `GET /openapi.json`, and `GET /docs/`: Swagger UI, served from the
//! binary so the page works with no internet access.
//!
//! The page's files are Swagger UI's own `dist/` files (`assets/swagger-ui`,
//! Apache-2.0), embedded and served as they are. The swagger-ui crate
//! unpacks the same files from a zip at build time, which puts a dozen
//! crates of archive and compression code into every app's build and the
//! whole `dist/` folder (4 MB) into its binary; the page needs 2 MB of it.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::Redirect;
use axum::routing::get;
use bytes::Bytes;
use utoipa::openapi::OpenApi;

/// Each file of the page: its name under `/docs/`, its media type, its bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_bytes!("../assets/swagger-ui/index.html"),
    ),
    (
        "swagger-initializer.js",
        "text/javascript",
        include_bytes!("../assets/swagger-ui/swagger-initializer.js"),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript",
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui-standalone-preset.js",
        "text/javascript",
        include_bytes!("../assets/swagger-ui/swagger-ui-standalone-preset.js"),
    ),
    (
        "swagger-ui.css",
        "text/css",
        include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "index.css",
        "text/css",
        include_bytes!("../assets/swagger-ui/index.css"),
    ),
    (
        "favicon-32x32.png",
        "image/png",
        include_bytes!("../assets/swagger-ui/favicon-32x32.png"),
    ),
];

/// The routes of the document and of its page.
pub(crate) fn routes(api: &OpenApi) -> microcore::Result<Router> {
    // Serialised once: the document does not change after boot.
    let json = serde_json::to_vec(api).map_err(|e| {
        microcore::Error::internal(format!("the OpenAPI document does not serialise: {e}"))
    })?;
    let json = Bytes::from(json);
    let mut router = Router::new()
        .route(
            "/openapi.json",
            get(move || async move { ([(CONTENT_TYPE, "application/json")], json) }),
        )
        .route("/docs", get(|| async { Redirect::to("/docs/") }));
    for &(name, media_type, body) in FILES {
        router = router.route(
            &format!("/docs/{name}"),
            get(move || async move { ([(CONTENT_TYPE, media_type)], body) }),
        );
    }
    Ok(router)
}
