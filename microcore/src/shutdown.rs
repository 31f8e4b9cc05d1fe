//! Shutdown, the boot in reverse: stop taking work and drain it, let
//! plugins clean up, then shut tools down, dependents before dependencies.
//! Every step runs under the app's shutdown timeout, so one stuck tool
//! cannot keep the process alive.

use tracing::{info, warn};

use crate::Running;
use crate::boot::guarded;

impl Running {
    /// Waits for `signal` (installed before the boot), then shuts down.
    pub async fn run_until(self, signal: ShutdownSignal) {
        signal.recv().await;
        info!("shutdown signal received: draining");
        self.shutdown().await;
    }

    /// Shuts the app down (see the module docs for the order).
    pub async fn shutdown(self) {
        let timeout = self.shutdown_timeout;
        for (d, tool) in self.tools.iter().rev() {
            let drained = async {
                tool.drain().await;
                Ok(())
            };
            if let Err((_, why)) = guarded(timeout, drained).await {
                warn!(tool = d.name, "drain did not finish: {why}");
            }
        }
        for (name, plugin) in self.plugins.iter().rev() {
            if let Err((_, why)) = guarded(timeout, plugin.clone().on_shutdown()).await {
                warn!(plugin = %name, "shutdown hook failed: {why}");
            }
        }
        for (d, tool) in self.tools.iter().rev() {
            if let Err((_, why)) = guarded(timeout, tool.shutdown()).await {
                warn!(tool = d.name, "shutdown failed: {why}");
            }
        }
        info!("stopped");
    }
}

/// SIGINT and SIGTERM listeners, installed when created. Create them
/// before booting: the http tool serves before `boot` returns, and a
/// signal that arrives then must still drain the app, not kill it.
#[derive(Debug)]
pub struct ShutdownSignal {
    #[cfg(unix)]
    listeners: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignal {
    /// Installs the listeners now.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listeners = signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok());
            Self { listeners }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Waits for SIGINT or SIGTERM.
    pub async fn recv(self) {
        #[cfg(unix)]
        if let Some((mut interrupt, mut terminate)) = self.listeners {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
