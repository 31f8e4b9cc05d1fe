//! The OpenAPI document is generated from the handlers' types: every route,
//! its parameters, bodies, responses and the bearer scheme on protected
//! routes; and `/docs` is served from the binary (no CDN).

mod support;

use support::app::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn the_document_lists_every_route_with_its_contract() {
    let app = TestApp::start(Backend::Sqlite, &[]).await;
    let doc = support::json_of(app.client.get(app.url("/openapi.json"))).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = &doc["paths"];
    for (path, method) in [
        ("/ping", "get"),
        ("/users", "post"),
        ("/users", "get"),
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/users/me", "get"),
        ("/users/{user_id}", "get"),
        ("/users/{user_id}", "put"),
        ("/users/{user_id}", "delete"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let register = &paths["/users"]["post"];
    assert!(register["security"].is_null(), "registration is public");
    let body = &register["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["required"],
        serde_json::json!(["name", "email", "password"])
    );
    assert!(register["responses"]["422"].is_object());

    let get_user = &paths["/users/{user_id}"]["get"];
    assert_eq!(get_user["security"], serde_json::json!([{"bearer": []}]));
    assert!(get_user["responses"]["401"].is_object() && get_user["responses"]["404"].is_object());
    let param = &get_user["parameters"][0];
    assert_eq!(
        (param["name"].as_str(), param["in"].as_str()),
        (Some("user_id"), Some("path"))
    );
    assert_eq!(param["schema"]["type"], "integer");

    let list = &paths["/users"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["limit", "offset"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let tags: Vec<&str> = paths["/users/me"]["get"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["users"], "tagged by domain");

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("https://"), "no asset from a CDN: {html}");
    let script = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.status(),
        200,
        "the page's assets are inside the binary"
    );
    app.stop().await;
}

/// What the test sends to one documented route: the concrete path and the
/// JSON body. Every route in the document needs a row here, so a new route
/// cannot escape the check below.
fn request_for(
    method: &str,
    path: &str,
    user_id: i64,
) -> Option<(String, Option<serde_json::Value>)> {
    let user = format!("/users/{user_id}");
    Some(match (method, path) {
        ("post", "/users") => (
            path.into(),
            Some(
                serde_json::json!({"name": "New", "email": "new@example.com", "password": "password1"}),
            ),
        ),
        ("post", "/auth/login") => (
            path.into(),
            Some(serde_json::json!({"email": "ada@example.com", "password": "password1"})),
        ),
        ("put", "/users/{user_id}") => (user, Some(serde_json::json!({"name": "Ada L."}))),
        ("get" | "delete", "/users/{user_id}") => (user, None),
        (_, path) if !path.contains('{') => (path.into(), None),
        _ => return None,
    })
}

/// The success status the document gives each route is the one the route
/// sends: a `Created<T>` reply is documented 201 and answers 201.
#[tokio::test(flavor = "multi_thread")]
async fn every_route_sends_the_success_status_its_document_gives() {
    let app = TestApp::start(Backend::Sqlite, &[]).await;
    let ada =
        serde_json::json!({"name": "Ada", "email": "ada@example.com", "password": "password1"});
    let registered = support::json_of(app.client.post(app.url("/users")).json(&ada)).await;
    let user_id = registered["data"]["id"].as_i64().unwrap();
    let token = support::login(&app.client, &app.base, "ada@example.com", "password1").await;
    let doc = support::json_of(app.client.get(app.url("/openapi.json"))).await;

    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let documented: Vec<u16> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|status| status.parse().ok())
                .filter(|status| (200..300).contains(status))
                .collect();
            operations.push((method.clone(), path.clone(), documented));
        }
    }
    // Deleting the user keeps it for the routes that read it until the end,
    // and logging out revokes the token: logout (a public route) goes last.
    operations.sort_by_key(|(method, path, _)| match (method.as_str(), path.as_str()) {
        (_, "/auth/logout") => 2,
        ("delete", _) => 1,
        _ => 0,
    });
    assert!(operations.len() >= 9, "{operations:?}");
    let register = operations
        .iter()
        .find(|(m, p, _)| m == "post" && p == "/users");
    assert_eq!(register.unwrap().2, [201], "registration creates");
    for (method, path, documented) in operations {
        let (url, body) = request_for(&method, &path, user_id)
            .unwrap_or_else(|| panic!("add a request for {method} {path} to request_for"));
        let mut request = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&url))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let sent = response.status().as_u16();
        assert_eq!(
            documented,
            [sent],
            "{method} {path}: the document's success status vs the wire ({})",
            response.text().await.unwrap()
        );
    }
    app.stop().await;
}
