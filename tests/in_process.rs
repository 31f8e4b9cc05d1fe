//! The in-process harness: boot the real app with one tool replaced, and
//! drive its router with `oneshot` — no socket, no sleeps.
#![allow(missing_docs, missing_debug_implementations)]

use axum::body::Body;
use axum::http::Request;
use domains::prelude::*;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The bus, replaced on purpose for this test binary by one that records
/// what is published instead of delivering it.
#[tool(replaces)]
pub struct RecordingBus {}

impl Tool for RecordingBus {
    type Handle = EventBus;
    async fn setup(&self, _: &ToolContext) -> Result<EventBus> {
        Ok(EventBus::recording())
    }
}

#[tokio::test]
async fn register_through_the_router_with_a_recording_bus() {
    let dir = tempfile::tempdir().unwrap();
    let running = microcore_app::app()
        .with_var("HTTP_PORT", "0")
        .with_var("AI_CONTEXT_PATH", "")
        .with_var(
            "DATABASE_URL",
            format!("sqlite://{}/t.db", dir.path().display()),
        )
        .boot()
        .await
        .unwrap();
    let router = running.handle::<Http>().unwrap().router().unwrap();
    let request = Request::post("/users")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"name":"Ada","email":"ada@example.com","password":"password1"}"#,
        ))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let bus = running.handle::<EventBus>().unwrap();
    bus.assert_published(
        "user.created",
        serde_json::json!({"id": body["data"]["id"], "email": "ada@example.com", "roles": ["user"]}),
    );
    running.shutdown().await;
}
