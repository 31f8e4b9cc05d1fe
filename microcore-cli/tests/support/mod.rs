//! What the CLI's tests share: running `microcore`, a generated project
//! at a stable path with cargo pointed at one shared target dir (so a
//! rerun rebuilds only what changed), and the generated app as a process.
//!
//! These tests run cargo themselves. Under nextest no outer cargo holds
//! the target-dir lock while tests run, so they share the warm target dir
//! (`$CARGO_TARGET_DIR`); under plain `cargo test` they use a sibling
//! `<target>.nested`, which the outer cargo does not lock.

#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "../../../tests/support/markdown.rs"]
pub mod markdown;
#[path = "../../../tests/support/scrub.rs"]
mod scrub;
pub use scrub::scrubbed;

/// The microcore checkout this crate is part of.
pub fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The target dir for cargo runs of generated projects.
pub fn target_dir() -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| checkout().join("target"));
    if std::env::var_os("NEXTEST").is_some() {
        outer
    } else {
        outer.with_extension("nested")
    }
}

/// `microcore <args>` in `dir`.
pub fn microcore(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microcore"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Asserts success and returns stdout.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A project made by `microcore new`, at a stable path under the target
/// dir, held under a file lock (two runs of one test on this machine take
/// turns instead of rewriting each other's project).
pub struct Project {
    pub dir: PathBuf,
    /// The app package's name, which is also its binary's.
    pub name: String,
    _lock: File,
}

impl Project {
    /// Deletes what a previous run left and runs `microcore new` again.
    pub fn fresh(name: &str) -> Self {
        let base = target_dir().join("microcore-cli-tests");
        std::fs::create_dir_all(&base).unwrap();
        let lock = File::create(base.join(format!("{name}.lock"))).unwrap();
        lock.lock().unwrap();
        let dir = base.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        ok(microcore(
            &base,
            &[
                "new",
                name,
                "--microcore-path",
                checkout().to_str().unwrap(),
            ],
        ));
        Self {
            dir,
            name: name.to_string(),
            _lock: lock,
        }
    }

    /// `microcore <args>` in the project.
    pub fn microcore(&self, args: &[&str]) -> Output {
        microcore(&self.dir, args)
    }

    /// `cargo <args>` in the project, on the shared target dir, offline
    /// (the lock file is the checkout's, so everything is in the cache).
    pub fn cargo(&self, args: &[&str]) -> Output {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let started = Instant::now();
        let out = scrubbed(Command::new(cargo))
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .unwrap();
        eprintln!(
            "cargo {} in {}: {:.1}s",
            args.join(" "),
            self.name,
            started.elapsed().as_secs_f64()
        );
        out
    }

    /// The debug binary of the app.
    pub fn binary(&self) -> PathBuf {
        target_dir().join("debug").join(&self.name)
    }

    /// Starts the built app on a free port, in memory, and waits until
    /// `/ping` answers.
    pub async fn start(&self) -> App {
        let port = free_port();
        let child = Command::new(self.binary())
            .current_dir(&self.dir)
            .env("HTTP_PORT", port.to_string())
            .env("DATABASE_URL", "sqlite::memory:")
            .env_remove("LISTEN_FDS")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let app = App {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/ping", app.base)).await
                && r.status().is_success()
            {
                return app;
            }
            assert!(Instant::now() < deadline, "the app did not answer /ping");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running app, stopped (SIGTERM) when dropped.
pub struct App {
    child: Child,
    pub base: String,
}

impl Drop for App {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// SIGTERM, then SIGKILL if it has not exited within 30 s.
pub fn stop(child: &mut Child) {
    // Once reaped, its pid may belong to another process.
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// GET `url`: status and JSON body.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}
