//! The example app against the hand-written baseline, side by side:
//! boot time, idle memory, throughput and latency under load (alternating
//! rounds, median of rounds), memory under load, and instructions per
//! request from callgrind with the functions that make the difference.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::boot::boot_times;
use crate::callgrind;
use crate::client::{Conn, Get};
use crate::fixtures::{self, USER_ID};
use crate::load::{self, LoadReport};
use crate::paths::{bench_dir, fresh_workdir};
use crate::report::{Table, provenance, ratio, verdict};
use crate::server::{Running, Server, cpu_us, rss_kib};
use crate::stats::{median, median_ms};

/// The knobs of the comparison.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Boot runs per server.
    pub(crate) boot_runs: usize,
    /// Load rounds per server and route.
    pub(crate) rounds: usize,
    /// Length of one measured round.
    pub(crate) round: Duration,
    /// Unmeasured load before each round.
    pub(crate) warmup: Duration,
    /// Concurrent connections of the load generator.
    pub(crate) connections: usize,
    /// Requests per route counted under callgrind (0 skips callgrind).
    pub(crate) callgrind_requests: usize,
}

/// The baseline with one `Router::layer` per middleware.
const SEPARATE: &str = "baseline, one Router::layer per middleware";

/// Targets of issue 8.
const INSTRUCTIONS_TARGET: f64 = 1.05;
const THROUGHPUT_TARGET: f64 = 0.95;
/// 15 MiB, in KiB (what `/proc/<pid>/status` reports).
const IDLE_RSS_TARGET_KIB: u64 = 15 * 1024;

/// The two routes, named as the tables show them.
pub(crate) fn routes(token: &str) -> Vec<(String, Get)> {
    vec![
        ("GET /ping".into(), Get::public("/ping")),
        (
            "GET /users/{id}".into(),
            Get::authorized(&format!("/users/{USER_ID}"), token),
        ),
    ]
}

/// Per server and route, the median of the rounds.
#[derive(Debug, Default, Clone)]
struct Medians {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    rss_kib: f64,
    cpu_us: f64,
}

/// One measured round of one server on one route.
#[derive(Debug, Clone)]
struct Round {
    report: LoadReport,
    /// Resident memory halfway through.
    rss_kib: u64,
    /// The server's CPU time (user + system, all threads) per request:
    /// what callgrind's user-space instruction count leaves out (syscalls,
    /// wake-ups), and steadier than throughput on a shared box.
    cpu_us: f64,
}

fn medians(rounds: &[Round]) -> Medians {
    let of = |f: &dyn Fn(&Round) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
    Medians {
        rps: of(&|r| r.report.rps()),
        p50_ms: of(&|r| r.report.latency_ms(50.0)),
        p99_ms: of(&|r| r.report.latency_ms(99.0)),
        errors: rounds.iter().map(|r| r.report.errors).sum(),
        rss_kib: of(&|r| r.rss_kib as f64),
        cpu_us: of(&|r| r.cpu_us),
    }
}

/// Runs the comparison; returns the `http` and `callgrind` blocks.
pub(crate) async fn run(
    app_bin: &Path,
    baseline_bin: &Path,
    options: &Options,
    command: &str,
) -> Result<(String, String), String> {
    let app = Server::new("example app", app_bin, &fresh_workdir("http-app")?);
    let baseline = Server::new(
        "hand-written baseline",
        baseline_bin,
        &fresh_workdir("http-baseline")?,
    );
    let servers = [app, baseline];
    let token = fixtures::token()?;
    let routes = routes(&token);

    eprintln!(
        "http: boot times ({} runs each, in turns)…",
        options.boot_runs
    );
    let boots = boot_times(&servers, options.boot_runs).await?;
    for server in &servers {
        fixtures::seed_user(&server.database()).await?;
    }

    eprintln!("http: idle memory after boot and 100 requests…");
    let mut running = Vec::new();
    for server in &servers {
        let r = server.start(Duration::from_secs(60)).await?;
        let all: Vec<Get> = routes.iter().map(|(_, g)| g.clone()).collect();
        load::sequential(r.addr, &all, 100).await?;
        running.push(r);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle: Vec<u64> = running.iter().map(Running::rss_kib).collect();
    let split: Vec<(u64, u64)> = running.iter().map(Running::rss_split_kib).collect();
    let parity = parity(&running, &token).await;

    let mut results = vec![vec![Vec::new(); routes.len()]; servers.len()];
    for round in 0..options.rounds {
        // Alternate who goes first, so neither always meets a warmer machine.
        let order: [usize; 2] = if round.is_multiple_of(2) {
            [0, 1]
        } else {
            [1, 0]
        };
        for (r, (name, get)) in routes.iter().enumerate() {
            for &s in &order {
                let addr = running[s].addr;
                let gets = std::slice::from_ref(get);
                load::run(addr, gets, options.connections, options.warmup).await;
                let pid = running[s].pid;
                let half = options.round / 2;
                let sampler = tokio::spawn(async move {
                    tokio::time::sleep(half).await;
                    rss_kib(pid)
                });
                let cpu_before = cpu_us(pid);
                let report = load::run(addr, gets, options.connections, options.round).await;
                let cpu = cpu_us(pid).saturating_sub(cpu_before);
                let rss = sampler.await.unwrap_or(0);
                eprintln!(
                    "  round {}/{} {name} {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                    round + 1,
                    options.rounds,
                    servers[s].name,
                    report.rps(),
                    report.latency_ms(50.0),
                    report.latency_ms(99.0),
                    report.errors
                );
                let requests = (report.ok + report.errors).max(1);
                results[s][r].push(Round {
                    cpu_us: cpu as f64 / requests as f64,
                    report,
                    rss_kib: rss,
                });
            }
        }
    }
    let peaks: Vec<u64> = running.iter().map(Running::peak_rss_kib).collect();
    for (server, r) in servers.iter().zip(running) {
        if let Err(e) = r.stop(Duration::from_secs(10)).await {
            eprintln!("  {} did not stop cleanly: {e}", server.name);
        }
    }

    let m: Vec<Vec<Medians>> = results
        .iter()
        .map(|per_route| per_route.iter().map(|rounds| medians(rounds)).collect())
        .collect();
    let http_block = render_http(
        options, &routes, &boots, &idle, &split, &peaks, &m, &parity, command,
    );
    println!("\n{http_block}");

    let callgrind_block = if options.callgrind_requests == 0 {
        None
    } else {
        eprintln!(
            "callgrind: {} requests per route on each server…",
            options.callgrind_requests
        );
        let out = bench_dir().join("callgrind");
        let _ = std::fs::remove_dir_all(&out);
        // The baseline again, its middleware applied one `Router::layer`
        // at a time as the framework does: what that structure costs.
        let separate = servers[1].with_env(SEPARATE, "BASELINE_LAYERS", "separate");
        let mut counts = Vec::new();
        for server in [&servers[0], &servers[1], &separate] {
            counts.push(
                callgrind::count(server, &routes, 200, options.callgrind_requests, &out).await?,
            );
        }
        let block = render_callgrind(&counts, options.callgrind_requests, command)?;
        println!("\n{block}");
        Some(block)
    };
    Ok((http_block, callgrind_block.unwrap_or_default()))
}

/// Both servers answer alike: same bodies, same statuses, the same
/// transport headers. Returns what differs (empty when nothing does).
async fn parity(running: &[Running], token: &str) -> Vec<String> {
    let probes = [
        Get::authorized(&format!("/users/{USER_ID}"), token),
        Get::public(&format!("/users/{USER_ID}")),
        Get::authorized("/users/999999", token),
        Get::authorized("/users/abc", token),
        Get::public("/ping"),
        Get::public("/no-such-route"),
    ];
    let headers = [
        "x-request-id",
        "x-frame-options",
        "x-content-type-options",
        "content-type",
    ];
    let mut problems = Vec::new();
    let mut answers = Vec::new();
    for r in running {
        let mut seen = Vec::new();
        match Conn::open(r.addr).await {
            Ok(mut conn) => {
                for probe in &probes {
                    seen.push(conn.send(probe).await.ok());
                }
            }
            Err(e) => problems.push(format!("cannot connect: {e}")),
        }
        answers.push(seen);
    }
    if let [app, base] = answers.as_slice() {
        for ((probe, a), b) in probes.iter().zip(app).zip(base) {
            let (Some(a), Some(b)) = (a, b) else {
                problems.push(format!("GET {} failed on one server", probe.path));
                continue;
            };
            let auth = if probe.bearer.is_some() {
                " (token)"
            } else {
                ""
            };
            if a.status != b.status {
                problems.push(format!(
                    "GET {}{auth}: status {} vs {}",
                    probe.path, a.status, b.status
                ));
            } else if a.status != 422 && a.body != b.body {
                problems.push(format!(
                    "GET {}{auth}: body `{}` vs `{}`",
                    probe.path,
                    String::from_utf8_lossy(&a.body),
                    String::from_utf8_lossy(&b.body)
                ));
            }
            for h in headers {
                if a.headers.contains_key(h) != b.headers.contains_key(h) {
                    problems.push(format!(
                        "GET {}{auth}: header {h} on one server only",
                        probe.path
                    ));
                }
            }
        }
    }
    problems
}

#[allow(clippy::too_many_arguments)]
fn render_http(
    options: &Options,
    routes: &[(String, Get)],
    boots: &[Vec<Duration>],
    idle: &[u64],
    split: &[(u64, u64)],
    peaks: &[u64],
    m: &[Vec<Medians>],
    parity: &[String],
    command: &str,
) -> String {
    let mib = |kib: f64| format!("{:.1} MiB", kib / 1024.0);
    let mut table = Table::new(&[
        "metric",
        "example app",
        "hand-written baseline",
        "app / baseline",
        "target",
    ]);
    table.row(vec![
        "boot → first response (median)".into(),
        format!("{:.1} ms", median_ms(&boots[0])),
        format!("{:.1} ms", median_ms(&boots[1])),
        ratio(median_ms(&boots[0]), median_ms(&boots[1])),
        String::new(),
    ]);
    table.row(vec![
        "idle RSS (boot + 100 requests)".into(),
        mib(idle[0] as f64),
        mib(idle[1] as f64),
        ratio(idle[0] as f64, idle[1] as f64),
        format!("≤ 15 MiB: {}", verdict(idle[0] <= IDLE_RSS_TARGET_KIB)),
    ]);
    table.row(vec![
        "… of which mapped files (code) / anonymous".into(),
        format!("{} / {}", mib(split[0].1 as f64), mib(split[0].0 as f64)),
        format!("{} / {}", mib(split[1].1 as f64), mib(split[1].0 as f64)),
        format!(
            "{} / {}",
            ratio(split[0].1 as f64, split[1].1 as f64),
            ratio(split[0].0 as f64, split[1].0 as f64)
        ),
        String::new(),
    ]);
    for (r, (name, _)) in routes.iter().enumerate() {
        let (a, b) = (&m[0][r], &m[1][r]);
        table.row(vec![
            format!("{name}: throughput"),
            format!("{:.0} req/s", a.rps),
            format!("{:.0} req/s", b.rps),
            ratio(a.rps, b.rps),
            format!("≥ 0.95×: {}", verdict(a.rps >= THROUGHPUT_TARGET * b.rps)),
        ]);
        table.row(vec![
            format!("{name}: server CPU per request (user + sys)"),
            format!("{:.1} µs", a.cpu_us),
            format!("{:.1} µs", b.cpu_us),
            ratio(a.cpu_us, b.cpu_us),
            String::new(),
        ]);
        table.row(vec![
            format!("{name}: latency p50 / p99"),
            format!("{:.2} / {:.2} ms", a.p50_ms, a.p99_ms),
            format!("{:.2} / {:.2} ms", b.p50_ms, b.p99_ms),
            format!(
                "{} / {}",
                ratio(a.p50_ms, b.p50_ms),
                ratio(a.p99_ms, b.p99_ms)
            ),
            String::new(),
        ]);
        table.row(vec![
            format!("{name}: RSS under load (median)"),
            mib(a.rss_kib),
            mib(b.rss_kib),
            ratio(a.rss_kib, b.rss_kib),
            String::new(),
        ]);
        table.row(vec![
            format!("{name}: errors (all rounds)"),
            a.errors.to_string(),
            b.errors.to_string(),
            String::new(),
            String::new(),
        ]);
    }
    table.row(vec![
        "peak RSS (VmHWM, whole run)".into(),
        mib(peaks[0] as f64),
        mib(peaks[1] as f64),
        ratio(peaks[0] as f64, peaks[1] as f64),
        String::new(),
    ]);
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", provenance(command));
    let _ = writeln!(
        out,
        "Load: {} keep-alive connections, closed loop, {} rounds of {} s per server and route \
         (each after {} s of unmeasured load), servers alternating, median of rounds. \
         Boot: median of {} runs each. Both servers on SQLite (WAL), default pool of 10, \
         `LOG_LEVEL=info`.\n",
        options.connections,
        options.rounds,
        options.round.as_secs_f64(),
        options.warmup.as_secs_f64(),
        options.boot_runs
    );
    out.push_str(&table.render());
    if parity.is_empty() {
        out.push_str("\nParity check passed: both servers gave the same statuses, bodies and transport headers on 6 probes (user, no token, unknown user, bad id, ping, unknown route).\n");
    } else {
        out.push_str(
            "\nParity check found differences (the comparison is not like for like there):\n",
        );
        for p in parity {
            let _ = writeln!(out, "- {p}");
        }
    }
    out
}

fn render_callgrind(
    counts: &[Vec<callgrind::Count>],
    requests: usize,
    command: &str,
) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", provenance(command));
    let mut table = Table::new(&[
        "route",
        "example app",
        "hand-written baseline",
        "app / baseline",
        "target",
        "baseline, one `Router::layer` per middleware",
    ]);
    for (i, (a, b)) in counts[0].iter().zip(&counts[1]).enumerate() {
        let separate = counts
            .get(2)
            .and_then(|c| c.get(i))
            .map_or(String::new(), |c| {
                format!(
                    "{:.0} ({})",
                    c.per_request,
                    ratio(c.per_request, b.per_request)
                )
            });
        let target = if a.route == callgrind::CONNECTION_ROUTE {
            String::new()
        } else {
            format!(
                "≤ 1.05×: {}",
                verdict(a.per_request <= INSTRUCTIONS_TARGET * b.per_request)
            )
        };
        table.row(vec![
            a.route.clone(),
            format!("{:.0}", a.per_request),
            format!("{:.0}", b.per_request),
            ratio(a.per_request, b.per_request),
            target,
            separate,
        ]);
    }
    let _ = writeln!(
        out,
        "Instructions per request (callgrind `Ir`, all threads of the server): {requests} requests per route in sequence \
         on one warm keep-alive connection, counters zeroed before and dumped after each route. The last column is the \
         same baseline with its middleware applied by one `Router::layer` call each, as `tools/http/src/layers.rs` does \
         (`BASELINE_LAYERS=separate`), instead of one `ServiceBuilder` stack.\n"
    );
    out.push_str(&table.render());
    for (a, b) in counts[0].iter().zip(&counts[1]) {
        if a.route != callgrind::CONNECTION_ROUTE {
            out.push_str(&where_they_differ(a, b, requests, ("app", "baseline"))?);
        }
    }
    Ok(out)
}

/// A folded section listing where two counts of one route differ (self
/// instructions per request), by crate then by function; `names` heads
/// the two columns.
pub(crate) fn where_they_differ(
    a: &callgrind::Count,
    b: &callgrind::Count,
    requests: usize,
    names: (&str, &str),
) -> Result<String, String> {
    let (left, right) = names;
    let diffs = callgrind::differences(a, b, requests)?;
    let mut by_crate: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for (name, x, y) in &diffs {
        let entry = by_crate.entry(callgrind::crate_of(name)).or_default();
        entry.0 += x;
        entry.1 += y;
    }
    let mut crates: Vec<_> = by_crate.into_iter().collect();
    crates.sort_by(|p, q| (q.1.0 - q.1.1).abs().total_cmp(&(p.1.0 - p.1.1).abs()));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n<details><summary>{}: where the instructions differ (self instructions per request, {left} − {right})</summary>\n",
        a.route
    );
    let difference = format!("{left} − {right}");
    let mut t = Table::new(&["crate", left, right, &difference]);
    for (name, (x, y)) in crates.iter().take(12) {
        t.row(vec![
            name.clone(),
            format!("{x:.0}"),
            format!("{y:.0}"),
            format!("{:+.0}", x - y),
        ]);
    }
    out.push_str(&t.render());
    out.push('\n');
    let mut t = Table::new(&["function", left, right, &difference]);
    for (name, x, y) in diffs.iter().take(20) {
        let shown: String = name.chars().take(110).collect();
        let ellipsis = if shown.len() < name.len() { "…" } else { "" };
        t.row(vec![
            format!(
                "`{}{ellipsis}`",
                shown.replace('|', "\\|").replace('`', "'")
            ),
            format!("{x:.0}"),
            format!("{y:.0}"),
            format!("{:+.0}", x - y),
        ]);
    }
    out.push_str(&t.render());
    out.push_str("\n</details>\n");
    Ok(out)
}
