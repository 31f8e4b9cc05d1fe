//! The plugins `microcore add plugin notes <name> --route ... --table notes`
//! writes, kept verbatim under `tests/template/notes/` (microcore-cli's
//! `templates_match_the_fixture` test holds them equal to what the command
//! writes), compiled here as a domain of their own with no `use` but the
//! prelude and their models, and driven through the router on SQLite and
//! on PostgreSQL (each test with a database of its own): the typed queries
//! of the templates are portable. Their own unit tests run here too.
#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use microcore_http::Http;
use microcore_test_support::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

/// What `crate::prelude` is in an app: the domains prelude.
mod prelude {
    pub use domains::prelude::*;
}

/// The generated domain, as `domains/notes/` of an app.
#[path = "template/notes"]
mod notes {
    pub mod models;
    pub mod plugins {
        pub mod create_note;
        pub mod delete_note;
        pub mod get_note;
        pub mod list_notes;
        pub mod rename_note;
    }
}

// What the domains crate's build script embeds for the domain's migration pair.
microcore_db::migration_entry! {
    domain: "notes",
    name: "0001_create_notes",
    file: "tests/template/notes/migrations/0001_create_notes.<backend>.sql",
    up_sqlite: include_str!("template/notes/migrations/0001_create_notes.sqlite.sql"),
    up_postgres: include_str!("template/notes/migrations/0001_create_notes.postgres.sql"),
    down_sqlite: Some(include_str!("template/notes/migrations/0001_create_notes.down.sql")),
    down_postgres: Some(include_str!("template/notes/migrations/0001_create_notes.down.sql")),
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_plugins_serve_their_table_on_sqlite() {
    serve_the_table(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_plugins_serve_their_table_on_postgres() {
    serve_the_table(TestDb::postgres().await).await;
}

async fn serve_the_table(db: TestDb) {
    let running = microcore_app::app()
        .retain_plugins(|p| p.domain() == "notes")
        .with_var("HTTP_PORT", "0")
        .with_var("AI_CONTEXT_PATH", "")
        .with_var("DATABASE_URL", db.url.clone())
        .boot()
        .await
        .unwrap();
    let router = running.handle::<Http>().unwrap().router().unwrap();
    let call = |method: &str, path: &str, body: Option<Value>| {
        let router = router.clone();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };

    let (status, created) = call("POST", "/notes", Some(json!({"name": "Ada"}))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();
    assert_eq!(created["data"], json!({"id": id, "name": "Ada"}));
    let (status, _) = call("POST", "/notes", Some(json!({"name": ""}))).await;
    assert_eq!(status, 422);
    call("POST", "/notes", Some(json!({"name": "Grace"}))).await;

    let (status, list) = call("GET", "/notes", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Grace"]);

    let (status, renamed) = call(
        "PUT",
        &format!("/notes/{id}"),
        Some(json!({"name": "Lovelace"})),
    )
    .await;
    assert_eq!(
        (status, &renamed["data"]["name"]),
        (200, &json!("Lovelace"))
    );
    assert_eq!(
        call("GET", &format!("/notes/{id}"), None).await.1["data"]["name"],
        "Lovelace"
    );
    assert_eq!(call("DELETE", &format!("/notes/{id}"), None).await.0, 200);
    let (status, missing) = call("GET", &format!("/notes/{id}"), None).await;
    assert_eq!((status, &missing["error"]), (404, &json!("Note not found")));
    assert_eq!(call("DELETE", &format!("/notes/{id}"), None).await.0, 404);
    running.shutdown().await;
}
