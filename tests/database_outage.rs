//! PostgreSQL lost while serving (through a proxy the test cuts; the shared
//! server is never stopped): requests answer 503 envelopes, the app lives,
//! and it recovers when the database returns, with no acknowledged write lost.

mod support;

use std::time::{Duration, Instant};

use microcore_test_support::proxy::Proxy;
use serde_json::{Value, json};
use support::app::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_database_gives_503_then_recovers() {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let app = TestApp::start_via(
        Backend::Postgres,
        &[("DB_ACQUIRE_TIMEOUT_SECS", "2")],
        proxy.port,
    )
    .await;
    let client = &app.client;
    let registered = support::json_of(
        client
            .post(app.url("/users"))
            .json(&json!({"name": "Kept", "email": "kept@example.com", "password": "password1"})),
    )
    .await;
    let id = registered["data"]["id"].as_i64().expect("registered");
    let token = support::login(client, &app.base, "kept@example.com", "password1").await;
    let get_user = || {
        client
            .get(app.url(&format!("/users/{id}")))
            .bearer_auth(&token)
            .send()
    };

    proxy.cut();
    let started = Instant::now();
    let response = get_user().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": false, "error": "Service unavailable"})
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "503 comes quickly, not after a hang"
    );
    let ping = client.get(app.url("/ping")).send().await.unwrap();
    assert_eq!(ping.status(), 200, "the app lives without its database");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = get_user().await.unwrap();
        if response.status() == 200 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["data"]["email"], "kept@example.com",
                "the acknowledged write survived"
            );
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(
            Instant::now() < deadline,
            "no recovery within 20 s of the database returning"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
