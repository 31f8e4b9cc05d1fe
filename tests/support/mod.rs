//! Shared by the end-to-end tests: start the real app binary on a free port
//! and talk to it over HTTP.
#![allow(dead_code, unreachable_pub)]

pub mod app;
pub mod browser;
pub mod markdown;
pub mod project;
pub mod scrub;
pub mod services;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running app binary; killed when dropped.
pub struct AppProcess {
    pub child: Child,
    pub base: String,
    pub logs: mpsc::Receiver<String>,
    /// Log lines read while waiting for the app to listen.
    pub boot_log: Vec<String>,
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` with `HTTP_PORT=0` plus `env`, in `dir`, and waits (up
/// to 60 s) for its "listening on" line.
pub fn start_binary(binary: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> AppProcess {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env("HTTP_PORT", "0")
        .env("LOG_FORMAT", "pretty")
        .env("NO_COLOR", "1")
        .env("AI_CONTEXT_PATH", "")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the app binary starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, logs) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[app] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut app = AppProcess {
        child,
        base: String::new(),
        logs,
        boot_log: Vec::new(),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        match app.logs.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(at) = line.find("listening on http://") {
                    app.base = line[at + "listening on ".len()..].trim().to_string();
                    app.boot_log.push(line);
                    return app;
                }
                app.boot_log.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = app.child.try_wait() {
                    panic!("the app exited before listening: {status}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the app exited before listening"),
        }
    }
    panic!("the app did not listen within 60 s");
}

/// Starts this package's app binary in a fresh temporary working directory.
pub fn start_app(env: &[(&str, &str)]) -> (AppProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = start_binary(env!("CARGO_BIN_EXE_microcore-app"), dir.path(), env);
    (app, dir)
}

/// Writes `request` on a fresh connection to `base` and returns what the
/// server answers within 5 s (for requests an HTTP client will not send).
pub async fn raw_request(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends SIGTERM and waits for the exit status (up to 20 s).
pub fn terminate(app: &mut AppProcess) -> std::process::ExitStatus {
    signal(app, "TERM");
    wait_for_exit(app, Duration::from_secs(20))
}

/// Sends the signal `name` (`TERM`, `KILL`, ...) to the app.
pub fn signal(app: &AppProcess, name: &str) {
    let pid = app.child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{name} {pid} failed");
}

/// The app's exit status, waiting for it up to `bound`.
pub fn wait_for_exit(app: &mut AppProcess, bound: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + bound;
    loop {
        if let Ok(Some(status)) = app.child.try_wait() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app did not stop within {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `request` and reads the answer's JSON body, whatever its status.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Logs `email` in at `base` (`http://host:port`); the bearer token.
pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let body = json_of(
        client
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password})),
    )
    .await;
    body["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {email} failed: {body}"))
        .to_string()
}
