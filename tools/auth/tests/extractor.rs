//! `AuthUser` and friends on a real axum `Router`, driven with `oneshot`:
//! where the token is read, the CSRF rule, and the envelope of each refusal.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http_body_util::BodyExt;
use microcore_auth::{Auth, AuthUser, MaybeAuthUser};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn me(user: AuthUser) -> axum::Json<Value> {
    axum::Json(json!({"id": user.id, "email": user.email, "roles": user.roles}))
}

async fn maybe(MaybeAuthUser(user): MaybeAuthUser) -> axum::Json<Value> {
    axum::Json(json!({"id": user.map(|u| u.id)}))
}

async fn option(user: Option<AuthUser>) -> axum::Json<Value> {
    axum::Json(json!({"id": user.map(|u| u.id)}))
}

async fn admin(user: AuthUser) -> Response {
    match user.require_role("admin") {
        Ok(()) => axum::Json(json!({"admin": user.id})).into_response(),
        Err(e) => microcore_http::error_response(&e),
    }
}

fn routes() -> Router {
    Router::new()
        .route("/me", any(me))
        .route("/maybe", get(maybe))
        .route("/option", get(option))
        .route("/admin", get(admin))
}

fn app() -> Router {
    Auth::for_tests().attach(routes())
}

fn token() -> String {
    Auth::for_tests()
        .issue_for(7, "ada@example.com", ["user"])
        .unwrap()
}

async fn send(router: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    assert!(is_json, "not JSON: {:?}", response.headers());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn request(method: Method, path: &str, headers: &[(&str, String)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::empty()).unwrap()
}

fn get_with(headers: &[(&str, String)]) -> Request<Body> {
    request(Method::GET, "/me", headers)
}

fn missing() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"success": false, "error": "Missing authorization token"}),
    )
}

fn invalid() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"success": false, "error": "Invalid or expired token"}),
    )
}

fn ok_user_7() -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({"id": "7", "email": "ada@example.com", "roles": ["user"]}),
    )
}

#[tokio::test]
async fn no_token_is_401_missing() {
    assert_eq!(send(app(), get_with(&[])).await, missing());
}

#[tokio::test]
async fn a_bearer_token_is_accepted() {
    let auth = [("authorization", format!("Bearer {}", token()))];
    assert_eq!(send(app(), get_with(&auth)).await, ok_user_7());
}

#[tokio::test]
async fn only_exactly_bearer_counts() {
    for scheme in ["bearer", "BEARER", "Token", "Basic", "Bearer:"] {
        let auth = [("authorization", format!("{scheme} {}", token()))];
        assert_eq!(send(app(), get_with(&auth)).await, missing(), "{scheme}");
    }
    let bare = [("authorization", token())];
    assert_eq!(send(app(), get_with(&bare)).await, missing());
    let empty = [("authorization", "Bearer ".to_string())];
    assert_eq!(send(app(), get_with(&empty)).await, missing());
}

#[tokio::test]
async fn bad_bearer_tokens_are_401_invalid() {
    let auth = Auth::for_tests();
    let mut expired = auth.claims_for(7, "ada@example.com", ["user"]);
    expired.exp = common::now() - 5;
    let forged = Auth::new(&[b'z'; 32], std::time::Duration::from_secs(60))
        .unwrap()
        .issue_for(7, "ada@example.com", ["user"])
        .unwrap();
    let valid = token();
    let [h, p, _] = common::segments(&valid);
    for bad in [
        "garbage".to_string(),
        forged,
        common::alg_none_token("7"),
        format!("{h}.{p}."),
        auth.issue(&expired).unwrap(),
    ] {
        let header = [("authorization", format!("Bearer {bad}"))];
        assert_eq!(send(app(), get_with(&header)).await, invalid(), "{bad}");
    }
}

#[tokio::test]
async fn the_cookie_is_read_on_get() {
    let cookie = [("cookie", format!("theme=dark; access_token={}", token()))];
    assert_eq!(send(app(), get_with(&cookie)).await, ok_user_7());
}

#[tokio::test]
async fn a_bad_cookie_is_401_invalid() {
    let cookie = [("cookie", "access_token=garbage".to_string())];
    assert_eq!(send(app(), get_with(&cookie)).await, invalid());
}

#[tokio::test]
async fn a_cookie_on_a_state_changing_request_needs_x_requested_with() {
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let cookie = ("cookie", format!("access_token={}", token()));
        let without = request(method.clone(), "/me", std::slice::from_ref(&cookie));
        assert_eq!(send(app(), without).await, missing(), "{method}");

        let with = request(
            method.clone(),
            "/me",
            &[cookie, ("x-requested-with", "XMLHttpRequest".into())],
        );
        assert_eq!(send(app(), with).await, ok_user_7(), "{method}");
    }
}

#[tokio::test]
async fn any_x_requested_with_value_counts() {
    let headers = [
        ("cookie", format!("access_token={}", token())),
        ("x-requested-with", String::new()),
    ];
    assert_eq!(
        send(app(), request(Method::POST, "/me", &headers)).await,
        ok_user_7()
    );
}

#[tokio::test]
async fn a_bearer_token_on_post_needs_no_x_requested_with() {
    let auth = [("authorization", format!("Bearer {}", token()))];
    assert_eq!(
        send(app(), request(Method::POST, "/me", &auth)).await,
        ok_user_7()
    );
}

#[tokio::test]
async fn the_bearer_header_wins_over_the_cookie() {
    let headers = [
        ("authorization", "Bearer garbage".to_string()),
        ("cookie", format!("access_token={}", token())),
    ];
    assert_eq!(send(app(), get_with(&headers)).await, invalid());
}

#[tokio::test]
async fn a_non_bearer_header_falls_back_to_the_cookie() {
    let headers = [
        ("authorization", "Token abc".to_string()),
        ("cookie", format!("access_token={}", token())),
    ];
    assert_eq!(send(app(), get_with(&headers)).await, ok_user_7());
}

#[tokio::test]
async fn without_the_auth_tool_the_answer_is_a_500_envelope() {
    let auth = [("authorization", format!("Bearer {}", token()))];
    assert_eq!(
        send(routes(), get_with(&auth)).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"success": false, "error": "Internal server error"})
        )
    );
}

#[tokio::test]
async fn an_optional_login_is_none_without_a_token_or_with_a_bad_one() {
    for path in ["/maybe", "/option"] {
        let none = send(app(), request(Method::GET, path, &[])).await;
        assert_eq!(none, (StatusCode::OK, json!({"id": null})), "{path}");

        let bad = [("authorization", "Bearer garbage".to_string())];
        let bad = send(app(), request(Method::GET, path, &bad)).await;
        assert_eq!(bad, (StatusCode::OK, json!({"id": null})), "{path}");

        let good = [("authorization", format!("Bearer {}", token()))];
        let good = send(app(), request(Method::GET, path, &good)).await;
        assert_eq!(good, (StatusCode::OK, json!({"id": "7"})), "{path}");
    }
}

#[tokio::test]
async fn require_role_is_403_forbidden_without_the_role() {
    let auth = Auth::for_tests();
    let user = [("authorization", format!("Bearer {}", token()))];
    assert_eq!(
        send(app(), request(Method::GET, "/admin", &user)).await,
        (
            StatusCode::FORBIDDEN,
            json!({"success": false, "error": "Forbidden"})
        )
    );
    let admin_token = auth
        .issue_for(1, "root@example.com", ["user", "admin"])
        .unwrap();
    let admin = [("authorization", format!("Bearer {admin_token}"))];
    assert_eq!(
        send(app(), request(Method::GET, "/admin", &admin)).await,
        (StatusCode::OK, json!({"admin": "1"}))
    );
}
