//! One run of the app under `dev`: started with the shared socket as fd 3
//! (`LISTEN_FDS=1`, the systemfd/listenfd protocol, which the http tool
//! takes instead of binding), stopped with SIGTERM so it drains in-flight
//! requests before the next build takes over the socket.

use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::failure::Failure;

/// How long a stopping app may drain before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The running app.
#[derive(Debug)]
pub(crate) struct AppProcess {
    child: tokio::process::Child,
}

impl AppProcess {
    /// Starts `binary` in `root` with `listener` as its fd 3.
    pub(crate) fn start(
        binary: &Path,
        root: &Path,
        listener: &TcpListener,
    ) -> Result<Self, Failure> {
        let socket: OwnedFd = listener
            .try_clone()
            .map_err(|e| Failure::failed(format!("cannot share the listening socket: {e}")))?
            .into();
        let mut command = tokio::process::Command::new(binary);
        command
            .current_dir(root)
            // No LISTEN_PID: the child's pid is known only after the fork,
            // and listenfd takes a missing one as "for you".
            .env("LISTEN_FDS", "1")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDS_FIRST_FD")
            .kill_on_drop(true);
        command
            .fd_mappings(vec![FdMapping {
                parent_fd: socket,
                child_fd: 3,
            }])
            .map_err(|e| Failure::failed(format!("cannot map the socket to fd 3: {e}")))?;
        let child = command
            .spawn()
            .map_err(|e| Failure::failed(format!("cannot start {}: {e}", binary.display())))?;
        Ok(Self { child })
    }

    /// Its process id.
    pub(crate) fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for it to exit on its own.
    pub(crate) async fn exited(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// SIGTERM, then waits for it to drain and exit (SIGKILL after
    /// [`STOP_TIMEOUT`]).
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "[dev] the app did not stop within {}s of SIGTERM: killed",
                    STOP_TIMEOUT.as_secs()
                );
                let _ = self.child.kill().await;
            }
        }
    }
}
