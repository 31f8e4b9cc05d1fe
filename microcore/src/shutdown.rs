//! Shutdown, the boot in reverse: stop taking work and drain it, let
//! plugins clean up, then shut tools down, dependents before dependencies.
//! Every step runs under the app's shutdown timeout, so one stuck tool
//! cannot keep the process alive.
//!
//! Which signal asks for it is the process's business, not the kernel's:
//! the `serve` command (`microcore-commands`) listens for SIGINT and
//! SIGTERM and calls [`Running::shutdown`]; a test calls it directly.

use tracing::{info, warn};

use crate::Running;
use crate::boot::guarded;

impl Running {
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
