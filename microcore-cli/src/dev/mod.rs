//! `microcore dev`: the edit → served loop. It binds the app's listening
//! socket itself and keeps it open for its whole run; on every batch of
//! changes it runs an incremental `cargo build`, and only when that
//! succeeds stops the running app (SIGTERM: it drains) and starts the new
//! binary on the same socket. Clients never see a refused connection: a
//! connection made during the swap waits in the kernel's backlog until the
//! new app accepts it. A failed build changes nothing: the previous build
//! keeps serving.

pub(crate) mod cargo;
mod process;
mod socket;
mod watch;

use std::future::pending;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::signal::unix::{SignalKind, signal};

use crate::failure::Failure;
use process::AppProcess;

/// Runs the loop in the project around the current directory until
/// SIGINT or SIGTERM.
pub(crate) fn run() -> Result<(), Failure> {
    let root = crate::files::project_root(&crate::files::current_dir()?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_in(&root))
}

/// Prints a line of the loop's own, told apart from cargo's and the app's.
macro_rules! say {
    ($($arg:tt)*) => { eprintln!("[dev] {}", format!($($arg)*)) };
}

async fn run_in(root: &Path) -> Result<(), Failure> {
    let listener = socket::bind(root)?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::failed(format!("the listening socket has no address: {e}")))?;
    let mut binary = cargo::app_binary(root).await?;
    let mut changes = watch::Changes::start(root)?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Failure::failed(format!("cannot handle SIGINT: {e}")))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Failure::failed(format!("cannot handle SIGTERM: {e}")))?;
    say!(
        "serving http://{addr} from {} (the socket stays open across rebuilds)",
        root.display()
    );
    say!("watching domains/, tools/, src/, Cargo.toml, .env; Ctrl-C stops");

    let mut app: Option<AppProcess> = None;
    let mut changed: Option<Vec<PathBuf>> = None;
    let mut build_now = true;
    loop {
        if build_now {
            if let Some(paths) = changed.take() {
                say!("changed: {}", shown(root, &paths));
                if paths.iter().any(|p| p == Path::new("Cargo.toml")) {
                    binary = cargo::app_binary(root).await?;
                }
            }
            let started = Instant::now();
            say!("building {} ...", binary.name);
            let built = tokio::select! {
                built = cargo::build(root, &binary) => built?,
                _ = interrupt.recv() => break,
                _ = terminate.recv() => break,
            };
            if built {
                let build_time = started.elapsed();
                let restart = app.is_some();
                if let Some(old) = app.take() {
                    old.stop().await;
                }
                let new = AppProcess::start(&binary.path, root, &listener)?;
                say!(
                    "built in {:.1}s; app {} (pid {})",
                    build_time.as_secs_f64(),
                    if restart { "restarted" } else { "started" },
                    new.id().unwrap_or_default()
                );
                app = Some(new);
            } else if app.is_some() {
                say!("BUILD FAILED (errors above): the previous build keeps serving http://{addr}");
            } else {
                say!("BUILD FAILED (errors above): nothing serves yet; fix it and save");
            }
        }
        tokio::select! {
            batch = changes.next() => {
                changed = Some(batch?);
                build_now = true;
            }
            status = exited(&mut app) => {
                app = None;
                build_now = false;
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                say!("the app exited ({status}); waiting for a change to rebuild it");
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    if let Some(app) = app {
        say!("stopping the app");
        app.stop().await;
    }
    Ok(())
}

/// Resolves when the app exits by itself; never, when none runs.
async fn exited(app: &mut Option<AppProcess>) -> std::io::Result<std::process::ExitStatus> {
    match app {
        Some(app) => app.exited().await,
        None => pending().await,
    }
}

/// `a.rs, b.rs (+3 more)`, without the temporary files editors write and
/// rename away in the same instant (`sed -i`'s `sedXXXXXX`).
fn shown(root: &Path, paths: &[PathBuf]) -> String {
    const SHOWN: usize = 3;
    let real: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| p.extension().is_some() || root.join(p).exists())
        .collect();
    let paths: Vec<&PathBuf> = if real.is_empty() {
        paths.iter().collect()
    } else {
        real
    };
    let mut out: Vec<String> = paths
        .iter()
        .take(SHOWN)
        .map(|p| p.display().to_string())
        .collect();
    if paths.len() > SHOWN {
        out.push(format!("(+{} more)", paths.len() - SHOWN));
    }
    out.join(", ")
}
