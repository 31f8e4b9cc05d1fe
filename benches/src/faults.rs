//! The soak with faults (issue 19, item 8): the example app on PostgreSQL,
//! with its state on Redis and its bus on NATS JetStream, each reached
//! through a TCP proxy of this process, under mixed traffic (register, log
//! in, read, update, list, delete; each registration and deletion is an
//! event) while the proxies are cut in turn, 10 s in every 30 s (NATS,
//! then Redis, then PostgreSQL). Never the servers themselves: the run owns
//! its database, its stream prefix and its key prefix, and removes them.
//!
//! Reported: answers by status (while everything is up, and during cuts),
//! latency percentiles, RSS over time, and events lost, counted four ways:
//! - a `201` registration whose `user.created` never reached NATS;
//! - a `200` deletion whose `user.deleted` never reached NATS;
//! - a published `user.created` that a handler of the app never handled
//!   (each of the two, by its log line), once the faults are over;
//! - a user row left in the database with no `user.created` (committed,
//!   and its event never published, not even by the outbox's relay by the
//!   end of the catch-up).
//!
//! What was published is seen by a plain NATS subscription of this process
//! on the real server (not through a proxy) to the run's subjects.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use hyper::Method;
use microcore_test_support::TestDb;
use microcore_test_support::proxy::Proxy;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;

use crate::client::{Answer, Conn, Get};
use crate::paths::fresh_workdir;
use crate::report::{Table, provenance, verdict};
use crate::server::{Server, rss_kib};
use crate::stats::percentile;

const NATS: &str = "127.0.0.1:4222";
const REDIS: &str = "127.0.0.1:6379";
const POSTGRES: &str = "127.0.0.1:5432";
/// A fault every period: one proxy cut for `OUTAGE`, starting `OFFSET` in.
const PERIOD: Duration = Duration::from_secs(30);
const OFFSET: Duration = Duration::from_secs(10);
const OUTAGE: Duration = Duration::from_secs(10);
/// After the traffic, how long handlers get to catch up.
const GRACE: Duration = Duration::from_secs(60);

/// How the run is shaped.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) duration: Duration,
    /// Concurrent users of the mixed traffic.
    pub(crate) workers: usize,
}

/// The run's outcome.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The doc's block.
    pub(crate) block: String,
    /// Events lost, all four ways together.
    pub(crate) lost: usize,
}

/// What the traffic saw.
#[derive(Debug, Default)]
struct Ledger {
    /// (phase, status) → answers; status 0 is a transport failure.
    statuses: BTreeMap<(&'static str, u16), u64>,
    latencies_us: Vec<u32>,
    /// Users whose registration answered 201.
    created: BTreeSet<i64>,
    /// Users whose deletion answered 200.
    deleted: BTreeSet<i64>,
}

/// Which proxy is cut now, if any (shared with the workers for the tables).
type Phase = Arc<Mutex<&'static str>>;

/// Runs the soak; the app binary sits beside this one (same profile).
pub(crate) async fn run(options: &Options, command: &str) -> Result<Outcome, String> {
    let app_bin = sibling("microcore-app")?;
    let run_id = format!("soak_{}_{}", std::process::id(), unix_secs());
    let db = TestDb::postgres().await;
    let result = soak(&app_bin, &run_id, &db, options, command).await;
    cleanup(&run_id).await;
    db.drop_database().await;
    result
}

async fn soak(
    app_bin: &Path,
    run_id: &str,
    db: &TestDb,
    options: &Options,
    command: &str,
) -> Result<Outcome, String> {
    let nats = Proxy::start(NATS).await;
    let redis = Proxy::start(REDIS).await;
    let postgres = Proxy::start(POSTGRES).await;
    let published = tap(run_id).await?;
    let db_name = db
        .url
        .rsplit('/')
        .next()
        .ok_or("the test database has no name")?;
    let workdir = fresh_workdir("faults")?;
    let app = Server::new("example app", app_bin, &workdir)
        .with_env(
            "example app",
            "DATABASE_URL",
            &microcore_test_support::database_url(db_name, postgres.port),
        )
        .with_env(
            "example app",
            "STATE_URL",
            &format!("redis://127.0.0.1:{}", redis.port),
        )
        .with_env("example app", "STATE_PREFIX", &format!("{run_id}:"))
        .with_env(
            "example app",
            "EVENT_BUS_URL",
            &format!("nats://127.0.0.1:{}", nats.port),
        )
        .with_env("example app", "EVENT_BUS_PREFIX", run_id)
        // Plain lines: the handlers' lines are read back from the log.
        .with_env("example app", "NO_COLOR", "1");
    let running = app.start(Duration::from_secs(120)).await?;
    let addr = running.addr;
    let pid = running.pid;
    eprintln!(
        "faults: {} s of mixed traffic from {} users, a proxy cut 10 s in every 30 s…",
        options.duration.as_secs(),
        options.workers
    );
    let phase: Phase = Arc::new(Mutex::new("up"));
    let started = Instant::now();
    let deadline = started + options.duration;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let workers: Vec<_> = (0..options.workers)
        .map(|w| tokio::spawn(worker(addr, w, deadline, phase.clone(), ledger.clone())))
        .collect();
    let mut rss = Vec::new();
    let mut cuts = Vec::new();
    let proxies = [
        ("NATS", &nats),
        ("Redis", &redis),
        ("PostgreSQL", &postgres),
    ];
    let mut period = 0usize;
    while Instant::now() < deadline {
        let into = started.elapsed();
        let period_start = PERIOD * u32::try_from(period).unwrap_or(u32::MAX);
        if into >= period_start + OFFSET && into < period_start + OFFSET + OUTAGE {
            let (name, proxy) = proxies[period % proxies.len()];
            if *lock(&phase) == "up" {
                proxy.cut();
                *lock(&phase) = name;
                cuts.push(format!("{name} at {} s", into.as_secs()));
            }
        } else if into >= period_start + OFFSET + OUTAGE {
            let (_, proxy) = proxies[period % proxies.len()];
            proxy.restore();
            *lock(&phase) = "up";
            period += 1;
        }
        if rss
            .last()
            .is_none_or(|(t, _): &(Duration, u64)| into >= *t + Duration::from_secs(10))
        {
            rss.push((into, rss_kib(pid)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (_, proxy) in proxies {
        proxy.restore();
    }
    *lock(&phase) = "up";
    for w in workers {
        let _ = w.await;
    }
    rss.push((started.elapsed(), rss_kib(pid)));
    let mut ledger = std::mem::take(&mut *lock(&ledger));
    ledger.latencies_us.sort_unstable();

    // Once everything is back, the outbox's relay publishes what waited
    // (events of requests served while NATS was cut) and handlers catch up.
    let log_path = workdir.join("server.log");
    let grace_end = Instant::now() + GRACE;
    let (mut unhandled, mut unpublished_created, mut unpublished_deleted, mut orphans);
    loop {
        let seen = lock(&published).clone();
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        unhandled = unhandled_events(&seen, &log);
        unpublished_created = missing(&ledger.created, &seen.created);
        unpublished_deleted = missing(&ledger.deleted, &seen.deleted);
        let caught_up = unhandled.is_empty()
            && unpublished_created.is_empty()
            && unpublished_deleted.is_empty();
        orphans = if caught_up || Instant::now() >= grace_end {
            orphans_of(&db.url, &seen.created).await?
        } else {
            Vec::new()
        };
        if (caught_up && orphans.is_empty()) || Instant::now() >= grace_end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let published = lock(&published).clone();
    let _ = running.stop(Duration::from_secs(30)).await;
    let lost =
        unpublished_created.len() + unpublished_deleted.len() + unhandled.len() + orphans.len();

    let mut answers = Table::new(&["while", "answers by status"]);
    for phase in ["up", "NATS", "Redis", "PostgreSQL"] {
        let row: Vec<String> = ledger
            .statuses
            .iter()
            .filter(|((p, _), _)| *p == phase)
            .map(|((_, status), n)| match status {
                0 => format!("transport error: {n}"),
                s => format!("{s}: {n}"),
            })
            .collect();
        if !row.is_empty() {
            let label = if phase == "up" {
                "all up".to_string()
            } else {
                format!("{phase} cut")
            };
            answers.row(vec![label, row.join(", ")]);
        }
    }
    let p = |q: f64| f64::from(percentile(&ledger.latencies_us, q)) / 1e3;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut figures = Table::new(&["figure", "measured", "goal"]);
    figures.row(vec![
        "requests".into(),
        ledger.statuses.values().sum::<u64>().to_string(),
        String::new(),
    ]);
    figures.row(vec![
        "latency p50 / p99 / max".into(),
        format!("{:.1} / {:.1} / {:.1} ms", p(50.0), p(99.0), p(100.0)),
        String::new(),
    ]);
    figures.row(vec![
        "RSS over time: lowest–highest per minute (MiB)".into(),
        per_minute(&rss)
            .iter()
            .map(|(minute, low, high)| format!("{minute}: {:.0}–{:.0}", mib(*low), mib(*high)))
            .collect::<Vec<_>>()
            .join(", "),
        String::new(),
    ]);
    figures.row(vec!["cuts".into(), cuts.join(", "), String::new()]);
    figures.row(vec![
        "events published (user.created / user.deleted)".into(),
        format!("{} / {}", published.created.len(), published.deleted.len()),
        String::new(),
    ]);
    figures.row(vec![
        "201 registrations without user.created".into(),
        describe(&unpublished_created),
        format!("0: {}", verdict(unpublished_created.is_empty())),
    ]);
    figures.row(vec![
        "200 deletions without user.deleted".into(),
        describe(&unpublished_deleted),
        format!("0: {}", verdict(unpublished_deleted.is_empty())),
    ]);
    figures.row(vec![
        "user.created never handled (per handler)".into(),
        unhandled
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
            + &if unhandled.is_empty() {
                "0".to_string()
            } else {
                format!(" ({} in all)", unhandled.len())
            },
        format!("0: {}", verdict(unhandled.is_empty())),
    ]);
    figures.row(vec![
        "users in the database without user.created".into(),
        describe(&orphans),
        format!("0: {}", verdict(orphans.is_empty())),
    ]);
    figures.row(vec![
        "events lost".into(),
        lost.to_string(),
        format!("0: {}", verdict(lost == 0)),
    ]);
    let rendered = format!("{}\n\n{}", figures.render(), answers.render());
    println!(
        "\nSoak with faults ({} s)\n{rendered}",
        options.duration.as_secs()
    );
    let block = format!(
        "{}\n\nThe example app on PostgreSQL, state on Redis, bus on NATS JetStream, each through \
         a TCP proxy; {} users in a loop (register, log in, `GET /users/me`, `PUT /users/{{id}}`, \
         `GET /users/{{id}}`, `GET /users`, and every other user `DELETE /users/{{id}}`); one proxy \
         cut for 10 s in every 30 s (NATS, Redis, PostgreSQL in turn); then up to {} s for the \
         handlers to catch up.\n\n{rendered}",
        provenance(command),
        options.workers,
        GRACE.as_secs()
    );
    Ok(Outcome { block, lost })
}

/// One user after another, each through the whole mix, until `deadline`.
async fn worker(
    addr: SocketAddr,
    w: usize,
    deadline: Instant,
    phase: Phase,
    ledger: Arc<Mutex<Ledger>>,
) {
    let mut conn: Option<Conn> = None;
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let email = format!("w{w}-{n}@soak.example");
        let mut call = async |method: Method, path: String, token: Option<&str>, body: Value| {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match Conn::open(addr).await {
                    Ok(c) => conn.insert(c),
                    Err(_) => {
                        record(&ledger, &phase, 0, Duration::ZERO);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        return None;
                    }
                },
            };
            let sent = Instant::now();
            let answer = if method == Method::GET {
                let get = match token {
                    Some(t) => Get::authorized(&path, t),
                    None => Get::public(&path),
                };
                c.send(&get).await
            } else {
                c.send_json(method, &path, token, Bytes::from(body.to_string()))
                    .await
            };
            match answer {
                Ok(answer) => {
                    record(&ledger, &phase, answer.status.as_u16(), sent.elapsed());
                    Some(answer)
                }
                Err(_) => {
                    record(&ledger, &phase, 0, sent.elapsed());
                    conn = None;
                    None
                }
            }
        };
        let registration =
            serde_json::json!({"name": "Soak", "email": email, "password": "password1"});
        let Some(created) = call(Method::POST, "/users".into(), None, registration).await else {
            continue;
        };
        let Some(id) = (created.status == 201)
            .then(|| data(&created)["id"].as_i64())
            .flatten()
        else {
            pause().await;
            continue;
        };
        lock(&ledger).created.insert(id);
        let login = serde_json::json!({"email": email, "password": "password1"});
        let token = match call(Method::POST, "/auth/login".into(), None, login).await {
            Some(a) if a.status == 200 => data(&a)["token"].as_str().map(str::to_string),
            _ => None,
        };
        if let Some(token) = token {
            let t = Some(token.as_str());
            let user = format!("/users/{id}");
            call(Method::GET, "/users/me".into(), t, Value::Null).await;
            call(
                Method::PUT,
                user.clone(),
                t,
                serde_json::json!({"name": "Soak Renamed"}),
            )
            .await;
            call(Method::GET, user.clone(), t, Value::Null).await;
            call(Method::GET, "/users?limit=10".into(), t, Value::Null).await;
            if n.is_multiple_of(2)
                && let Some(a) = call(Method::DELETE, user, t, Value::Null).await
                && a.status == 200
            {
                lock(&ledger).deleted.insert(id);
            }
        }
        pause().await;
    }
}

/// A user's think time: the soak is about faults, not saturation.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

fn record(ledger: &Mutex<Ledger>, phase: &Phase, status: u16, took: Duration) {
    let phase = *lock(phase);
    let mut ledger = lock(ledger);
    *ledger.statuses.entry((phase, status)).or_default() += 1;
    if status != 0 {
        ledger
            .latencies_us
            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    }
}

fn data(answer: &Answer) -> Value {
    serde_json::from_slice::<Value>(&answer.body)
        .map(|v| v["data"].clone())
        .unwrap_or(Value::Null)
}

/// The user ids of the events seen on NATS, by topic.
#[derive(Debug, Default, Clone)]
struct Published {
    created: BTreeMap<i64, String>,
    deleted: BTreeSet<i64>,
}

/// Subscribes (on the real server) to everything the run publishes.
async fn tap(run_id: &str) -> Result<Arc<Mutex<Published>>, String> {
    let client = async_nats::connect(NATS)
        .await
        .map_err(|e| format!("cannot reach NATS at {NATS}: {e}"))?;
    let mut subscription = client
        .subscribe(format!("{run_id}.>"))
        .await
        .map_err(|e| format!("cannot subscribe on NATS: {e}"))?;
    let seen = Arc::new(Mutex::new(Published::default()));
    let into = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Some(message) = subscription.next().await {
            let Ok(envelope) = serde_json::from_slice::<Value>(&message.payload) else {
                continue;
            };
            let Some(id) = envelope["payload"]["id"].as_i64() else {
                continue;
            };
            let mut seen = lock(&into);
            match envelope["event"].as_str() {
                Some("user.created") => {
                    let email = envelope["payload"]["email"].as_str().unwrap_or_default();
                    seen.created.insert(id, email.to_string());
                }
                Some("user.deleted") => {
                    seen.deleted.insert(id);
                }
                _ => {}
            }
        }
    });
    Ok(seen)
}

/// `user.created` events one of the app's two handlers never logged.
fn unhandled_events(published: &Published, log: &str) -> Vec<String> {
    let mut welcomed = HashSet::new();
    let mut queued = HashSet::new();
    for line in log.lines() {
        // The value is the first word after the message (fields follow).
        let after = |marker: &str| {
            line.split(marker)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        };
        welcomed.extend(after("welcome sent to user "));
        queued.extend(after("welcome e-mail queued for "));
    }
    let mut missing = Vec::new();
    for (id, email) in &published.created {
        if !welcomed.contains(&id.to_string()) {
            missing.push(format!("welcome {id}"));
        }
        if !queued.contains(email) {
            missing.push(format!("e-mail {email}"));
        }
    }
    missing
}

fn missing(acknowledged: &BTreeSet<i64>, published: &impl Contains) -> Vec<i64> {
    acknowledged
        .iter()
        .copied()
        .filter(|id| !published.has(*id))
        .collect()
}

trait Contains {
    fn has(&self, id: i64) -> bool;
}

impl Contains for BTreeSet<i64> {
    fn has(&self, id: i64) -> bool {
        self.contains(&id)
    }
}

impl Contains for BTreeMap<i64, String> {
    fn has(&self, id: i64) -> bool {
        self.contains_key(&id)
    }
}

/// Users in the database (read directly, not through the proxy) whose
/// `user.created` was never published.
async fn orphans_of(url: &str, created: &BTreeMap<i64, String>) -> Result<Vec<i64>, String> {
    let db = Database::connect(url)
        .await
        .map_err(|e| format!("cannot read the soak's database: {e}"))?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM users ORDER BY id",
        ))
        .await
        .map_err(|e| format!("cannot list the users: {e}"))?;
    let _ = db.close().await;
    Ok(rows
        .iter()
        .filter_map(|row| row.try_get::<i64>("", "id").ok())
        .filter(|id| !created.contains_key(id))
        .collect())
}

/// RSS samples grouped by minute: (minute, lowest, highest); the
/// allocator gives memory back between bursts, so one sample says little.
fn per_minute(samples: &[(Duration, u64)]) -> Vec<(u64, u64, u64)> {
    let mut minutes: Vec<(u64, u64, u64)> = Vec::new();
    for &(t, kib) in samples {
        let minute = t.as_secs() / 60;
        match minutes.last_mut() {
            Some((m, low, high)) if *m == minute => {
                *low = (*low).min(kib);
                *high = (*high).max(kib);
            }
            _ => minutes.push((minute, kib, kib)),
        }
    }
    minutes
}

fn describe(ids: &[i64]) -> String {
    match ids.len() {
        0 => "0".into(),
        n => format!(
            "{n} (e.g. {})",
            ids.iter()
                .take(5)
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Deletes the run's stream and keys (its database is dropped by the caller).
async fn cleanup(run_id: &str) {
    if let Ok(client) = async_nats::connect(NATS).await {
        let js = async_nats::jetstream::new(client);
        let _ = js.delete_stream(run_id).await;
        let _ = js.delete_stream(format!("{run_id}_dead_letters")).await;
    }
    if let Ok(client) = redis::Client::open(format!("redis://{REDIS}"))
        && let Ok(mut conn) = client.get_multiplexed_async_connection().await
    {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{run_id}*"))
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await;
        }
    }
}

/// A binary built beside this one (same target dir and profile).
fn sibling(name: &str) -> Result<std::path::PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run scripts/soak, which builds it",
            path.display()
        ))
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
