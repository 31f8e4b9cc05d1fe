//! `/system/dashboard` in a real headless chromium: the page loads, draws
//! the dependency graph with a failed plugin marked, and shows an event, its
//! trace tree and the tool calls a request made after the page loaded.
//! `SYSTEM_ROUTES` governs the page as it does the other system routes.
//!
//! `DASHBOARD_SCREENSHOT=docs/img/dashboard.png` saves the screenshot the
//! test takes (how the one in docs/ was made).
#![allow(missing_docs, missing_debug_implementations)]

mod support;

use domains::prelude::*;
use serde_json::{Value, json};
use support::app::{Backend, TestApp};
use support::browser::Browser;

/// Fails at boot, so the graph has a DEAD plugin to mark.
#[plugin(domain = "faulty")]
pub struct BrokenAtBoot;

impl Plugin for BrokenAtBoot {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        Err(Error::internal("the mail queue is missing"))
    }
}

async fn register(app: &TestApp, email: &str) {
    let r = app
        .client
        .post(app.url("/users"))
        .header("X-Request-ID", "dashboard-test")
        .json(&json!({"name": "Ada", "email": email, "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// `kind:name:status` of every node the graph drew.
const GRAPH_NODES: &str = "(() => {
    const nodes = [...document.querySelectorAll('#graph [data-node]')];
    return nodes.length ? nodes.map(n => `${n.dataset.kind}:${n.dataset.node}:${n.dataset.status}`) : null;
})()";

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_draws_the_app_and_a_request_made_after_loading() {
    let app = TestApp::start(Backend::Sqlite, &[]).await;
    let mut browser = Browser::open(&app.url("/system/dashboard"), 1280, 800).await;

    // A request made before the streams are open would not reach the page.
    browser
        .wait_for(
            "its three streams open",
            "document.querySelectorAll('[data-stream][data-state=open]').length === 3",
        )
        .await;
    let nodes = browser.wait_for("the graph", GRAPH_NODES).await;
    let nodes: Vec<&str> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for expected in [
        "plugin:users.RegisterUser:READY",
        "plugin:notifications.QueueWelcomeEmail:READY",
        "plugin:system.Dashboard:READY",
        "plugin:faulty.BrokenAtBoot:DEAD",
        "tool:db:OK",
        "tool:event_bus:OK",
    ] {
        assert!(nodes.contains(&expected), "{expected} not in {nodes:?}");
    }
    let edge = browser
        .eval("!!document.querySelector('#graph [data-edge=\"users.RegisterUser>db\"]')")
        .await;
    assert_eq!(edge, true, "no edge from users.RegisterUser to db");
    assert_eq!(
        browser
            .eval("document.getElementById('error').textContent")
            .await,
        "",
        "the page reported an error"
    );

    let email = format!("ada-{}@example.com", uuid::Uuid::new_v4().simple());
    register(&app, &email).await;

    let payload = browser
        .wait_for(
            "the user.created event",
            "document.querySelector('#events [data-event=\"user.created\"]')?.title",
        )
        .await;
    assert!(
        payload.as_str().unwrap().contains(&email),
        "the event shown is not this request's: {payload}"
    );
    // The request's tree: user.created, then what its subscribers published.
    let tree = browser
        .wait_for(
            "the trace tree of the request",
            "(() => {
                const root = document.querySelector('#traces > [data-trace-event=\"user.created\"]');
                const child = root?.querySelector('[data-trace-event=\"welcome.notify.sent\"]');
                return child ? [root.textContent, child.dataset.offsetMs] : null;
            })()",
        )
        .await;
    assert!(
        tree[0].as_str().unwrap().contains("request dashboard-test"),
        "the root names the request: {tree}"
    );
    let offset: f64 = tree[1].as_str().unwrap().parse().unwrap();
    assert!(offset >= 0.0, "a child comes after its cause: {tree}");
    // The call metrics and the graph's edge both count the request's calls.
    browser
        .wait_for(
            "the register request's calls",
            "Number(document.querySelector('#metrics [data-metric=\"event_bus.publish\"]')?.dataset.calls) >= 1
             && Number(document.querySelector('#graph [data-edge=\"users.RegisterUser>event_bus\"]')?.dataset.calls) >= 1",
        )
        .await;

    let png = browser.screenshot().await;
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    if let Ok(path) = std::env::var("DASHBOARD_SCREENSHOT") {
        std::fs::write(&path, &png).unwrap();
    }
    drop(browser);
    app.stop().await;
}

/// A browser cannot send a bearer header on a page load: with
/// `SYSTEM_ROUTES=token` the page and its streams take the `access_token`
/// cookie that logging in sets; with `off` there is no page.
#[tokio::test]
async fn system_routes_govern_the_page() {
    let app = TestApp::start(Backend::Sqlite, &[("SYSTEM_ROUTES", "token")]).await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = app.client.get(app.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let anonymous = get("/system/dashboard", None).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "Missing authorization token");

    let email = format!("ada-{}@example.com", uuid::Uuid::new_v4().simple());
    register(&app, &email).await;
    let login = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("access_token="))
        .and_then(|v| v.split(';').next())
        .expect("login sets the access_token cookie")
        .to_string();

    let page = get("/system/dashboard", Some(&cookie)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains(r#"<svg id="graph""#));
    for path in ["/system/status", "/system/metrics"] {
        let r = get(path, Some(&cookie)).await.unwrap();
        assert_eq!(r.status(), 200, "GET {path} with the cookie");
    }
    for path in [
        "/system/events/stream",
        "/system/traces/stream",
        "/system/metrics/stream",
    ] {
        let r = get(path, Some(&cookie)).await.unwrap();
        assert_eq!(r.status(), 200, "GET {path} with the cookie");
        assert_eq!(r.headers()["content-type"], "text/event-stream");
    }
    app.stop().await;

    let off = TestApp::start(Backend::Sqlite, &[("SYSTEM_ROUTES", "off")]).await;
    let r = off
        .client
        .get(off.url("/system/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    off.stop().await;
}
