//! `microcore dev`, tried as a user would: start it in a new project,
//! poll `/ping` every 50 ms on fresh connections the whole time, and edit
//! the plugin's answer ten times, with a compile error halfway. Every
//! edit is served, the broken one leaves the previous build serving, and
//! the poller sees no connection error at all: the socket stays open
//! across restarts and waiting connections are served by the new build.
//! Prints how long each edit took to be served (docs/benchmarks.md).

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Project, stop, target_dir};

/// How long one edit may take to be served; builds share two cores with
/// other work, so this is generous. Nothing here asserts a timing.
const SERVED_WITHIN: Duration = Duration::from_secs(300);

/// Edits of the plugin file, with a broken build halfway.
const EDITS: usize = 10;

/// `microcore dev`, its stderr lines collected; stopped when dropped.
struct Dev {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Dev {
    fn start(project: &Path) -> Self {
        // Not scrubbed of what cargo set for this test: `dev` scrubs its cargo.
        let mut child = Command::new(env!("CARGO_BIN_EXE_microcore"))
            .arg("dev")
            .current_dir(project)
            .env("HTTP_PORT", "0")
            .env("DATABASE_URL", "sqlite::memory:")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TERM_COLOR", "never")
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("  | {line}");
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    /// The index the next line will have.
    fn mark(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits for a line from `from` on that contains `text`.
    async fn wait_for(&self, from: usize, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.lines.lock().unwrap()[from..]
                .iter()
                .find(|l| l.contains(text))
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with '{text}' within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// One poll of `/ping`: when it was sent, and the answer's message or the
/// connection error.
#[derive(Debug, Clone)]
struct Sample {
    sent: Instant,
    answer: Result<String, String>,
}

/// GETs `/ping` every 50 ms, each on a new connection (as `curl` in a loop
/// would), until dropped.
struct Poller {
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Poller {
    fn start(base: &str) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let (url, sink) = (format!("{base}/ping"), samples.clone());
        let task = tokio::spawn(async move {
            loop {
                let sent = Instant::now();
                let answer = match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                        Ok(body) => Ok(body["data"]["message"].as_str().unwrap_or("").to_string()),
                        Err(e) => Err(format!("body: {e}")),
                    },
                    Ok(r) => Err(format!("status {}", r.status())),
                    Err(e) => Err(format!("{e:?}")),
                };
                sink.lock().unwrap().push(Sample { sent, answer });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { samples, task }
    }

    /// Waits until a poll sent after `since` answers `message`; how long
    /// after `since` that answer's request was sent.
    async fn served(&self, since: Instant, message: &str) -> Duration {
        let deadline = since + SERVED_WITHIN;
        loop {
            if let Some(s) = self
                .samples
                .lock()
                .unwrap()
                .iter()
                .find(|s| s.sent >= since && s.answer.as_deref() == Ok(message))
            {
                return s.sent - since;
            }
            assert!(
                Instant::now() < deadline,
                "'{message}' was not served within {SERVED_WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn errors(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.answer.is_err())
            .cloned()
            .collect()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The ping plugin answering `message`.
fn ping_answering(original: &str, message: &str) -> String {
    original.replace("message: \"pong\",", &format!("message: {message:?},"))
}

#[tokio::test]
async fn edits_are_served_with_no_refused_connection_and_a_broken_build_keeps_the_old_one() {
    let project = Project::fresh("dev-app");
    let plugin = project.dir.join("domains/ping/plugins/ping.rs");
    let original = std::fs::read_to_string(&plugin).unwrap();

    let dev = Dev::start(&project.dir);
    let serving = dev
        .wait_for(0, "[dev] serving http://", Duration::from_secs(120))
        .await;
    let base = serving
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    // The first build compiles the new project: allow for a cold cache
    // (nextest ends a test at 600 s; see .config/nextest.toml).
    dev.wait_for(0, "[dev] built in", Duration::from_secs(540))
        .await;
    let poller = Poller::start(&base);
    poller.served(Instant::now(), "pong").await;

    let mut times = Vec::new();
    for i in 1..=EDITS {
        if i == EDITS / 2 + 1 {
            // A compile error: reported, and the previous build keeps serving.
            let previous = format!("pong {}", i - 1);
            let mark = dev.mark();
            let broken = ping_answering(&original, "x").replace("message: \"x\",", "message: 42,");
            std::fs::write(&plugin, broken).unwrap();
            dev.wait_for(mark, "BUILD FAILED", SERVED_WITHIN).await;
            poller.served(Instant::now(), &previous).await;
        }
        let message = format!("pong {i}");
        let since = Instant::now();
        std::fs::write(&plugin, ping_answering(&original, &message)).unwrap();
        let took = poller.served(since, &message).await;
        eprintln!(
            "edit {i} → '{message}' served after {:.1}s",
            took.as_secs_f64()
        );
        times.push(took);
    }

    let errors = poller.errors();
    let (total, slowest) = {
        let samples = poller.samples.lock().unwrap();
        let slowest = samples
            .windows(2)
            .map(|w| w[1].sent - w[0].sent)
            .max()
            .unwrap_or_default();
        (samples.len(), slowest)
    };
    drop(poller);
    assert!(
        errors.is_empty(),
        "{} of {total} requests failed: {errors:?}",
        errors.len()
    );
    times.sort();
    eprintln!(
        "edit → served over {EDITS} edits: median {:.1}s, max {:.1}s (debug build; {total} polls, 0 errors, longest gap between polls {} ms)",
        times[times.len() / 2].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        slowest.as_millis()
    );

    // Stopping dev stops the app and closes the socket.
    let mut dev = dev;
    stop(&mut dev.child);
    assert!(dev.child.try_wait().unwrap().is_some_and(|s| s.success()));
    let addr = base.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "{addr} still accepts connections"
    );
}
