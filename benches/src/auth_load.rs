//! Password hashing under attack (issue 19, item 1): `clients` connections
//! in a closed loop, half registering new accounts and half logging in as
//! unknown e-mails (no account needed: each login hashes), for a fixed
//! time, while a probe on its own thread times `GET /ping` every 10 ms.
//! Reported: the probe's p99, the app's peak RSS, the database pool's
//! time-outs (from the app's log), and how many 503 answers carried
//! `Retry-After`, each against its goal.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, header};

use crate::client::{Conn, Get};
use crate::paths::fresh_workdir;
use crate::report::{Table, provenance, verdict};
use crate::server::{Server, rss_kib};
use crate::stats::percentile;

/// The goals of the issue.
const PING_P99_GOAL_MS: f64 = 50.0;
const PEAK_RSS_GOAL_MIB: f64 = 200.0;

/// How the run is shaped.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) clients: usize,
    pub(crate) duration: Duration,
    /// `DATABASE_URL` for the app; `None`: its own SQLite file.
    pub(crate) database_url: Option<String>,
}

/// What the attackers saw.
#[derive(Debug, Default)]
struct Tally {
    /// Answers by status (0: the request failed at the transport).
    statuses: BTreeMap<u16, u64>,
    /// 503 answers with and without `Retry-After`.
    with_retry_after: u64,
    without_retry_after: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.with_retry_after += other.with_retry_after;
        self.without_retry_after += other.without_retry_after;
    }
}

/// Runs the attack on the app at `app_bin`; returns its block of the doc.
pub(crate) async fn run(
    app_bin: &Path,
    options: &Options,
    command: &str,
) -> Result<String, String> {
    let workdir = fresh_workdir("auth-load")?;
    let mut app = Server::new("example app", app_bin, &workdir);
    if let Some(url) = &options.database_url {
        app = app.with_env("example app", "DATABASE_URL", url);
    }
    let running = app.start(Duration::from_secs(60)).await?;
    let addr = running.addr;
    let idle_kib = running.rss_kib();
    eprintln!(
        "auth: {} clients (half register, half log in) for {} s…",
        options.clients,
        options.duration.as_secs()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let stop = stop.clone();
        std::thread::spawn(move || ping_probe(addr, &stop))
    };
    let pid = running.pid;
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                samples.push((started.elapsed(), rss_kib(pid)));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            samples
        })
    };
    let deadline = Instant::now() + options.duration;
    let tasks: Vec<_> = (0..options.clients)
        .map(|i| tokio::spawn(attacker(addr, i, deadline)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        if let Ok(part) = task.await {
            tally.merge(part);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (pings, ping_errors) = probe.join().map_err(|_| "the /ping probe panicked")?;
    let samples = sampler.await.unwrap_or_default();
    let peak_kib = running.peak_rss_kib();
    let stopped = running.stop(Duration::from_secs(10)).await;
    let log = std::fs::read_to_string(workdir.join("server.log")).unwrap_or_default();
    let unavailable: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("dependency unavailable"))
        .collect();
    let pool_timeouts = unavailable
        .iter()
        .filter(|l| !l.contains("password hashing") && l.contains("timed out"))
        .count();
    let other_unavailable = unavailable
        .iter()
        .filter(|l| !l.contains("password hashing") && !l.contains("timed out"))
        .count();
    if let Err(e) = stopped {
        eprintln!("auth: the app did not stop cleanly: {e}");
    }

    let p = |q: f64| f64::from(percentile(&pings, q)) / 1e3;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let served_503 = tally.with_retry_after + tally.without_retry_after;
    let mut table = Table::new(&["figure", "measured", "goal"]);
    table.row(vec![
        "/ping p50 / p99 / max".into(),
        format!(
            "{:.1} / {:.1} / {:.1} ms ({} probes, {ping_errors} failed)",
            p(50.0),
            p(99.0),
            p(100.0),
            pings.len()
        ),
        format!(
            "p99 ≤ {PING_P99_GOAL_MS} ms: {}",
            verdict(p(99.0) <= PING_P99_GOAL_MS && ping_errors == 0)
        ),
    ]);
    table.row(vec![
        "peak RSS (VmHWM)".into(),
        format!("{:.1} MiB (idle {:.1} MiB)", mib(peak_kib), mib(idle_kib)),
        format!(
            "≤ {PEAK_RSS_GOAL_MIB} MB: {}",
            verdict(mib(peak_kib) <= PEAK_RSS_GOAL_MIB)
        ),
    ]);
    table.row(vec![
        "pool time-outs".into(),
        format!("{pool_timeouts} (other dependency errors: {other_unavailable})"),
        format!("0: {}", verdict(pool_timeouts == 0)),
    ]);
    table.row(vec![
        "503 answers carrying Retry-After".into(),
        format!("{} of {served_503}", tally.with_retry_after),
        format!("all: {}", verdict(tally.without_retry_after == 0)),
    ]);
    let answers = tally
        .statuses
        .iter()
        .map(|(status, n)| match status {
            0 => format!("transport error: {n}"),
            s => format!("{s}: {n}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    table.row(vec!["answers".into(), answers, String::new()]);
    let rss_line = samples
        .iter()
        .filter(|(t, _)| t.as_millis() % 5000 < 250)
        .map(|(t, kib)| format!("{:.0} s: {:.0}", t.as_secs_f64(), mib(*kib)))
        .collect::<Vec<_>>()
        .join(", ");
    table.row(vec!["RSS over time (MiB)".into(), rss_line, String::new()]);
    let rendered = table.render();
    println!(
        "\nPassword hashing under attack ({} s)\n{rendered}",
        options.duration.as_secs()
    );
    let database = match &options.database_url {
        Some(url) if url.starts_with("postgres") => "PostgreSQL",
        Some(_) => "the given database",
        None => "SQLite",
    };
    Ok(format!(
        "{}\n\nThe example app (release, {database}, default `AUTH_HASH_*`) for {} s: {} keep-alive \
         connections in a closed loop, half `POST /users` with a new e-mail each time, half \
         `POST /auth/login` as an unknown e-mail (each hashes); they do not wait on `Retry-After`. \
         A probe on its own thread sends `GET /ping` every 10 ms on one connection. Pool time-outs \
         are the app's `dependency unavailable` log lines that say `timed out`.\n\n{rendered}",
        provenance(command),
        options.duration.as_secs(),
        options.clients,
    ))
}

/// One attacker: registers (even `i`) or logs in (odd `i`) with a new
/// e-mail each time until `deadline`.
async fn attacker(addr: SocketAddr, i: usize, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut conn: Option<Conn> = None;
    let mut n = 0u64;
    while Instant::now() < deadline {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    *tally.statuses.entry(0).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        n += 1;
        let email = format!("a{i}-{n}@bench.example");
        let (path, body) = if i.is_multiple_of(2) {
            (
                "/users",
                serde_json::json!({"name": "Bench", "email": email, "password": "password1"}),
            )
        } else {
            (
                "/auth/login",
                serde_json::json!({"email": email, "password": "password1"}),
            )
        };
        let body = Bytes::from(body.to_string());
        match c.send_json(Method::POST, path, None, body).await {
            Ok(answer) => {
                *tally.statuses.entry(answer.status.as_u16()).or_default() += 1;
                if answer.status == 503 {
                    if answer.headers.contains_key(header::RETRY_AFTER) {
                        tally.with_retry_after += 1;
                    } else {
                        tally.without_retry_after += 1;
                    }
                }
            }
            Err(_) => {
                *tally.statuses.entry(0).or_default() += 1;
                conn = None;
            }
        }
    }
    tally
}

/// `GET /ping` every 10 ms on its own thread and runtime (the attackers'
/// runtime cannot delay it), until `stop`: the latencies in µs, sorted, and
/// the failures.
fn ping_probe(addr: SocketAddr, stop: &AtomicBool) -> (Vec<u32>, u64) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return (Vec::new(), 1);
    };
    runtime.block_on(async {
        let mut latencies = Vec::new();
        let mut errors = 0u64;
        let mut conn: Option<Conn> = None;
        let ping = Get::public("/ping");
        while !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match Conn::open(addr).await {
                    Ok(c) => conn.insert(c),
                    Err(_) => {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            match c.send(&ping).await {
                Ok(answer) if answer.status == 200 => {
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                }
                Ok(_) => errors += 1,
                Err(_) => {
                    errors += 1;
                    conn = None;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.sort_unstable();
        (latencies, errors)
    })
}
