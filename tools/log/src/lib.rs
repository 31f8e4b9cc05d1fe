//! The `log` tool: `tracing` for the whole process, and a [`Log`] handle
//! that tags each line with the plugin that wrote it.
//!
//! Human-readable lines on a terminal by default; JSON lines with
//! `LOG_FORMAT=json`, each line logged while a request is served carrying
//! its `request_id`. The level comes from `RUST_LOG` (full filter syntax)
//! or `LOG_LEVEL` (`error`, `warn`, `info`, `debug`, `trace`; default `info`).
//! Every line written is also broadcast to [`watch`]ers (`/system/logs/stream`).
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported over
//! OTLP/HTTP (`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` or `http/json`,
//! `OTEL_SERVICE_NAME`, ...), and the http tool and the event bus pass the
//! trace context along ([`microcore_trace::telemetry`]): one trace follows a
//! request through every event it causes.

#[cfg(feature = "otel")]
mod otel;
mod request_id;
mod stream;
mod subscriber;

use std::fmt::Display;

use microcore::prelude::*;
use microcore_config::Config;

pub use stream::{LogLine, watch};

/// Writes log lines tagged with the plugin (or tool) holding the handle.
///
/// ```
/// use microcore::ToolHandle;
/// use microcore_log::Log;
///
/// let log = Log::default().for_owner("users.CreateUser");
/// log.info("user created"); // plugin="users.CreateUser" user created
/// ```
#[derive(Debug, Clone, Default)]
pub struct Log {
    owner: &'static str,
}

impl ToolHandle for Log {
    const NAME: &'static str = "log";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self { owner }
    }
}

#[microcore::tool(guide = "../AI.md")]
impl Log {
    /// A debug line.
    pub fn debug(&self, message: impl Display) {
        tracing::debug!(plugin = self.owner, "{message}");
    }

    /// An info line.
    pub fn info(&self, message: impl Display) {
        tracing::info!(plugin = self.owner, "{message}");
    }

    /// A warning.
    pub fn warn(&self, message: impl Display) {
        tracing::warn!(plugin = self.owner, "{message}");
    }

    /// An error.
    pub fn error(&self, message: impl Display) {
        tracing::error!(plugin = self.owner, "{message}");
    }

    /// Every log line of the process from now on, for live streams (see [`watch`]).
    pub fn watch(&self) -> tokio::sync::broadcast::Receiver<LogLine> {
        watch()
    }
}

/// The built-in log tool, on `tracing-subscriber`.
#[tool]
#[derive(Debug)]
pub struct TracingLog {
    config: Config,
}

impl Tool for TracingLog {
    type Handle = Log;

    fn pre_boot() {
        subscriber::install();
    }

    async fn setup(&self, _: &ToolContext) -> Result<Log> {
        subscriber::validate(&self.config)?;
        Ok(Log::default())
    }

    /// The spans of the last requests and events leave before the process.
    async fn shutdown(&self) -> Result<()> {
        #[cfg(feature = "otel")]
        otel::flush().await;
        Ok(())
    }
}
