//! The signals that stop a served app: the process's business, so they
//! live with the `serve` command rather than in the kernel, which shuts an
//! app down when asked ([`microcore::Running::shutdown`]) and never
//! touches the process.

/// SIGINT and SIGTERM listeners, installed when created. Create them
/// before booting: the http tool serves before `boot` returns, and a
/// signal that arrives then must still drain the app, not kill it.
#[derive(Debug)]
pub(crate) struct ShutdownSignal {
    #[cfg(unix)]
    listeners: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignal {
    /// Installs the listeners now.
    pub(crate) fn install() -> Self {
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
    pub(crate) async fn recv(self) {
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
