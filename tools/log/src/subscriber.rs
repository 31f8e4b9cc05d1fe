//! Installing the process-wide `tracing` subscriber.

use microcore::Error;
use microcore_config::Config;
#[cfg(feature = "otel")]
use microcore_trace::telemetry::TARGET;
#[cfg(feature = "otel")]
use opentelemetry_sdk::trace::SdkTracer;
use tracing_subscriber::EnvFilter;

use crate::request_id::WithRequestId;
#[cfg(feature = "otel")]
use tracing_subscriber::filter::{LevelFilter, Targets};
#[cfg(feature = "otel")]
use tracing_subscriber::layer::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const LEVELS: &str = "one of error, warn, info, debug, trace";

/// Installs the subscriber once per process, with the layer that feeds
/// [`watch`](crate::watch) (later apps in the same test
/// process share it). Invalid settings fall back to the defaults here and
/// are reported by [`validate`] during setup, which stops the boot.
/// With an OTLP endpoint set, spans are exported too ([`crate::otel`]).
pub(crate) fn install() {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    #[cfg(feature = "otel")]
    if let Some(tracer) = crate::otel::start() {
        return install_exporting(filter, tracer);
    }
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(crate::stream::Broadcast);
    let _ = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => subscriber
            .with(
                lines
                    .json()
                    .flatten_event(true)
                    .map_event_format(WithRequestId),
            )
            .try_init(),
        _ => subscriber.with(lines).try_init(),
    };
}

#[cfg(feature = "otel")]
/// The subscriber when spans are exported: the framework's own spans
/// ([`TARGET`]) are on whatever the level, for the exporter only, so the
/// log lines read the same with or without OpenTelemetry. A separate
/// function, so the usual subscriber pays nothing for per-layer filters.
fn install_exporting(filter: EnvFilter, tracer: SdkTracer) {
    let filter = match format!("{TARGET}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let logs = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target(TARGET, LevelFilter::OFF);
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let (pretty, json) = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => (
            None,
            Some(
                lines
                    .json()
                    .flatten_event(true)
                    .map_event_format(WithRequestId),
            ),
        ),
        _ => (Some(lines), None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            // Spans carry their own attributes; file, line, thread and
            // busy/idle times would only weigh every span down.
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_tracked_inactivity(false),
        )
        .with(crate::stream::Broadcast.with_filter(logs.clone()))
        .with(tracing_subscriber::Layer::and_then(pretty, json).with_filter(logs))
        .try_init();
}

/// Checks `LOG_FORMAT`, `LOG_LEVEL`, `RUST_LOG` and the OpenTelemetry variables.
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
    )?;
    #[cfg(feature = "otel")]
    return crate::otel::validate(config);
    #[cfg(not(feature = "otel"))]
    no_exporter(config)
}

/// Without the exporter compiled in, an endpoint would export nothing:
/// the boot stops and names the feature instead.
#[cfg(not(feature = "otel"))]
fn no_exporter(config: &Config) -> Result<(), Error> {
    const OTEL: microcore_config::Backend = microcore_config::Backend {
        name: "OpenTelemetry export",
        krate: "microcore-log",
        feature: "otel",
    };
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ] {
        if let Some(endpoint) = config.raw(name).filter(|v| !v.trim().is_empty()) {
            return Err(OTEL.compiled_out(name, endpoint.trim()));
        }
    }
    Ok(())
}
