//! Boot time: process start to the first successful `GET /ping` answer,
//! for the 100-plugin app, the example app and the baseline, in release.
//!
//! The servers take turns (one run of each, then again), so a change in
//! the machine's load touches all of them alike; the first round is a
//! warm-up (page cache, migrations on a new database) and is discarded.
//! Each server keeps its database between runs: a restart, as in
//! production, not a first install.

use std::time::Duration;

use crate::paths::fresh_workdir;
use crate::project;
use crate::report::{Table, provenance, verdict};
use crate::server::Server;
use crate::stats::{median_ms, ms};

/// The target of issue 3: the 100-plugin app boots in at most 50 ms.
const TARGET_MS: f64 = 50.0;

/// Boot times of `servers`, `runs` each after one warm-up run, in turns.
pub(crate) async fn boot_times(
    servers: &[Server],
    runs: usize,
) -> Result<Vec<Vec<Duration>>, String> {
    let mut times = vec![Vec::with_capacity(runs); servers.len()];
    for run in 0..=runs {
        for (i, server) in servers.iter().enumerate() {
            let running = server.start(Duration::from_secs(60)).await?;
            if run > 0 {
                times[i].push(running.boot);
            }
            // The app listens for SIGTERM only once its boot has returned,
            // a moment after it starts answering: give it that moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Err(e) = running.stop(Duration::from_secs(10)).await {
                eprintln!("  warning: {} did not stop cleanly: {e}", server.name);
            }
        }
    }
    Ok(times)
}

/// Runs the boot benchmark and returns its block for `docs/benchmarks.md`.
pub(crate) async fn run(
    app: &std::path::Path,
    baseline: &std::path::Path,
    runs: usize,
    command: &str,
) -> Result<String, String> {
    let app100 = project::build()?;
    let wiring = project::wiring(&app100);
    let servers = [
        Server::new(
            "app, 100 extra plugins",
            &app100,
            &fresh_workdir("boot-app100")?,
        ),
        Server::new("example app", app, &fresh_workdir("boot-app")?),
        Server::new(
            "hand-written baseline",
            baseline,
            &fresh_workdir("boot-baseline")?,
        ),
    ];
    check_generated_routes(&servers[0]).await?;
    eprintln!("boot: {runs} runs of each server, in turns…");
    let times = boot_times(&servers, runs).await?;
    let mut table = Table::new(&["server", "median", "min", "max", "target"]);
    for (server, t) in servers.iter().zip(&times) {
        let median = median_ms(t);
        let target = if server.name.starts_with("app, 100") {
            format!("≤ {TARGET_MS} ms: {}", verdict(median <= TARGET_MS))
        } else {
            String::new()
        };
        table.row(vec![
            server.name.clone(),
            format!("{median:.1} ms"),
            format!(
                "{:.1} ms",
                t.iter().copied().map(ms).fold(f64::INFINITY, f64::min)
            ),
            format!("{:.1} ms", t.iter().copied().map(ms).fold(0.0, f64::max)),
            target,
        ]);
    }
    let rendered = table.render();
    println!("\nBoot: process start → first 200 on GET /ping ({runs} runs each)\n{rendered}");
    Ok(format!(
        "{}\n\nProcess start → first `200` on `GET /ping`, release build, median of {runs} runs each \
         (after one discarded warm-up run), servers in turns. The 100-plugin app's `check`: `{wiring}`.\n\n{rendered}",
        provenance(command)
    ))
}

/// The generated routes answer: proof the 100 plugins were discovered.
async fn check_generated_routes(server: &Server) -> Result<(), String> {
    let running = server.start(Duration::from_secs(60)).await?;
    let gets: Vec<crate::client::Get> = (0..project::PLUGINS)
        .map(|i| crate::client::Get::public(&format!("/bench/{i:03}")))
        .collect();
    let checked = crate::load::sequential(running.addr, &gets, gets.len()).await;
    let _ = running.stop(Duration::from_secs(10)).await;
    checked.map_err(|e| format!("the 100-plugin app does not serve its generated routes: {e}"))
}
