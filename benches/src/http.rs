//! The example app against the hand-written baselines, side by side:
//! boot time, idle memory, throughput and latency under load (alternating
//! rounds, median of rounds), memory under load, and instructions per
//! request from callgrind with the functions that make the difference.
//!
//! Two hand-written servers, one binary (`bench-baseline`): the plain one
//! (`BASELINE_QUERY=sqlx`: one sqlx statement, three columns), which the
//! targets are judged against, and the one reading the user with sea-orm's
//! entity API as the app's plugin does (what the framework adds over the
//! same ORM calls). On SQLite (a file per server) or PostgreSQL (a fresh
//! database per server on the local server, dropped afterwards).

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
    /// On PostgreSQL (a fresh database per server) instead of SQLite.
    pub(crate) postgres: bool,
}

/// The servers, in the order of the tables' columns.
const APP: usize = 0;
const PLAIN: usize = 1;
const SEA_ORM: usize = 2;

/// The plain server with one `Router::layer` per middleware.
const SEPARATE: &str = "plain, one Router::layer per middleware";
const SEPARATE_COLUMN: usize = 3;

/// Targets of issue 23: instructions per request on `/users/{id}` against
/// the plain server, on `/ping` against the plain server with one
/// `Router::layer` per middleware; throughput (issue 8).
const USERS_TARGET: f64 = 1.10;
const PING_TARGET: f64 = 0.70;
const THROUGHPUT_TARGET: f64 = 0.95;

/// The instruction target of route `route`, as a ratio to the plain server.
fn instructions_target(route: &str) -> f64 {
    if route.contains("/ping") {
        PING_TARGET
    } else {
        USERS_TARGET
    }
}
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
    let plain = Server::new(
        "plain hand-written (sqlx)",
        baseline_bin,
        &fresh_workdir("http-plain")?,
    )
    .with_env("plain hand-written (sqlx)", "BASELINE_QUERY", "sqlx");
    let sea_orm = Server::new(
        "hand-written, sea-orm entity API",
        baseline_bin,
        &fresh_workdir("http-baseline")?,
    );
    let mut servers = vec![app, plain, sea_orm];
    // A database of its own per server, dropped when these are dropped.
    let mut databases = Vec::new();
    if options.postgres {
        for server in &mut servers {
            let db = microcore_test_support::TestDb::postgres().await;
            *server = server.with_env(&server.name.clone(), "DATABASE_URL", &db.url);
            databases.push(db);
        }
    }
    let token = fixtures::token()?;
    let routes = routes(&token);

    eprintln!(
        "http: boot times ({} runs each, in turns)…",
        options.boot_runs
    );
    let boots = boot_times(&servers, options.boot_runs).await?;
    for server in &servers {
        fixtures::seed_user(&server.database_url()).await?;
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
        // Rotate who goes first, so no server always meets a warmer machine.
        let order: Vec<usize> = (0..servers.len())
            .map(|i| (i + round) % servers.len())
            .collect();
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
        let backend = if options.postgres {
            "postgres"
        } else {
            "sqlite"
        };
        let out = bench_dir().join(format!("callgrind-{backend}"));
        let _ = std::fs::remove_dir_all(&out);
        // The plain server again, its middleware applied one
        // `Router::layer` at a time (as `tools/http` once did): the
        // same-layer server `/ping` is judged against.
        let separate = servers[PLAIN].with_env(SEPARATE, "BASELINE_LAYERS", "separate");
        let mut counts = Vec::new();
        for server in servers.iter().chain([&separate]) {
            counts.push(
                callgrind::count(server, &routes, 200, options.callgrind_requests, &out).await?,
            );
        }
        let block = render_callgrind(&counts, options, &m, command)?;
        println!("\n{block}");
        Some(block)
    };
    drop(databases);
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
    let Some((app, bases)) = answers.split_first() else {
        return problems;
    };
    for base in bases {
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

/// The columns of both tables after the metric's name.
const COLUMNS: [&str; 6] = [
    "example app",
    "plain hand-written (sqlx)",
    "app / plain",
    "target",
    "hand-written, sea-orm entity API",
    "app / sea-orm",
];

/// One row: the metric, the app, the plain server, their ratio, the
/// target, the sea-orm server and the app's ratio to it.
fn row(metric: String, values: [String; 3], ratios: [String; 2], target: String) -> Vec<String> {
    let [app, plain, sea_orm] = values;
    let [to_plain, to_sea_orm] = ratios;
    vec![metric, app, plain, to_plain, target, sea_orm, to_sea_orm]
}

fn backend_name(options: &Options) -> &'static str {
    if options.postgres {
        "PostgreSQL (a fresh database per server on the local server)"
    } else {
        "SQLite (WAL, a file per server)"
    }
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
    let mut headers = vec!["metric"];
    headers.extend(COLUMNS);
    let mut table = Table::new(&headers);
    let three = |f: &dyn Fn(usize) -> String| [f(APP), f(PLAIN), f(SEA_ORM)];
    let ratios = |f: &dyn Fn(usize) -> f64| [ratio(f(APP), f(PLAIN)), ratio(f(APP), f(SEA_ORM))];
    let boot = |s: usize| median_ms(&boots[s]);
    table.row(row(
        "boot → first response (median)".into(),
        three(&|s| format!("{:.1} ms", boot(s))),
        ratios(&boot),
        String::new(),
    ));
    table.row(row(
        "idle RSS (boot + 100 requests)".into(),
        three(&|s| mib(idle[s] as f64)),
        ratios(&|s| idle[s] as f64),
        format!("≤ 15 MiB: {}", verdict(idle[APP] <= IDLE_RSS_TARGET_KIB)),
    ));
    table.row(row(
        "… of which mapped files (code) / anonymous".into(),
        three(&|s| format!("{} / {}", mib(split[s].1 as f64), mib(split[s].0 as f64))),
        [PLAIN, SEA_ORM].map(|b| {
            format!(
                "{} / {}",
                ratio(split[APP].1 as f64, split[b].1 as f64),
                ratio(split[APP].0 as f64, split[b].0 as f64)
            )
        }),
        String::new(),
    ));
    for (r, (name, _)) in routes.iter().enumerate() {
        let at = |s: usize| &m[s][r];
        table.row(row(
            format!("{name}: throughput"),
            three(&|s| format!("{:.0} req/s", at(s).rps)),
            ratios(&|s| at(s).rps),
            format!(
                "≥ 0.95×: {}",
                verdict(at(APP).rps >= THROUGHPUT_TARGET * at(PLAIN).rps)
            ),
        ));
        table.row(row(
            format!("{name}: server CPU per request (user + sys)"),
            three(&|s| format!("{:.1} µs", at(s).cpu_us)),
            ratios(&|s| at(s).cpu_us),
            String::new(),
        ));
        table.row(row(
            format!("{name}: latency p50 / p99"),
            three(&|s| format!("{:.2} / {:.2} ms", at(s).p50_ms, at(s).p99_ms)),
            [PLAIN, SEA_ORM].map(|b| {
                format!(
                    "{} / {}",
                    ratio(at(APP).p50_ms, at(b).p50_ms),
                    ratio(at(APP).p99_ms, at(b).p99_ms)
                )
            }),
            String::new(),
        ));
        table.row(row(
            format!("{name}: RSS under load (median)"),
            three(&|s| mib(at(s).rss_kib)),
            ratios(&|s| at(s).rss_kib),
            String::new(),
        ));
        table.row(row(
            format!("{name}: errors (all rounds)"),
            three(&|s| at(s).errors.to_string()),
            [String::new(), String::new()],
            String::new(),
        ));
    }
    table.row(row(
        "peak RSS (VmHWM, whole run)".into(),
        three(&|s| mib(peaks[s] as f64)),
        ratios(&|s| peaks[s] as f64),
        String::new(),
    ));
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", provenance(command));
    let _ = writeln!(
        out,
        "Load: {} keep-alive connections, closed loop, {} rounds of {} s per server and route \
         (each after {} s of unmeasured load), servers in rotating order, median of rounds. \
         Boot: median of {} runs each. All servers on {}, default pool of 10, \
         `LOG_LEVEL=info`.\n",
        options.connections,
        options.rounds,
        options.round.as_secs_f64(),
        options.warmup.as_secs_f64(),
        options.boot_runs,
        backend_name(options),
    );
    out.push_str(&table.render());
    if parity.is_empty() {
        out.push_str("\nParity check passed: the three servers gave the same statuses, bodies and transport headers on 6 probes (user, no token, unknown user, bad id, ping, unknown route).\n");
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
    options: &Options,
    load: &[Vec<Medians>],
    command: &str,
) -> Result<String, String> {
    let requests = options.callgrind_requests;
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", provenance(command));
    let mut headers = vec!["route"];
    headers.extend(COLUMNS);
    headers.push("plain, one `Router::layer` per middleware (app / it)");
    headers.push("throughput: app / plain / sea-orm");
    let mut table = Table::new(&headers);
    for (i, a) in counts[APP].iter().enumerate() {
        let (p, o) = (&counts[PLAIN][i], &counts[SEA_ORM][i]);
        let separate = &counts[SEPARATE_COLUMN][i];
        let connection = a.route == callgrind::CONNECTION_ROUTE;
        let target = if connection {
            String::new()
        } else {
            let t = instructions_target(&a.route);
            let against = if t == PING_TARGET { separate } else { p };
            let of = if t == PING_TARGET {
                " of the one-layer-each plain"
            } else {
                ""
            };
            format!(
                "≤ {t:.2}×{of}: {}",
                verdict(a.per_request <= t * against.per_request)
            )
        };
        let mut cells = row(
            a.route.clone(),
            [a, p, o].map(|c| format!("{:.0}", c.per_request)),
            [
                ratio(a.per_request, p.per_request),
                ratio(a.per_request, o.per_request),
            ],
            target,
        );
        cells.push(format!(
            "{:.0} ({})",
            separate.per_request,
            ratio(a.per_request, separate.per_request)
        ));
        cells.push(match load.get(APP).and_then(|l| l.get(i)) {
            Some(_) if !connection => format!(
                "{:.0} / {:.0} / {:.0} req/s",
                load[APP][i].rps, load[PLAIN][i].rps, load[SEA_ORM][i].rps
            ),
            _ => String::new(),
        });
        table.row(cells);
    }
    let _ = writeln!(
        out,
        "Instructions per request (callgrind `Ir`, all threads of the server) on {}: {requests} requests per route in sequence \
         on one warm keep-alive connection, counters zeroed before and dumped after each route. Targets: `/users/{{id}}` \
         ≤ 1.10× the plain server; `/ping` ≤ 0.70× the plain server with its middleware applied one `Router::layer` \
         at a time (`BASELINE_LAYERS=separate`, the same layers as the app). Throughput: the median of the load rounds \
         of the same run (table above).\n",
        backend_name(options)
    );
    out.push_str(&table.render());
    for (a, p) in counts[APP].iter().zip(&counts[PLAIN]) {
        if a.route != callgrind::CONNECTION_ROUTE {
            out.push_str(&where_they_differ(a, p, requests, ("app", "plain"))?);
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
