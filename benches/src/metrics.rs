//! What the registry's metrics cost a request (issue 7, target ≤ 3 % on
//! `/ping`): the same example app binary with `REGISTRY_METRICS=true` and
//! `false`, counted by callgrind the way `http` counts the app against the
//! baseline, then throughput in alternating rounds.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::callgrind;
use crate::client::Get;
use crate::fixtures;
use crate::http::{routes, where_they_differ};
use crate::load;
use crate::paths::{bench_dir, fresh_workdir};
use crate::report::{Table, provenance, ratio, verdict};
use crate::server::Server;
use crate::stats::median;

/// Issue 7: metrics may add at most 3 % to a `/ping`.
const COST_TARGET: f64 = 1.03;

/// The knobs of the comparison.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Requests per route counted under callgrind (0 skips callgrind).
    pub(crate) callgrind_requests: usize,
    /// Load rounds per setting (0 skips throughput).
    pub(crate) rounds: usize,
    /// Length of one measured round.
    pub(crate) round: Duration,
    /// Unmeasured load before each round.
    pub(crate) warmup: Duration,
    /// Concurrent connections of the load generator.
    pub(crate) connections: usize,
}

/// Runs the comparison; returns the `metrics` block.
pub(crate) async fn run(
    app_bin: &Path,
    options: &Options,
    command: &str,
) -> Result<String, String> {
    let app = Server::new("example app", app_bin, &fresh_workdir("metrics-app")?);
    let servers = [
        app.with_env("metrics on", "REGISTRY_METRICS", "true"),
        app.with_env("metrics off", "REGISTRY_METRICS", "false"),
    ];
    // The first boot creates the tables the seeded user goes in.
    let first = app.start(Duration::from_secs(60)).await?;
    if let Err(e) = first.stop(Duration::from_secs(10)).await {
        eprintln!("  {} did not stop cleanly: {e}", app.name);
    }
    fixtures::seed_user(&app.database_url()).await?;
    let token = fixtures::token()?;
    let routes = routes(&token);

    let mut counts = Vec::new();
    if options.callgrind_requests > 0 {
        eprintln!(
            "metrics: {} requests per route under callgrind, metrics on then off…",
            options.callgrind_requests
        );
        let out = bench_dir().join("callgrind-metrics");
        let _ = std::fs::remove_dir_all(&out);
        for server in &servers {
            let mut c =
                callgrind::count(server, &routes, 200, options.callgrind_requests, &out).await?;
            c.retain(|c| c.route != callgrind::CONNECTION_ROUTE);
            counts.push(c);
        }
    }
    let rps = throughput(&servers, &routes[0].1, options).await?;

    let block = render(&counts, &rps, options, command)?;
    println!("\n{block}");
    Ok(block)
}

/// Requests per second of `get` on each server: rounds alternating which
/// goes first, median of rounds.
async fn throughput(servers: &[Server], get: &Get, options: &Options) -> Result<Vec<f64>, String> {
    if options.rounds == 0 {
        return Ok(Vec::new());
    }
    let mut running = Vec::new();
    for server in servers {
        running.push(server.start(Duration::from_secs(60)).await?);
    }
    let mut rounds = vec![Vec::new(); servers.len()];
    for round in 0..options.rounds {
        let order: Vec<usize> = if round.is_multiple_of(2) {
            (0..servers.len()).collect()
        } else {
            (0..servers.len()).rev().collect()
        };
        for s in order {
            let gets = std::slice::from_ref(get);
            load::run(running[s].addr, gets, options.connections, options.warmup).await;
            let report = load::run(running[s].addr, gets, options.connections, options.round).await;
            eprintln!(
                "  round {}/{} {} {}: {:.0} req/s, {} errors",
                round + 1,
                options.rounds,
                get.path,
                servers[s].name,
                report.rps(),
                report.errors
            );
            rounds[s].push(report.rps());
        }
    }
    for (server, r) in servers.iter().zip(running) {
        if let Err(e) = r.stop(Duration::from_secs(10)).await {
            eprintln!("  {} did not stop cleanly: {e}", server.name);
        }
    }
    Ok(rounds.iter().map(|r| median(r)).collect())
}

fn render(
    counts: &[Vec<callgrind::Count>],
    rps: &[f64],
    options: &Options,
    command: &str,
) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", provenance(command));
    let _ = writeln!(
        out,
        "One binary, `REGISTRY_METRICS=true` (per-route counters and histograms, tool-call records) \
         against `false` (neither). Instructions per request (callgrind `Ir`, all threads): {} requests \
         per route in sequence on one warm keep-alive connection, as in the table above. Throughput: \
         `/ping`, {} keep-alive connections, {} rounds of {} s per setting, alternating, median.\n",
        options.callgrind_requests,
        options.connections,
        options.rounds,
        options.round.as_secs_f64()
    );
    let mut table = Table::new(&["measure", "metrics on", "metrics off", "on / off", "target"]);
    if let [on, off] = counts {
        for (a, b) in on.iter().zip(off) {
            let target = if a.route == "GET /ping" {
                format!(
                    "≤ 1.03×: {}",
                    verdict(a.per_request <= COST_TARGET * b.per_request)
                )
            } else {
                String::new()
            };
            table.row(vec![
                format!("{}: instructions / request", a.route),
                format!("{:.0}", a.per_request),
                format!("{:.0}", b.per_request),
                format!(
                    "{} ({:+.1} %, {:+.0})",
                    ratio(a.per_request, b.per_request),
                    (a.per_request / b.per_request - 1.0) * 100.0,
                    a.per_request - b.per_request
                ),
                target,
            ]);
        }
    }
    if let [on, off] = rps {
        table.row(vec![
            "GET /ping: throughput".into(),
            format!("{on:.0} req/s"),
            format!("{off:.0} req/s"),
            format!("{} ({:+.1} %)", ratio(*on, *off), (on / off - 1.0) * 100.0),
            String::new(),
        ]);
    }
    out.push_str(&table.render());
    if let [on, off] = counts {
        for (a, b) in on.iter().zip(off) {
            out.push_str(&where_they_differ(
                a,
                b,
                options.callgrind_requests,
                ("on", "off"),
            )?);
        }
    }
    Ok(out)
}
