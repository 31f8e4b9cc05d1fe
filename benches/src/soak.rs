//! The soak: the example app under saturating load (closed loop, the
//! same connections as the comparison, half on `/ping` and half on
//! `/users/{id}`) for a minute, counting errors and watching memory: RSS
//! at 10 s against RSS at the end shows whether anything grows per request.

use std::time::{Duration, Instant};

use crate::fixtures;
use crate::http::routes;
use crate::load;
use crate::paths::fresh_workdir;
use crate::report::{Table, provenance, ratio, verdict};
use crate::server::{Server, rss_kib};

/// Target of issue 8: RSS at the end at most 1.2× RSS at 10 s.
const GROWTH_TARGET: f64 = 1.2;

/// Runs the soak for `duration` on `connections`; returns its block.
pub(crate) async fn run(
    app_bin: &std::path::Path,
    duration: Duration,
    connections: usize,
    command: &str,
) -> Result<String, String> {
    let app = Server::new("example app", app_bin, &fresh_workdir("soak-app")?);
    let token = fixtures::token()?;
    let running = app.start(Duration::from_secs(60)).await?;
    fixtures::seed_user(&app.database_url()).await?;
    let gets: Vec<_> = routes(&token).into_iter().map(|(_, g)| g).collect();
    load::sequential(running.addr, &gets, 100).await?;
    eprintln!(
        "soak: {} s on {connections} connections…",
        duration.as_secs()
    );
    let pid = running.pid;
    let sampler = tokio::spawn(async move {
        let started = Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < duration {
            tokio::time::sleep(Duration::from_secs(1)).await;
            samples.push((started.elapsed(), rss_kib(pid)));
        }
        samples
    });
    let report = load::run(running.addr, &gets, connections, duration).await;
    let samples = sampler.await.unwrap_or_default();
    let _ = running.stop(Duration::from_secs(10)).await;
    let at_10s = samples
        .iter()
        .find(|(t, _)| *t >= Duration::from_secs(10))
        .map_or(0, |s| s.1);
    let at_end = samples.last().map_or(0, |s| s.1);
    let growth = at_end as f64 / at_10s.max(1) as f64;
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let mut table = Table::new(&["metric", "example app", "target"]);
    table.row(vec![
        "requests (200)".into(),
        report.ok.to_string(),
        String::new(),
    ]);
    table.row(vec![
        "errors".into(),
        report.errors.to_string(),
        format!("0: {}", verdict(report.errors == 0)),
    ]);
    table.row(vec![
        "throughput".into(),
        format!("{:.0} req/s", report.rps()),
        String::new(),
    ]);
    table.row(vec![
        "latency p50 / p99".into(),
        format!(
            "{:.2} / {:.2} ms",
            report.latency_ms(50.0),
            report.latency_ms(99.0)
        ),
        String::new(),
    ]);
    table.row(vec!["RSS at 10 s".into(), mib(at_10s), String::new()]);
    table.row(vec!["RSS at the end".into(), mib(at_end), String::new()]);
    table.row(vec![
        "end / 10 s".into(),
        ratio(at_end as f64, at_10s as f64),
        format!("≤ 1.2×: {}", verdict(growth <= GROWTH_TARGET)),
    ]);
    let rendered = table.render();
    println!("\nSoak ({} s)\n{rendered}", duration.as_secs());
    Ok(format!(
        "{}\n\nThe example app for {} s under saturating load: {connections} keep-alive connections in a closed loop, \
         half on `GET /ping`, half on `GET /users/{{id}}`; RSS sampled every second.\n\n{rendered}",
        provenance(command),
        duration.as_secs()
    ))
}
