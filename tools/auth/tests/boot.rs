//! The auth tool booted for real (config, http, auth and one plugin) and
//! called over TCP: the tool attaches itself to the app's router, and a
//! bad key stops the boot.

use axum::http::header::SET_COOKIE;
use microcore::prelude::*;
use microcore::{App, TOOLS};
use microcore_auth::{Auth, AuthUser};
use microcore_http::{Http, Reply};
use serde_json::{Value, json};

const KEY: &str = "boot-test-key-0123456789abcdef-0123456789";

/// Logs in anyone as user 7, and tells a caller who they are.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Session {
    http: Http,
    auth: Auth,
}

impl Plugin for Session {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.post("/login", &self, Self::login);
        self.http.post("/logout", &self, Self::logout);
        self.http.get("/me", &self, Self::me);
        Ok(())
    }
}

impl Session {
    async fn login(self: Arc<Self>) -> Result<Reply<Value>> {
        let token = self.auth.issue_for(7, "ada@example.com", ["user"])?;
        let cookie = self.auth.login_cookie(&token);
        Ok(Reply::new(json!({ "token": token })).header(SET_COOKIE, cookie))
    }

    async fn logout(self: Arc<Self>) -> Result<Reply<()>> {
        Ok(Reply::new(()).header(SET_COOKIE, self.auth.logout_cookie()))
    }

    async fn me(self: Arc<Self>, user: AuthUser) -> Result<Value> {
        Ok(json!({ "id": user.user_id::<i64>()?, "email": user.email, "roles": user.roles }))
    }
}

fn app() -> App {
    let mut app = App::new(vec![], vec![]);
    for name in ["config", "calls", "http", "state", "auth"] {
        let tool = TOOLS.iter().find(|t| t.name == name).expect(name);
        app = app.with_tool(tool);
    }
    let plugin = microcore::PLUGINS
        .iter()
        .find(|p| p.name == "Session")
        .expect("the Session plugin");
    app.with_plugin(plugin)
        .with_var("HTTP_HOST", "127.0.0.1")
        .with_var("HTTP_PORT", "0")
        .with_var("APP_ENV", "test")
}

#[tokio::test]
async fn login_then_me_over_http() {
    let running = app().with_var("AUTH_SECRET_KEY", KEY).boot().await.unwrap();
    let addr = running.handle::<Http>().unwrap().local_addr().unwrap();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    let login = client.post(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let body: Value = login.json().await.unwrap();
    let token = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        cookie,
        format!("access_token={token}; HttpOnly; Max-Age=86400; Path=/; SameSite=Lax; Secure")
    );
    // The app's key signed it: a handle with the same key verifies it.
    let same_key = Auth::new(KEY.as_bytes(), std::time::Duration::from_secs(60)).unwrap();
    assert_eq!(same_key.verify(&token).unwrap().sub, "7");

    let me = client
        .get(format!("{base}/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        me.json::<Value>().await.unwrap(),
        json!({"success": true, "data": {"id": 7, "email": "ada@example.com", "roles": ["user"]}})
    );

    let by_cookie = client
        .get(format!("{base}/me"))
        .header("cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);

    let anonymous = client.get(format!("{base}/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap(),
        json!({"success": false, "error": "Missing authorization token"})
    );

    let forged = Auth::for_tests()
        .issue_for(7, "ada@example.com", ["user"])
        .unwrap();
    let refused = client
        .get(format!("{base}/me"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"success": false, "error": "Invalid or expired token"})
    );

    let logout = client.post(format!("{base}/logout")).send().await.unwrap();
    assert_eq!(
        logout.headers()[SET_COOKIE],
        r#"access_token=""; Max-Age=0; HttpOnly; Path=/; SameSite=Lax; Secure"#
    );
    assert_eq!(
        logout.json::<Value>().await.unwrap(),
        json!({"success": true})
    );

    running.shutdown().await;
}

#[tokio::test]
async fn a_short_key_stops_the_boot_without_showing_it() {
    let short = "short-secret-value";
    let e = app()
        .with_var("AUTH_SECRET_KEY", short)
        .boot()
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("tool 'auth'"), "{shown}");
    assert!(shown.contains("AUTH_SECRET_KEY is too short"), "{shown}");
    assert!(!shown.contains(short), "{shown}");
}

#[tokio::test]
async fn production_without_a_key_stops_the_boot() {
    let e = app()
        .with_var("APP_ENV", "production")
        .with_var("AUTH_SECRET_KEY", "")
        .boot()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("AUTH_SECRET_KEY must be set"), "{e}");
}

#[tokio::test]
async fn test_env_without_a_key_boots_with_a_generated_one() {
    let running = app().with_var("AUTH_SECRET_KEY", "").boot().await.unwrap();
    let auth = running.handle::<Auth>().unwrap();
    let token = auth.issue_for(1, "a@b.c", ["user"]).unwrap();
    assert!(auth.verify(&token).is_ok());
    assert!(Auth::for_tests().verify(&token).is_err());
    running.shutdown().await;
}
