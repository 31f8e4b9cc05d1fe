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
