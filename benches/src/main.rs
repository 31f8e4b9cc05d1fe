//! `microcore-bench`: the benchmarks of microcore, run on demand (never by
//! the test command). `scripts/bench [all|boot|http|bus|soak]` builds the
//! release binaries and runs this; each sub-command prints its tables and
//! rewrites its own blocks of `docs/benchmarks.md`.
//!
//! - `boot`: process start → first `/ping` answer of an app with 100 extra
//!   plugins (issue 3), of the example app and of the baseline.
//! - `http`: the example app against `bench-baseline`, a hand-written
//!   axum + sea-orm server with the same transport features (issue 8):
//!   instructions per request (callgrind), throughput and latency, memory.
//! - `metrics`: the example app with `REGISTRY_METRICS=true` against
//!   `false`: what the registry's metrics cost a request (issue 7).
//! - `soak`: the example app for 60 s under saturating load.
//! - `bus`: the event bus against raw tokio channels, and on SQLite, Redis
//!   Streams and NATS JetStream (issues 5 and 6).
//! - `revocation`: instructions of the revocation check, alone and against
//!   a whole authenticated request (issue 19).
//! - `faults`: the soak with faults (issue 19): mixed traffic with NATS,
//!   Redis and PostgreSQL behind proxies cut in turn; events lost. Run by
//!   `scripts/soak`, which fails when an event is lost.
//! - `auth`: 200 clients registering and logging in for 30 s while a probe
//!   times `/ping` (issue 19): the bound on password hashing.
//! - `all`: every one of them, in that order.

mod auth_load;
mod boot;
mod bus;
mod callgrind;
mod client;
mod faults;
mod fixtures;
mod http;
mod load;
mod metrics;
mod paths;
mod project;
mod report;
mod revocation;
mod server;
mod soak;
mod stats;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmarks of microcore (run through `scripts/bench`, which builds the
/// release binaries first).
#[derive(Debug, Parser)]
#[command(name = "microcore-bench")]
struct Cli {
    #[command(subcommand)]
    command: Which,
    /// Boot runs per server (median reported).
    #[arg(long, default_value_t = 20, global = true)]
    boot_runs: usize,
    /// Load rounds per server and route (median reported).
    #[arg(long, default_value_t = 5, global = true)]
    rounds: usize,
    /// Seconds per measured load round.
    #[arg(long, default_value_t = 10.0, global = true)]
    round_secs: f64,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32, global = true)]
    connections: usize,
    /// Requests per route counted under callgrind (0: skip callgrind).
    #[arg(long, default_value_t = 2000, global = true)]
    callgrind_requests: usize,
    /// The database of the `http` comparison: `sqlite` (a file per server)
    /// or `postgres` (a fresh database per server on 127.0.0.1:5432,
    /// dropped afterwards); its blocks are `http`/`callgrind` or
    /// `http-postgres`/`callgrind-postgres`.
    #[arg(long, default_value = "sqlite", value_parser = ["sqlite", "postgres"], global = true)]
    http_backend: String,
    /// Seconds of the soak.
    #[arg(long, default_value_t = 60, global = true)]
    soak_secs: u64,
    /// Events per in-process bus burst (throughput).
    #[arg(long, default_value_t = 100_000, global = true)]
    bus_events: u64,
    /// Events timed one at a time per in-process bus round (latency).
    #[arg(long, default_value_t = 10_000, global = true)]
    bus_latency_events: u64,
    /// Events per SQLite bus burst (0: skip the SQLite driver).
    #[arg(long, default_value_t = 5_000, global = true)]
    bus_sqlite_events: u64,
    /// Events per Redis Streams and per NATS JetStream bus burst (0: skip
    /// both brokers).
    #[arg(long, default_value_t = 5_000, global = true)]
    bus_broker_events: u64,
    /// The Redis server of the Redis Streams driver (each round uses a
    /// prefix of its own and deletes its keys).
    #[arg(long, default_value = "redis://127.0.0.1:6379", global = true)]
    bus_redis_url: String,
    /// The NATS server (JetStream enabled) of the NATS driver (each round
    /// uses streams of its own and deletes them).
    #[arg(long, default_value = "nats://127.0.0.1:4222", global = true)]
    bus_nats_url: String,
    /// Run only this bus path (`memory`, `raw`, `raw-bytes`, `sqlite`,
    /// `redis`, `nats`), one round, e.g. to profile it under callgrind.
    #[arg(long, global = true)]
    bus_only: Option<String>,
    /// Concurrent attackers of the `auth` benchmark.
    #[arg(long, default_value_t = 200, global = true)]
    auth_clients: usize,
    /// Seconds of the `auth` benchmark.
    #[arg(long, default_value_t = 30, global = true)]
    auth_secs: u64,
    /// `DATABASE_URL` of the app in the `auth` benchmark (default: a SQLite
    /// file of its own).
    #[arg(long, global = true)]
    auth_database_url: Option<String>,
    /// Seconds of mixed traffic in the `faults` soak.
    #[arg(long, default_value_t = 600, global = true)]
    faults_secs: u64,
    /// Concurrent users of the `faults` soak.
    #[arg(long, default_value_t = 4, global = true)]
    faults_users: usize,
    /// Checks the hidden `revocation-probe` runs.
    #[arg(long, default_value_t = 0, global = true, hide = true)]
    probe_calls: u64,
    /// Revoked tokens (and as many users) in the hidden probe's table.
    #[arg(long, default_value_t = 0, global = true, hide = true)]
    probe_revoked: u64,
    /// Print the tables without touching docs/benchmarks.md.
    #[arg(long, global = true)]
    no_doc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
enum Which {
    /// Everything below, in order.
    All,
    /// Boot time of the 100-plugin app, the example app and the baseline.
    Boot,
    /// The example app against the hand-written axum baseline.
    Http,
    /// The example app with the registry's metrics on against off.
    Metrics,
    /// The example app under saturating load for a minute.
    Soak,
    /// The event bus against raw tokio channels, and on SQLite, Redis and NATS.
    Bus,
    /// Registrations and logins in parallel against `/ping` latency and memory.
    Auth,
    /// Instructions of the revocation check, alone and in a request.
    Revocation,
    /// The soak with faults: events lost while NATS, Redis and PostgreSQL
    /// are cut in turn (`scripts/soak`; not part of `all`).
    Faults,
    /// The loop `revocation` counts under valgrind (run by it, not by hand).
    #[command(hide = true)]
    RevocationProbe,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The bus drivers to measure, those given 0 events left out.
fn bus_drivers(cli: &Cli) -> Vec<bus::Target> {
    [
        (bus::Driver::Sqlite, "", cli.bus_sqlite_events),
        (
            bus::Driver::Redis,
            cli.bus_redis_url.as_str(),
            cli.bus_broker_events,
        ),
        (
            bus::Driver::Nats,
            cli.bus_nats_url.as_str(),
            cli.bus_broker_events,
        ),
    ]
    .into_iter()
    .filter(|&(_, _, burst)| burst > 0)
    .map(|(driver, url, burst)| bus::Target {
        driver,
        url: url.to_string(),
        burst,
        // Enough for a p99 of ten samples, a few seconds at most.
        latency_events: burst.min(1_000),
    })
    .collect()
}

/// The soak with faults, written to docs/reliability.md; an error when an
/// event was lost, so CI fails.
fn faults(cli: &Cli) -> Result<(), String> {
    let command = format!("scripts/soak --duration {}", cli.faults_secs);
    let options = faults::Options {
        duration: Duration::from_secs(cli.faults_secs),
        workers: cli.faults_users,
    };
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| format!("cannot start a runtime: {e}"))?;
    let outcome = runtime.block_on(faults::run(&options, &command))?;
    if !cli.no_doc {
        report::update_block_in(&report::reliability_path(), "faults", &outcome.block)?;
        eprintln!(
            "results written to {}",
            report::reliability_path().display()
        );
    }
    match outcome.lost {
        0 => Ok(()),
        n => Err(format!("{n} events lost")),
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    if cli.command == Which::RevocationProbe {
        return revocation::probe(cli.probe_calls, cli.probe_revoked);
    }
    if cli.command == Which::Faults {
        return faults(cli);
    }
    let command = format!(
        "scripts/bench {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    let command = command.trim_end().to_string();
    let publish = |name: &str, block: &str| -> Result<(), String> {
        if cli.no_doc || block.is_empty() {
            return Ok(());
        }
        report::update_block(name, block)?;
        report::update_block("machine", &report::machine())
    };
    let wants = |w: Which| cli.command == w || cli.command == Which::All;
    // Binaries are copied out of the target dir first: the 100-plugin
    // build reuses the name `microcore-app`.
    let (app, baseline) = if wants(Which::Boot)
        || wants(Which::Http)
        || wants(Which::Metrics)
        || wants(Which::Soak)
        || wants(Which::Auth)
        || wants(Which::Revocation)
    {
        (
            Some(paths::snapshot_binary("microcore-app", "microcore-app")?),
            Some(paths::snapshot_binary("bench-baseline", "bench-baseline")?),
        )
    } else {
        (None, None)
    };
    let (app, baseline) = (app.as_deref(), baseline.as_deref());
    let single = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))
    };
    if let (true, Some(app), Some(baseline)) = (wants(Which::Boot), app, baseline) {
        let block = single()?.block_on(boot::run(app, baseline, cli.boot_runs, &command))?;
        publish("boot", &block)?;
    }
    if let (true, Some(app), Some(baseline)) = (wants(Which::Http), app, baseline) {
        let options = http::Options {
            boot_runs: cli.boot_runs,
            rounds: cli.rounds,
            round: Duration::from_secs_f64(cli.round_secs),
            warmup: Duration::from_secs(1),
            connections: cli.connections,
            callgrind_requests: cli.callgrind_requests,
            postgres: cli.http_backend == "postgres",
        };
        let (http_block, callgrind_block) =
            single()?.block_on(http::run(app, baseline, &options, &command))?;
        let suffix = if options.postgres { "-postgres" } else { "" };
        publish(&format!("http{suffix}"), &http_block)?;
        publish(&format!("callgrind{suffix}"), &callgrind_block)?;
    }
    if let (true, Some(app)) = (wants(Which::Metrics), app) {
        let options = metrics::Options {
            callgrind_requests: cli.callgrind_requests,
            rounds: cli.rounds,
            round: Duration::from_secs_f64(cli.round_secs),
            warmup: Duration::from_secs(1),
            connections: cli.connections,
        };
        let block = single()?.block_on(metrics::run(app, &options, &command))?;
        publish("metrics", &block)?;
    }
    if let (true, Some(app)) = (wants(Which::Soak), app) {
        let block = single()?.block_on(soak::run(
            app,
            Duration::from_secs(cli.soak_secs),
            cli.connections,
            &command,
        ))?;
        publish("soak", &block)?;
    }
    if let (true, Some(app)) = (wants(Which::Auth), app) {
        let options = auth_load::Options {
            clients: cli.auth_clients,
            duration: Duration::from_secs(cli.auth_secs),
            database_url: cli.auth_database_url.clone(),
        };
        let block = single()?.block_on(auth_load::run(app, &options, &command))?;
        publish("auth", &block)?;
    }
    if let (true, Some(app)) = (wants(Which::Revocation), app) {
        let block = single()?.block_on(revocation::run(
            app,
            cli.callgrind_requests.max(1),
            &command,
        ))?;
        publish("revocation", &block)?;
    }
    if wants(Which::Bus) {
        let options = bus::Options {
            rounds: cli.rounds,
            burst: cli.bus_events,
            latency_events: cli.bus_latency_events,
            drivers: bus_drivers(cli),
            only: cli.bus_only.clone(),
        };
        let runtime =
            tokio::runtime::Runtime::new().map_err(|e| format!("cannot start a runtime: {e}"))?;
        let block = runtime.block_on(bus::run(&options, &command))?;
        publish("bus", &block)?;
    }
    if !cli.no_doc {
        eprintln!("results written to {}", report::doc_path().display());
    }
    Ok(())
}
