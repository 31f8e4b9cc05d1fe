//! Debian's headless `chromium`, driven over the DevTools protocol (JSON
//! over a WebSocket): open a page, evaluate JavaScript in it, take a
//! screenshot. No webdriver: the protocol is a few messages.
//!
//! Each browser gets a temporary profile and is killed (by its pid) when
//! the [`Browser`] is dropped, failing test or not; its helper processes
//! (zygote, renderer, GPU, crash handler) exit with it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long chromium may take to start and show the page's target.
const STARTUP: Duration = Duration::from_secs(30);
/// How long one protocol call may take.
const CALL: Duration = Duration::from_secs(30);

/// One headless chromium showing one page.
pub struct Browser {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _chromium: Chromium,
}

/// The chromium process and its profile, gone when dropped (also when
/// connecting to it failed).
struct Chromium {
    child: Child,
    profile: tempfile::TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts chromium on `url` with a `width`×`height` window and connects
    /// to the page. Panics (failing the test) when chromium is missing:
    /// `scripts/test` installs it.
    pub async fn open(url: &str, width: u32, height: u32) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.path().display()),
                &format!("--window-size={width},{height}"),
                url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("`chromium` runs (scripts/test installs Debian's chromium)");
        let chromium = Chromium { child, profile };
        let mut browser = Self {
            socket: connect(&chromium, url).await,
            next_id: 0,
            _chromium: chromium,
        };
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
            )
            .await;
        browser
    }

    /// Sends one protocol command and returns its `result`, skipping the
    /// events that arrive meanwhile.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(Message::text(request)).await.unwrap();
        let reply = tokio::time::timeout(CALL, async {
            while let Some(message) = self.socket.next().await {
                let Ok(Message::Text(text)) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["id"] == id {
                    return value;
                }
            }
            panic!("chromium closed the DevTools socket during {method}")
        })
        .await
        .unwrap_or_else(|_| panic!("{method} got no answer in {CALL:?}"));
        assert!(reply["error"].is_null(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// The value of the JavaScript expression `js` in the page (a promise
    /// is awaited). Panics on a JavaScript exception.
    pub async fn eval(&mut self, js: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{js} threw: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Evaluates `js` until it gives something other than `null`, `false`
    /// or `undefined` (up to 10 s), and returns that; panics naming `what`
    /// with the last value otherwise.
    pub async fn wait_for(&mut self, what: &str, js: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let value = self.eval(js).await;
            if !(value.is_null() || value == false) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never showed {what} ({js} is {value})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let result = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().expect("a base64 PNG"))
            .unwrap()
    }
}

/// Connects to the page target showing `url`: chromium writes the port it
/// picked to `DevToolsActivePort` in the profile, and lists its targets
/// at `/json/list`.
async fn connect(chromium: &Chromium, url: &str) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    let deadline = tokio::time::Instant::now() + STARTUP;
    let port_file = chromium.profile.path().join("DevToolsActivePort");
    let pid = chromium.child.id();
    let client = reqwest::Client::new();
    loop {
        if let Some(target) = page_target(&client, &port_file, url).await {
            let (socket, _) = tokio_tungstenite::connect_async(target.as_str())
                .await
                .expect("the DevTools socket accepts");
            return socket;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromium (pid {pid}) showed no page for {url} in {STARTUP:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The DevTools WebSocket URL of the page on `url`, once there is one.
async fn page_target(
    client: &reqwest::Client,
    port_file: &std::path::Path,
    url: &str,
) -> Option<String> {
    let ports = std::fs::read_to_string(port_file).ok()?;
    let port = ports.lines().next()?.trim();
    let targets: Vec<Value> = client
        .get(format!("http://127.0.0.1:{port}/json/list"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    targets
        .iter()
        .find(|t| t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url)))
        .and_then(|t| t["webSocketDebuggerUrl"].as_str())
        .map(str::to_string)
}
