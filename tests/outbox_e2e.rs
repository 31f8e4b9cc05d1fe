//! The transactional outbox in the real binary, on PostgreSQL and NATS
//! JetStream reached through a proxy the test cuts (the shared servers are
//! never stopped): with NATS cut, `POST /users` still answers 201; the
//! app is then killed with SIGKILL before its relay could publish; the next
//! boot, with NATS back, publishes `user.created`, and only once.
//! Publications are seen by a plain NATS subscription of the test on the
//! real server.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use microcore_test_support::TestDb;
use microcore_test_support::proxy::Proxy;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_while_nats_is_cut_answers_201_and_survives_a_sigkill() {
    let db = TestDb::postgres().await;
    let nats = Proxy::start("127.0.0.1:4222").await;
    let prefix = support::services::unique_name();
    let bus_url = format!("nats://127.0.0.1:{}", nats.port);
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("EVENT_BUS_URL", bus_url.as_str()),
        ("EVENT_BUS_PREFIX", prefix.as_str()),
    ];
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let mut created = client
        .subscribe(format!("{prefix}.user.created"))
        .await
        .unwrap();

    let (mut app, dir) = support::start_app(&env);
    nats.cut();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let response = http
        .post(format!("{}/users", app.base))
        .json(&json!({"name": "Cut", "email": "cut@example.com", "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "the broker is not on the request's path"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no wait for the broker: {:?}",
        started.elapsed()
    );
    let id = response.json::<Value>().await.unwrap()["data"]["id"]
        .as_i64()
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), created.next())
            .await
            .is_err(),
        "nothing published while NATS is cut"
    );

    support::signal(&app, "KILL");
    support::wait_for_exit(&mut app, Duration::from_secs(10));
    drop(app);
    nats.restore();

    // The next boot publishes what the killed process left in the outbox.
    let app = support::start_binary(env!("CARGO_BIN_EXE_microcore-app"), dir.path(), &env);
    let message = tokio::time::timeout(Duration::from_secs(20), created.next())
        .await
        .expect("user.created within 20 s of the restart")
        .unwrap();
    let envelope: Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(envelope["payload"]["id"], id);
    assert_eq!(envelope["payload"]["email"], "cut@example.com");
    assert!(
        tokio::time::timeout(Duration::from_secs(1), created.next())
            .await
            .is_err(),
        "published once"
    );
    drop(app);
    support::services::delete_nats_prefix(&prefix).await;
}
