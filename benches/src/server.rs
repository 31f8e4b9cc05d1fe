//! Starting a server process (the app, the 100-plugin app, the baseline,
//! or any of them under valgrind), timing its boot to the first `/ping`
//! answer, reading its memory, and stopping it with SIGTERM.

use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::client::{Conn, Get};

/// The HS256 key both servers get, so one token works on both.
pub(crate) const SECRET_KEY: &str = "microcore-benchmark-key-0123456789abcdef";

/// How to start one server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// Its name in the tables.
    pub(crate) name: String,
    binary: PathBuf,
    workdir: PathBuf,
    /// A program that runs the binary (valgrind and its options), if any.
    wrapper: Vec<String>,
    /// Extra environment variables.
    env: Vec<(String, String)>,
}

/// A started server.
#[derive(Debug)]
pub(crate) struct Running {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its process id (valgrind's, which is the same process).
    pub(crate) pid: u32,
    /// From spawn to the first `200` on `/ping`.
    pub(crate) boot: Duration,
}

impl Server {
    /// A server run from `binary` in `workdir`, its SQLite file in `workdir`.
    pub(crate) fn new(name: &str, binary: &Path, workdir: &Path) -> Self {
        Self {
            name: name.to_string(),
            binary: binary.to_path_buf(),
            workdir: workdir.to_path_buf(),
            wrapper: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The same server, named `name`, with `key=value` in its environment.
    pub(crate) fn with_env(&self, name: &str, key: &str, value: &str) -> Self {
        let mut env = self.env.clone();
        env.push((key.to_string(), value.to_string()));
        Self {
            name: name.to_string(),
            env,
            ..self.clone()
        }
    }

    /// The same server started by `wrapper` (e.g. valgrind).
    pub(crate) fn wrapped(&self, wrapper: Vec<String>) -> Self {
        Self {
            wrapper,
            ..self.clone()
        }
    }

    /// Its SQLite file.
    pub(crate) fn database(&self) -> PathBuf {
        self.workdir.join("server.db")
    }

    /// Its `DATABASE_URL`: the SQLite file, unless its environment names
    /// another database.
    pub(crate) fn database_url(&self) -> String {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == "DATABASE_URL")
            .map_or_else(
                || format!("sqlite://{}", self.database().display()),
                |(_, v)| v.clone(),
            )
    }

    /// Starts it on a free port and waits (at most `timeout`) for `/ping`.
    pub(crate) async fn start(&self, timeout: Duration) -> Result<Running, String> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = self.workdir.join("server.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&self.binary);
                c
            }
            None => Command::new(&self.binary),
        };
        command
            .current_dir(&self.workdir)
            .env("HTTP_HOST", "127.0.0.1")
            .env("HTTP_PORT", port.to_string())
            .env("DATABASE_URL", self.database_url())
            .env("AUTH_SECRET_KEY", SECRET_KEY)
            .env("LOG_LEVEL", "info")
            .env_remove("RUST_LOG")
            .env_remove("LOG_FORMAT")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let pid = child.id().unwrap_or_default();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "{} exited during boot ({status}); its log:\n{}",
                    self.name,
                    tail(&log_path)
                ));
            }
            if started.elapsed() > timeout {
                let _ = child.kill().await;
                return Err(format!(
                    "{} did not answer /ping within {timeout:?}; its log:\n{}",
                    self.name,
                    tail(&log_path)
                ));
            }
            if let Ok(mut conn) = Conn::open(addr).await
                && let Ok(answer) = conn.send(&Get::public("/ping")).await
                && answer.status == 200
            {
                return Ok(Running {
                    child,
                    addr,
                    pid,
                    boot: started.elapsed(),
                });
            }
            // tokio's timers tick in milliseconds: too coarse for a boot
            // measured in milliseconds, and nothing else runs meanwhile.
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

impl Running {
    /// Resident memory now, in KiB (`VmRSS`).
    pub(crate) fn rss_kib(&self) -> u64 {
        rss_kib(self.pid)
    }

    /// Resident memory now as (anonymous, file-backed) KiB: heap and
    /// stacks against the pages of the binary and libraries.
    pub(crate) fn rss_split_kib(&self) -> (u64, u64) {
        (
            status_field(self.pid, "RssAnon:"),
            status_field(self.pid, "RssFile:"),
        )
    }

    /// The highest resident memory so far, in KiB (`VmHWM`).
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        status_field(self.pid, "VmHWM:")
    }

    /// SIGTERM, then waits up to `grace` for a clean exit (SIGKILL after).
    pub(crate) async fn stop(mut self, grace: Duration) -> Result<(), String> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("exited with {status} after SIGTERM")),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(format!("still running {grace:?} after SIGTERM: killed"))
            }
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// CPU time process `pid` has used so far (user + system, all its
/// threads), in µs; 0 if it cannot be read.
pub(crate) fn cpu_us(pid: u32) -> u64 {
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in ticks of
    // USER_HZ (100 on Linux, fixed by its ABI); the command name, field 2,
    // is in parentheses and may hold spaces, so count after its ')'.
    const US_PER_TICK: u64 = 1_000_000 / 100;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return 0;
    };
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    ticks * US_PER_TICK
}

/// Resident memory of process `pid` now, in KiB (`VmRSS`).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The last lines of a server's log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_memory() {
        let pid = std::process::id();
        assert!(status_field(pid, "VmRSS:") > 0);
        assert!(status_field(pid, "VmHWM:") >= status_field(pid, "VmRSS:") / 2);
        assert_eq!(status_field(pid, "NoSuchField:"), 0);
    }

    #[test]
    fn counts_this_process_cpu_time() {
        let pid = std::process::id();
        let before = cpu_us(pid);
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(
            cpu_us(pid) > before,
            "100 ms of spinning counted no CPU time"
        );
        assert_eq!(cpu_us(u32::MAX), 0);
    }
}
