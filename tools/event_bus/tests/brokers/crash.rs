//! Real crashes: consumers run in child processes (this very test binary,
//! started again with [`CHILD_ENV`] set, running only the `crash_child`
//! test), and the parent kills them with SIGKILL while their handlers run.
//!
//! The handler applies an effect guarded by an idempotency key — the
//! event's key, recorded in the same SQLite transaction as the effect
//! (the pattern `docs/event-bus.md` recommends) — then appends
//! `<group> <n>` to its process's log of handlings. The ledger shows each
//! effect applied exactly once; the logs show each event handled at least
//! once, and how many were handled twice (those a killed process handled
//! but had not acknowledged).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use microcore::{Result, ToolHandle};
use microcore_event_bus::{BusOptions, DriverOptions, Event, EventBus, driver};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sea_orm::sqlx::{self, Connection, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Set in a child's environment: its [`Spec`], as JSON.
pub const CHILD_ENV: &str = "MICROCORE_EVENT_BUS_CRASH_CHILD";
/// The test every broker test binary defines to run [`child_main`].
pub const CHILD_TEST: &str = "crash_child";

/// What a child consumes, and where it writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub url: String,
    pub prefix: String,
    pub topic: String,
    pub groups: Vec<String>,
    /// The scenario's directory: the ledger, and per child its log of
    /// handlings, its readiness mark and its stderr.
    pub dir: PathBuf,
    pub name: String,
    pub claim_after_ms: u64,
}

/// The body of the `crash_child` test: nothing, unless this process was
/// started as a child.
pub fn child_main() {
    let Ok(text) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: Spec = serde_json::from_str(&text).expect("a child spec");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run_child(spec));
}

async fn run_child(spec: Spec) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let options = DriverOptions {
        prefix: spec.prefix.clone(),
        claim_after: Duration::from_millis(spec.claim_after_ms),
    };
    let driver = driver::open_with(&spec.url, &options)
        .await
        .expect("the child connects");
    let bus = EventBus::from_driver(driver, BusOptions::default()).for_owner("crash.Ledger");
    let ledger = Ledger::open(&spec.dir).await;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(spec.dir.join(format!("{}.handled", spec.name)))
        .expect("the log of handlings");
    let log = Arc::new(Mutex::new(log));
    for group in &spec.groups {
        let worker = Arc::new(Worker {
            group: group.clone(),
            name: spec.name.clone(),
            ledger: ledger.clone(),
            log: log.clone(),
        });
        bus.subscribe(&spec.topic, &worker, Worker::handle)
            .group(group.clone())
            .await
            .expect("the child subscribes");
    }
    std::fs::write(
        spec.dir.join(format!("{}.ready", spec.name)),
        std::process::id().to_string(),
    )
    .expect("the readiness mark");
    // Until killed; an orphan (its parent test died) gives up on its own.
    tokio::time::sleep(Duration::from_secs(600)).await;
}

/// The child's plugin: one per group.
struct Worker {
    group: String,
    name: String,
    ledger: Ledger,
    log: Arc<Mutex<std::fs::File>>,
}

impl Worker {
    async fn handle(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        let n = event.payload["n"].as_i64().unwrap_or(-1);
        let key = event.key().unwrap_or_default().to_string();
        self.ledger.apply(&self.group, &key, n, &self.name).await?;
        let mut log = self.log.lock().unwrap();
        writeln!(log, "{} {n} {}", self.group, event.attempt)
            .map_err(|e| microcore::Error::internal(format!("log: {e}")))?;
        Ok(())
    }
}

/// The effects, in a SQLite file every process shares.
#[derive(Clone)]
pub struct Ledger {
    conn: Arc<tokio::sync::Mutex<SqliteConnection>>,
}

impl Ledger {
    pub async fn open(dir: &Path) -> Self {
        let options = SqliteConnectOptions::from_str("sqlite://ledger.db")
            .unwrap()
            .filename(dir.join("ledger.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(60));
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        for statement in [
            "CREATE TABLE IF NOT EXISTS applied (grp TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (grp, key))",
            "CREATE TABLE IF NOT EXISTS effects (grp TEXT NOT NULL, n INTEGER NOT NULL, by TEXT NOT NULL)",
        ] {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        Self {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
        }
    }

    /// Applies the effect of event `n` once per `(group, key)`: the key
    /// and the effect commit together or not at all.
    async fn apply(&self, group: &str, key: &str, n: i64, by: &str) -> Result<()> {
        let fail = |e: sqlx::Error| microcore::Error::unavailable(e);
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        let first = sqlx::query("INSERT OR IGNORE INTO applied (grp, key) VALUES (?1, ?2)")
            .bind(group)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(fail)?
            .rows_affected()
            == 1;
        if first {
            sqlx::query("INSERT INTO effects (grp, n, by) VALUES (?1, ?2, ?3)")
                .bind(group)
                .bind(n)
                .bind(by)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    /// Every effect of `group`: event number → how many times applied.
    pub async fn effects(&self, group: &str) -> BTreeMap<i64, usize> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query("SELECT n FROM effects WHERE grp = ?1")
            .bind(group)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(row.get::<i64, _>(0)).or_insert(0) += 1;
        }
        counts
    }

    /// Which process applied the effects of `group`, and how many.
    pub async fn by_process(&self, group: &str) -> BTreeMap<String, usize> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query("SELECT by, COUNT(*) FROM effects WHERE grp = ?1 GROUP BY by")
            .bind(group)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        rows.into_iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as usize))
            .collect()
    }

    pub async fn count(&self, group: &str) -> usize {
        let mut conn = self.conn.lock().await;
        let row = sqlx::query("SELECT COUNT(*) FROM effects WHERE grp = ?1")
            .bind(group)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        row.get::<i64, _>(0) as usize
    }
}

/// Every handling logged by every child of `dir`: per group, event number
/// → the attempt number of each time it was handled.
pub fn handlings(dir: &Path) -> BTreeMap<String, BTreeMap<i64, Vec<u32>>> {
    let mut all: BTreeMap<String, BTreeMap<i64, Vec<u32>>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().extension().and_then(|e| e.to_str()) != Some("handled") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for line in text.lines() {
            let mut parts = line.split(' ');
            let (Some(group), Some(n), Some(attempt)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(n), Ok(attempt)) = (n.parse::<i64>(), attempt.parse::<u32>()) else {
                continue;
            };
            all.entry(group.to_string())
                .or_default()
                .entry(n)
                .or_default()
                .push(attempt);
        }
    }
    all
}

/// A child process running the consumers of a [`Spec`]; killed when dropped.
pub struct Child {
    pub name: String,
    process: std::process::Child,
    dir: PathBuf,
}

impl Child {
    /// Starts the child and waits until its subscriptions run.
    pub async fn start(spec: &Spec) -> Self {
        let stderr = std::fs::File::create(spec.dir.join(format!("{}.stderr", spec.name))).unwrap();
        let process = Command::new(std::env::current_exe().unwrap())
            .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, serde_json::to_string(spec).unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the test binary starts again as a child");
        let mut child = Self {
            name: spec.name.clone(),
            process,
            dir: spec.dir.clone(),
        };
        let ready = spec.dir.join(format!("{}.ready", spec.name));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            if let Ok(Some(status)) = child.process.try_wait() {
                panic!(
                    "child {} exited ({status}) before it was ready:\n{}",
                    child.name,
                    child.stderr()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "child {} not ready within 60 s:\n{}",
                child.name,
                child.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child
    }

    /// SIGKILL: no handler finishes, nothing is acknowledged or handed back.
    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.stderr", self.name))).unwrap_or_default()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One crash scenario: a topic, two groups, a ledger, children.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub topic: String,
    pub groups: Vec<String>,
    pub url: String,
    pub prefix: String,
    pub claim_after: Duration,
}

impl Scenario {
    pub fn new(url: &str, prefix: &str) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            topic: format!(
                "orders.paid.{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            groups: vec![
                "billing.Ledger.on_paid".into(),
                "audit.Trail.on_paid".into(),
            ],
            url: url.to_string(),
            prefix: prefix.to_string(),
            claim_after: Duration::from_secs(1),
        }
    }

    pub fn spec(&self, name: &str) -> Spec {
        Spec {
            url: self.url.clone(),
            prefix: self.prefix.clone(),
            topic: self.topic.clone(),
            groups: self.groups.clone(),
            dir: self.dir.path().to_path_buf(),
            name: name.to_string(),
            claim_after_ms: self.claim_after.as_millis() as u64,
        }
    }

    pub async fn ledger(&self) -> Ledger {
        Ledger::open(self.dir.path()).await
    }

    /// Publishes events `range`, each keyed by its number.
    pub async fn publish(&self, bus: &EventBus, range: std::ops::Range<i64>) {
        let ns: Vec<i64> = range.collect();
        for chunk in ns.chunks(250) {
            let sends = chunk.iter().map(|n| async move {
                bus.publish(&self.topic, &json!({"n": n}))
                    .key(format!("order-{n}"))
                    .await
                    .unwrap()
            });
            futures::future::join_all(sends).await;
        }
    }

    /// Waits until every group's effects reach `n`.
    pub async fn wait_effects(&self, ledger: &Ledger, n: usize, children: &[&Child]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
        loop {
            let mut done = true;
            for group in &self.groups {
                done &= ledger.count(group).await >= n;
            }
            if done {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let mut counts = Vec::new();
                for group in &self.groups {
                    counts.push((group.clone(), ledger.count(group).await));
                }
                let stderr: Vec<String> = children
                    .iter()
                    .map(|c| format!("--- {}:\n{}", c.name, c.stderr()))
                    .collect();
                panic!(
                    "effects never reached {n} within 180 s: {counts:?}\n{}",
                    stderr.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asserts every event of `0..n` applied exactly once and handled at
    /// least once in every group, and that some were redelivered (the
    /// killed process held them); returns how many handlings repeated and
    /// how many were redeliveries.
    pub async fn assert_exactly_once_effects(&self, ledger: &Ledger, n: i64) -> (usize, usize) {
        let expected: BTreeSet<i64> = (0..n).collect();
        let handled = handlings(self.dir.path());
        let (mut repeats, mut redelivered) = (0, 0);
        for group in &self.groups {
            let effects = ledger.effects(group).await;
            assert_eq!(
                effects.keys().copied().collect::<BTreeSet<_>>(),
                expected,
                "group {group}: an effect for every event"
            );
            let twice: Vec<_> = effects.iter().filter(|(_, c)| **c > 1).collect();
            assert!(
                twice.is_empty(),
                "group {group}: effects applied twice: {twice:?}"
            );
            let seen = handled.get(group).cloned().unwrap_or_default();
            let missing: Vec<_> = expected
                .iter()
                .filter(|n| !seen.contains_key(n))
                .take(10)
                .collect();
            // A process killed after its effect committed but before it
            // logged: the redelivery logs it (the effect stays single).
            assert!(
                missing.is_empty(),
                "group {group}: events never handled: {missing:?}"
            );
            repeats += seen.values().map(|a| a.len() - 1).sum::<usize>();
            redelivered += seen.values().flatten().filter(|a| **a > 1).count();
        }
        assert!(
            redelivered > 0,
            "no event came again with attempt > 1: the killed process held none?"
        );
        (repeats, redelivered)
    }
}

/// Waits until the effects of all groups together reach `n`.
async fn wait_total(s: &Scenario, ledger: &Ledger, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut total = 0;
        for group in &s.groups {
            total += ledger.count(group).await;
        }
        if total >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {total} effects of {n} within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn publish_in_background(
    s: &Scenario,
    publisher: &EventBus,
    range: std::ops::Range<i64>,
) -> tokio::task::JoinHandle<()> {
    let (bus, topic) = (publisher.clone(), s.topic.clone());
    tokio::spawn(async move {
        let ns: Vec<i64> = range.collect();
        for chunk in ns.chunks(250) {
            let sends = chunk.iter().map(|n| {
                let (bus, topic) = (&bus, &topic);
                async move {
                    bus.publish(topic, &json!({"n": n}))
                        .key(format!("order-{n}"))
                        .await
                        .unwrap()
                }
            });
            futures::future::join_all(sends).await;
        }
    })
}

/// Two processes in the same two groups. While both live, each event is
/// handled exactly once per group across the pair, and both take a share.
/// Then one is killed with SIGKILL in the middle of 10,000 events: the
/// other gets the events the dead one held (after `claim_after`), so
/// every event is handled and every effect applied exactly once.
pub async fn two_processes_one_group_then_sigkill(publisher: &EventBus, url: &str, prefix: &str) {
    let s = Scenario::new(url, prefix);
    let ledger = s.ledger().await;
    let mut one = Child::start(&s.spec("one")).await;
    let two = Child::start(&s.spec("two")).await;

    s.publish(publisher, 0..1000).await;
    s.wait_effects(&ledger, 1000, &[&one, &two]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let handled = handlings(s.dir.path());
    for group in &s.groups {
        let seen = &handled[group];
        assert_eq!(seen.len(), 1000, "group {group}: every event handled");
        let twice: Vec<_> = seen.iter().filter(|(_, a)| a.len() > 1).collect();
        assert!(
            twice.is_empty(),
            "group {group}: handled twice across the pair: {twice:?}"
        );
        let shares = ledger.by_process(group).await;
        assert_eq!(
            shares.len(),
            2,
            "group {group}: both processes took a share: {shares:?}"
        );
        eprintln!("group {group}: shares of 1000 events while both lived: {shares:?}");
    }

    let total = 11_000;
    let publishing = publish_in_background(&s, publisher, 1000..total);
    wait_total(&s, &ledger, 2 * 1000 + 6000).await;
    one.kill();
    eprintln!("killed process 'one' with SIGKILL while it was handling events");
    publishing.await.unwrap();
    s.wait_effects(&ledger, total as usize, &[&two]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (repeats, redelivered) = s.assert_exactly_once_effects(&ledger, total).await;
    for group in &s.groups {
        eprintln!(
            "group {group}: effects by process: {:?}",
            ledger.by_process(group).await
        );
    }
    eprintln!(
        "{total} events x {} groups: none lost, each effect once; {redelivered} redelivered from the killed process, {repeats} handled twice",
        s.groups.len()
    );
}

/// One process killed with SIGKILL while it handles 10,000 events; 1,000
/// more are published while no process runs; a new process then handles
/// everything the first left: every event handled at least once, every
/// effect exactly once.
pub async fn sigkill_then_restart(publisher: &EventBus, url: &str, prefix: &str) {
    let s = Scenario::new(url, prefix);
    let ledger = s.ledger().await;
    let mut first = Child::start(&s.spec("first")).await;
    let publishing = publish_in_background(&s, publisher, 0..10_000);
    wait_total(&s, &ledger, 3000).await;
    first.kill();
    eprintln!("killed process 'first' with SIGKILL while it was handling events");
    publishing.await.unwrap();
    s.publish(publisher, 10_000..11_000).await;

    let second = Child::start(&s.spec("second")).await;
    s.wait_effects(&ledger, 11_000, &[&second]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (repeats, redelivered) = s.assert_exactly_once_effects(&ledger, 11_000).await;
    for group in &s.groups {
        eprintln!(
            "group {group}: effects by process: {:?}",
            ledger.by_process(group).await
        );
    }
    eprintln!(
        "11000 events x 2 groups after a SIGKILL and a restart: none lost, each effect once; {redelivered} redelivered from the killed process, {repeats} handled twice"
    );
}
