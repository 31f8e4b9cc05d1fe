//! Installing the process-wide `tracing` subscriber.

use microcore::Error;
use microcore_config::Config;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const LEVELS: &str = "one of error, warn, info, debug, trace";

/// Installs the subscriber once per process, with the layer that feeds
/// [`watch`](crate::watch) (later apps in the same test
/// process share it). Invalid settings fall back to the defaults here and
/// are reported by [`validate`] during setup, which stops the boot.
pub(crate) fn install() {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(crate::stream::Broadcast);
    let _ = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => subscriber.with(lines.json().flatten_event(true)).try_init(),
        _ => subscriber.with(lines).try_init(),
    };
}

/// Checks `LOG_FORMAT`, `LOG_LEVEL` and `RUST_LOG`.
pub(crate) fn validate(config: &Config) -> Result<(), Error> {
    config.get_with("LOG_FORMAT", "pretty or json", (), |v| {
        matches!(v, "pretty" | "json").then_some(())
    })?;
    config.get_with("LOG_LEVEL", LEVELS, (), |v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "error" | "warn" | "info" | "debug" | "trace" | "off"
        )
        .then_some(())
    })?;
    config.get_with(
        "RUST_LOG",
        "a tracing filter such as info or my_crate=debug",
        (),
        |v| EnvFilter::try_new(v).ok().map(|_| ()),
    )
}
