//! The users and auth routes of CONTRACT.md §2, through real HTTP, on
//! SQLite and on PostgreSQL (each test with a database of its own).

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{Backend, TestApp};
use support::services;

async fn register(app: &TestApp, name: &str, email: &str, password: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/users"))
        .json(&json!({"name": name, "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn token(app: &TestApp, email: &str, password: &str) -> String {
    let r = login(app, email, password).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["data"]["token"].as_str().unwrap().to_string()
}

async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
    };
}

on_both_backends!(
    registration_login_and_profile,
    validation_never_echoes_input,
    listing_and_reading_users,
    only_the_owner_updates_or_deletes,
    login_throttling_is_a_fixed_window_per_email,
    events_follow_the_request_causally,
    concurrent_deletes_answer_once_and_publish_once,
    an_update_racing_a_delete_is_a_404_never_a_500,
    logout_and_deletion_revoke_tokens,
    the_activity_digest_counts_users_for_the_caller,
);

async fn registration_login_and_profile(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let (status, body) = register(&app, "Ada", "Ada.L@Example.COM", "correct horse").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["email"], "Ada.L@example.com",
        "domain lower-cased, local part kept"
    );
    assert_eq!(body["data"]["roles"], json!(["user"]));
    assert!(body["data"]["id"].is_i64());
    assert!(!body.to_string().contains("password"), "{body}");

    let (status, body) = register(&app, "Ada", "Ada.L@example.com", "another pass").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("Email already in use"))
    );

    let r = login(&app, "Ada.L@EXAMPLE.com", "correct horse").await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "access_token=",
        "HttpOnly",
        "Max-Age=86400",
        "Path=/",
        "SameSite=Lax",
        "Secure",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let token = r.json::<Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, me) = get(&app, "/users/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["name"], "Ada");
    assert_eq!(me["data"]["roles"], json!(["user"]));

    // Unknown e-mail and wrong password are indistinguishable.
    let unknown = login(&app, "nobody@example.com", "whatever1").await;
    let wrong = login(&app, "Ada.L@example.com", "wrong password").await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(wrong.status(), 400);
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());

    // The cookie counts on GET; on a write only with X-Requested-With.
    let cookie_value = cookie.split(';').next().unwrap().to_string();
    let via_cookie = app
        .client
        .get(app.url("/users/me"))
        .header("cookie", &cookie_value)
        .send()
        .await
        .unwrap();
    assert_eq!(via_cookie.status(), 200);
    let csrf = app
        .client
        .put(app.url("/users/1"))
        .header("cookie", &cookie_value)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(csrf.status(), 401);

    let r = app
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"success": true}));
    app.stop().await;
}

async fn validation_never_echoes_input(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let secret = "TOPSECRET-PASSWORD-VALUE";
    let r = app
        .client
        .post(app.url("/users"))
        .json(&json!({"name": "", "email": secret, "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(!text.contains(secret) && !text.contains("short"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "password"]);

    let wrong_type = app
        .client
        .post(app.url("/users"))
        .json(&json!({"name": 5, "email": "a@b.co", "password": "12345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 422);
    for (content_type, body, expected) in [
        ("text/plain", "hello".as_bytes().to_vec(), 415),
        ("application/json", b"null".to_vec(), 422),
        ("application/json", b"[1,2]".to_vec(), 422),
        ("application/json", b"{\"name\": \"tr".to_vec(), 400),
        ("application/json", vec![b'"', 0xff, 0xfe, b'"'], 400),
    ] {
        let r = app
            .client
            .post(app.url("/users"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expected, "{content_type}");
        assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    }
    let no_body = app.client.post(app.url("/users")).send().await.unwrap();
    assert_eq!(no_body.status(), 415);
    // Refused from the declared length, before the body is read: a raw
    // request that announces 2 MiB and sends none of it.
    let answer = support::raw_request(
        &app.base,
        "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""success":false"#), "{answer}");
    app.stop().await;
}

async fn listing_and_reading_users(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    for i in 0..3 {
        register(
            &app,
            &format!("User {i}"),
            &format!("u{i}@example.com"),
            "password1",
        )
        .await;
    }
    let t = token(&app, "u0@example.com", "password1").await;
    let (status, page) = get(&app, "/users?limit=2&offset=1", &t).await;
    assert_eq!(status, 200);
    assert_eq!(page["data"]["limit"], 2);
    assert_eq!(page["data"]["offset"], 1);
    let users = page["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert!(users[0]["id"].as_i64() < users[1]["id"].as_i64());
    assert!(users[0].get("password_hash").is_none() && users[0].get("roles").is_none());
    let (_, default) = get(&app, "/users", &t).await;
    assert_eq!(
        (
            default["data"]["limit"].as_i64(),
            default["data"]["offset"].as_i64()
        ),
        (Some(50), Some(0))
    );
    for bad in [
        "/users?limit=0",
        "/users?limit=101",
        "/users?offset=-1",
        "/users?limit=abc",
    ] {
        assert_eq!(get(&app, bad, &t).await.0, 422, "{bad}");
    }
    let id = users[0]["id"].as_i64().unwrap();
    let (status, one) = get(&app, &format!("/users/{id}"), &t).await;
    assert_eq!(
        (status, one["data"]["id"].as_i64()),
        (StatusCode::OK, Some(id))
    );
    let (status, missing) = get(&app, "/users/999999", &t).await;
    assert_eq!(
        (status, &missing["error"]),
        (StatusCode::NOT_FOUND, &json!("User not found"))
    );
    assert_eq!(get(&app, "/users/abc", &t).await.0, 422);
    let anonymous = app.client.get(app.url("/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["error"],
        "Missing authorization token"
    );
    let forged = app
        .client
        .get(app.url("/users"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.json::<Value>().await.unwrap()["error"],
        "Invalid or expired token"
    );
    app.stop().await;
}

async fn only_the_owner_updates_or_deletes(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let (_, a) = register(&app, "A", "a@example.com", "password1").await;
    let (_, b) = register(&app, "B", "b@example.com", "password1").await;
    let (a_id, b_id) = (
        a["data"]["id"].as_i64().unwrap(),
        b["data"]["id"].as_i64().unwrap(),
    );
    let t = token(&app, "a@example.com", "password1").await;
    let put = |id: i64, body: Value| {
        app.client
            .put(app.url(&format!("/users/{id}")))
            .bearer_auth(&t)
            .json(&body)
            .send()
    };
    let r = put(b_id, json!({"name": "stolen"})).await.unwrap();
    assert_eq!(
        (
            r.status(),
            r.json::<Value>().await.unwrap()["error"].clone()
        ),
        (StatusCode::FORBIDDEN, json!("Forbidden"))
    );
    let r = put(a_id, json!({})).await.unwrap();
    assert_eq!(
        (
            r.status(),
            r.json::<Value>().await.unwrap()["error"].clone()
        ),
        (StatusCode::BAD_REQUEST, json!("No fields to update"))
    );
    let r = put(a_id, json!({"email": "b@example.com"})).await.unwrap();
    assert_eq!(
        (
            r.status(),
            r.json::<Value>().await.unwrap()["error"].clone()
        ),
        (StatusCode::BAD_REQUEST, json!("Email already in use"))
    );
    let r = put(a_id, json!({"name": "Alice", "password": "new password"}))
        .await
        .unwrap();
    assert_eq!(
        (r.status(), r.json::<Value>().await.unwrap()),
        (StatusCode::OK, json!({"success": true}))
    );
    assert_eq!(
        login(&app, "a@example.com", "password1").await.status(),
        400
    );
    let t = token(&app, "a@example.com", "new password").await;

    let del = |id: i64| {
        app.client
            .delete(app.url(&format!("/users/{id}")))
            .bearer_auth(&t)
            .send()
    };
    assert_eq!(del(b_id).await.unwrap().status(), 403);
    let r = del(a_id).await.unwrap();
    assert_eq!(
        (r.status(), r.json::<Value>().await.unwrap()),
        (StatusCode::OK, json!({"success": true}))
    );
    // The account is gone, and so is every token of it (CONTRACT §1).
    let (status, gone) = get(&app, "/users/me", &t).await;
    assert_eq!(
        (status, &gone["error"]),
        (StatusCode::UNAUTHORIZED, &json!("Invalid or expired token"))
    );
    // Published by the outbox's relay moments after the commit.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let deleted = loop {
        if let Some(e) = app
            .bus
            .recent()
            .into_iter()
            .find(|e| e.event == "user.deleted")
        {
            break e;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "user.deleted published within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(deleted.payload, json!({"id": a_id}));
    app.stop().await;
}

async fn login_throttling_is_a_fixed_window_per_email(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    register(&app, "T", "t@example.com", "password1").await;
    register(&app, "U", "u@example.com", "password1").await;
    // A success clears the counter.
    for _ in 0..4 {
        assert_eq!(login(&app, "t@example.com", "bad").await.status(), 400);
    }
    assert_eq!(
        login(&app, "t@example.com", "password1").await.status(),
        200
    );
    for _ in 0..5 {
        assert_eq!(login(&app, "t@example.com", "bad").await.status(), 400);
    }
    let blocked = login(&app, "t@EXAMPLE.COM", "password1").await;
    assert_eq!(
        blocked.status(),
        429,
        "the right password too, e-mail as normalised"
    );
    assert_eq!(
        blocked.json::<Value>().await.unwrap()["error"],
        "Too many attempts. Try again later."
    );
    assert_eq!(
        login(&app, "u@example.com", "password1").await.status(),
        200,
        "per e-mail"
    );
    app.stop().await;
}

async fn events_follow_the_request_causally(backend: Backend) {
    causal_flow(backend, &[]).await;
}

/// The example app works the same on the durable SQLite bus.
#[tokio::test(flavor = "multi_thread")]
async fn the_causal_flow_on_the_durable_sqlite_bus() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bus.db", dir.path().display());
    causal_flow(Backend::Sqlite, &[("EVENT_BUS_URL", &url)]).await;
}

/// The example app works the same on Redis Streams.
#[tokio::test(flavor = "multi_thread")]
async fn the_causal_flow_on_redis_streams() {
    let prefix = services::unique_name();
    let vars = [
        ("EVENT_BUS_URL", services::REDIS),
        ("EVENT_BUS_PREFIX", &prefix),
    ];
    causal_flow(Backend::Sqlite, &vars).await;
    services::clear_redis_prefix(&prefix).await;
}

/// The example app works the same on NATS JetStream.
#[tokio::test(flavor = "multi_thread")]
async fn the_causal_flow_on_nats_jetstream() {
    let prefix = services::unique_name();
    let vars = [
        ("EVENT_BUS_URL", services::NATS),
        ("EVENT_BUS_PREFIX", &prefix),
    ];
    causal_flow(Backend::Sqlite, &vars).await;
    services::delete_nats_prefix(&prefix).await;
}

async fn causal_flow(backend: Backend, vars: &[(&str, &str)]) {
    let app = TestApp::start(backend, vars).await;
    if let Some((_, url)) = vars.iter().find(|(k, _)| *k == "EVENT_BUS_URL") {
        assert!(
            url.starts_with(app.bus.backend()),
            "{url} on {}",
            app.bus.backend()
        );
    }
    let r = app
        .client
        .post(app.url("/users"))
        .header("x-request-id", "req-causal-1")
        .json(&json!({"name": "E", "email": "e@example.com", "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["data"]["id"]
        .as_i64()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let (created, sent, queued) = loop {
        let recent = app.bus.recent();
        let find = |name: &str| recent.iter().find(|e| e.event == name).cloned();
        if let (Some(c), Some(s), Some(q)) = (
            find("user.created"),
            find("welcome.notify.sent"),
            find("notification.queued"),
        ) {
            break (c, s, q);
        }
        assert!(std::time::Instant::now() < deadline, "events within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        created.payload,
        json!({"id": id, "email": "e@example.com", "roles": ["user"]})
    );
    assert_eq!(created.parent_id.as_deref(), Some("req-causal-1"));
    assert_eq!(created.emitter, "users.RegisterUser");
    assert_eq!(
        sent.payload,
        json!({"user_id": id, "email": "e@example.com"})
    );
    assert_eq!(sent.parent_id.as_deref(), Some(created.id.as_str()));
    // A second domain reacts to the same event without importing anything from users.
    assert_eq!(queued.emitter, "notifications.QueueWelcomeEmail");
    assert_eq!(queued.parent_id.as_deref(), Some(created.id.as_str()));
    assert_eq!(
        queued.payload,
        json!({"user_id": id, "channel": "email", "template": "welcome"})
    );
    assert_eq!(sent.correlation_id, created.correlation_id);
    app.stop().await;
}

/// Registers `email` and logs in: its id and a token.
async fn account(app: &TestApp, email: &str) -> (i64, String) {
    let (status, body) = register(app, "Racer", email, "password1").await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();
    (id, token(app, email, "password1").await)
}

fn send(app: &TestApp, method: reqwest::Method, id: i64, token: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(&format!("/users/{id}")))
        .bearer_auth(token)
}

async fn concurrent_deletes_answer_once_and_publish_once(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let (id, t) = account(&app, "racer@example.com").await;
    let deletes = (0..12).map(|_| send(&app, reqwest::Method::DELETE, id, &t).send());
    let statuses: Vec<u16> = futures::future::join_all(deletes)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The others: the user is gone (404), or so is their token (401).
    assert!(
        statuses.iter().all(|s| [200, 401, 404].contains(s)),
        "{statuses:?}"
    );
    let published = || {
        app.bus
            .recent()
            .into_iter()
            .filter(|e| e.event == "user.deleted" && e.payload == json!({"id": id}))
            .count()
    };
    // The outbox's relay publishes it moments after the commit; then no
    // second one may follow.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while published() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(published(), 1);
    app.stop().await;
}

async fn an_update_racing_a_delete_is_a_404_never_a_500(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    for round in 0..8 {
        let (id, t) = account(&app, &format!("race{round}@example.com")).await;
        let puts = (0..4).map(|i| {
            send(&app, reqwest::Method::PUT, id, &t)
                .json(&json!({"name": format!("name {i}")}))
                .send()
        });
        let delete = send(&app, reqwest::Method::DELETE, id, &t).send();
        let (delete, puts) = tokio::join!(delete, futures::future::join_all(puts));
        assert_eq!(delete.unwrap().status(), 200);
        for put in puts {
            let put = put.unwrap();
            let status = put.status().as_u16();
            let body: Value = put.json().await.unwrap();
            assert!(
                status == 200
                    || status == 401
                    || (status == 404 && body["error"] == "User not found"),
                "round {round}: {status} {body}"
            );
        }
    }
    app.stop().await;
}

async fn logout_and_deletion_revoke_tokens(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let (id, first) = account(&app, "leaver@example.com").await;
    let second = token(&app, "leaver@example.com", "password1").await;
    let (_, bystander) = account(&app, "stayer@example.com").await;
    let logout = app
        .client
        .post(app.url("/auth/logout"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    let refused = |(status, body): (StatusCode, Value)| {
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::UNAUTHORIZED, &json!("Invalid or expired token"))
        );
    };
    for path in ["/users/me", "/users", &format!("/users/{id}")] {
        refused(get(&app, path, &first).await);
        assert_eq!(
            get(&app, path, &second).await.0,
            200,
            "{path}: only the logged-out token goes"
        );
    }
    let deleted = send(&app, reqwest::Method::DELETE, id, &second)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    for path in ["/users/me", "/users", &format!("/users/{id}")] {
        refused(get(&app, path, &second).await);
        assert_eq!(get(&app, "/users", &bystander).await.0, 200);
    }
    let put = send(&app, reqwest::Method::PUT, id, &second)
        .json(&json!({"name": "ghost"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 401);
    app.stop().await;
}

async fn the_activity_digest_counts_users_for_the_caller(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let (id, t) = account(&app, "digest@example.com").await;
    account(&app, "other@example.com").await;
    let (status, body) = get(&app, "/users/me/digest", &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"user_id": id, "name": "Racer", "total_users": 2})
    );
    let anonymous = app
        .client
        .get(app.url("/users/me/digest"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}
