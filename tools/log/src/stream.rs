//! Log lines as they are written, for live streams (`/system/logs/stream`).
//!
//! The `tracing` subscriber is process-wide, and so is this broadcast: every
//! app booted in one process (tests) shares it. A line is formatted only
//! while someone watches, so an unwatched app pays one atomic read per event.

use std::fmt::{Debug, Write as _};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How many lines a slow watcher may fall behind before it skips some.
const CAPACITY: usize = 1024;

/// One log line, as `/system/logs/stream` sends it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut lines = microcore_log::watch();
/// # let _ = &mut lines;
/// // ... `tracing::info!("hello")` anywhere, once the log tool is set up ...
/// // let line = lines.recv().await.unwrap();
/// // assert_eq!((line.level, line.message.as_str()), ("INFO", "hello"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: &'static str,
    /// The message, followed by the event's other fields as `key=value`.
    pub message: String,
    /// When it was written (UTC; RFC 3339 in JSON).
    pub timestamp: DateTime<Utc>,
    /// The module that wrote it.
    pub target: &'static str,
    /// The plugin that wrote it through its [`Log`](crate::Log) handle.
    pub plugin: Option<String>,
}

fn sender() -> &'static broadcast::Sender<LogLine> {
    static LINES: OnceLock<broadcast::Sender<LogLine>> = OnceLock::new();
    LINES.get_or_init(|| broadcast::channel(CAPACITY).0)
}

/// Every log line written from now on (that passes the level filter),
/// once the log tool installed its subscriber. A receiver that falls
/// more than 1024 lines behind gets `RecvError::Lagged` and goes on.
pub fn watch() -> broadcast::Receiver<LogLine> {
    sender().subscribe()
}

/// The layer that feeds [`watch`].
pub(crate) struct Broadcast;

impl<S: Subscriber> Layer<S> for Broadcast {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let sender = sender();
        if sender.receiver_count() == 0 {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let _ = sender.send(LogLine {
            level: meta.level().as_str(),
            message: fields.message + &fields.rest,
            timestamp: Utc::now(),
            target: meta.target(),
            plugin: fields.plugin,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    plugin: Option<String>,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "plugin" => self.plugin = Some(value.to_string()),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "plugin" => self.plugin = Some(format!("{value:?}")),
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}
