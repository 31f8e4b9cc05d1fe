//! OpenTelemetry: spans exported over OTLP/HTTP when an endpoint is set.
//!
//! Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: then the subscriber gets a
//! `tracing-opentelemetry` layer, and [`microcore_trace::telemetry`] a W3C
//! propagator, so the http tool and the event bus start creating spans and
//! pass `traceparent` along (request headers, event headers). Everything
//! else follows the OpenTelemetry variables: `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_PROTOCOL`
//! (`http/protobuf`, the default, or `http/json`), `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT` and the batch settings `OTEL_BSP_*`.
//!
//! Spans leave on the SDK's own batch thread with a blocking HTTP client:
//! no async runtime involved, so an export never competes with requests,
//! and no TLS stack is built in (send to a collector next to the app).

use std::sync::OnceLock;
use std::time::Duration;

use microcore::Error;
use microcore_config::Config;
use microcore_trace::telemetry::{self, Propagate};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

const ENDPOINT_EXPECTED: &str = "an http:// URL such as http://127.0.0.1:4318 \
    (https is not built in: export to a collector next to the app)";
const PROTOCOL_EXPECTED: &str = "http/protobuf or http/json (grpc is not built in)";

/// How long the last spans may take to leave at shutdown.
const FLUSH_BOUND: Duration = Duration::from_secs(5);

/// The provider of this process, once exporting started.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Why exporting could not start, for [`validate`] to stop the boot with.
static FAILURE: OnceLock<String> = OnceLock::new();

/// Starts exporting if an endpoint is set and every variable is valid:
/// the tracer for the subscriber's layer. Invalid settings leave it off;
/// [`validate`] reports them at setup.
pub(crate) fn start() -> Option<SdkTracer> {
    if PROVIDER.get().is_some() {
        return None; // the subscriber of this process is installed already
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (endpoint_var, endpoint) = [TRACES_ENDPOINT, ENDPOINT]
        .into_iter()
        .find_map(|name| Some((name, var(name)?)))?;
    parse_endpoint(endpoint.trim())?;
    let protocol = match [TRACES_PROTOCOL, PROTOCOL].into_iter().find_map(var) {
        Some(value) => parse_protocol(value.trim())?,
        None => Protocol::HttpBinary,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .build();
    let exporter = match exporter {
        Ok(exporter) => exporter,
        Err(e) => {
            let _ = FAILURE.set(format!("{endpoint_var}='{endpoint}' cannot be used: {e}"));
            return None;
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("microcore");
    // A second app in the same process (tests) keeps the first provider.
    let _ = PROVIDER.set(provider);
    telemetry::install(Box::new(W3c(TraceContextPropagator::new())));
    Some(tracer)
}

/// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (read by the SDK),
/// else the name of the binary, never the SDK's `unknown_service`.
fn resource() -> Resource {
    let builder = Resource::builder();
    if std::env::var(SERVICE_NAME).is_ok_and(|v| !v.trim().is_empty()) {
        return builder.build();
    }
    let binary = std::env::current_exe()
        .ok()
        .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "microcore-app".into());
    builder.with_service_name(binary).build()
}

/// Checks the OpenTelemetry variables: a bad value stops the boot with an
/// error naming it, rather than silently exporting nothing.
pub(crate) fn validate(config: &Config) -> Result<(), Error> {
    for name in [TRACES_ENDPOINT, ENDPOINT] {
        if config.raw(name).is_some_and(|v| !v.trim().is_empty()) {
            config.get_with(name, ENDPOINT_EXPECTED, (), parse_endpoint)?;
        }
    }
    for name in [TRACES_PROTOCOL, PROTOCOL] {
        if config.raw(name).is_some_and(|v| !v.trim().is_empty()) {
            config.get_with(name, PROTOCOL_EXPECTED, (), |v| {
                parse_protocol(v).map(|_| ())
            })?;
        }
    }
    match FAILURE.get() {
        Some(why) => Err(Error::config(why.clone())),
        None => Ok(()),
    }
}

/// Exports the spans still waiting in the batch: the app is stopping.
/// A flush rather than a shutdown, so a later app of the same process
/// (tests) still exports.
pub(crate) async fn flush() {
    let Some(provider) = PROVIDER.get() else {
        return;
    };
    // The SDK blocks until its batch thread has exported.
    let flushed = tokio::task::spawn_blocking(|| provider.force_flush());
    match tokio::time::timeout(FLUSH_BOUND, flushed).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("cannot export the last spans: {e}"),
        Ok(Err(e)) => tracing::warn!("cannot export the last spans: {e}"),
        Err(_) => tracing::warn!(
            "the last spans were not exported within {} s",
            FLUSH_BOUND.as_secs()
        ),
    }
}

/// `http://host[:port][/path]`, the host a name or an address (`[::1]`).
fn parse_endpoint(value: &str) -> Option<()> {
    let rest = value.strip_prefix("http://")?;
    if rest.chars().any(|c| c.is_whitespace() || c == '@') {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port {
        port.parse::<u16>().ok()?;
    }
    (!host.is_empty()).then_some(())
}

fn parse_protocol(value: &str) -> Option<Protocol> {
    match value {
        "http/protobuf" => Some(Protocol::HttpBinary),
        "http/json" => Some(Protocol::HttpJson),
        _ => None,
    }
}

/// W3C trace context (`traceparent`, `tracestate`) for the kernel's hook.
#[derive(Debug)]
struct W3c(TraceContextPropagator);

impl Propagate for W3c {
    fn inject(&self, span: &tracing::Span, set: &mut dyn FnMut(&str, String)) {
        self.0.inject_context(&span.context(), &mut Setter(set));
    }

    fn extract_into<'a>(&self, span: &tracing::Span, get: &dyn Fn(&str) -> Option<&'a str>) {
        let parent = self.0.extract(&Getter(get));
        if parent.span().span_context().is_valid() {
            // Fails only for a span already started or not exported: it
            // then stays a root, which is all that can be done.
            let _ = span.set_parent(parent);
        }
    }
}

struct Setter<'s>(&'s mut dyn FnMut(&str, String));

impl Injector for Setter<'_> {
    fn set(&mut self, key: &str, value: String) {
        (self.0)(key, value);
    }
}

struct Getter<'a, 'g>(&'g dyn Fn(&str) -> Option<&'a str>);

impl Extractor for Getter<'_, '_> {
    fn get(&self, key: &str) -> Option<&str> {
        (self.0)(key)
    }

    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_plain_http_urls() {
        for good in [
            "http://127.0.0.1:4318",
            "http://collector:4318/",
            "http://localhost",
            "http://[::1]:4318/otlp",
        ] {
            assert!(parse_endpoint(good).is_some(), "{good}");
        }
        for bad in [
            "https://collector:4318",
            "collector:4318",
            "http://",
            "http://host:port",
            "http://host:99999",
            "http://a b:1",
        ] {
            assert!(parse_endpoint(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn protocols_are_the_http_ones() {
        assert!(matches!(
            parse_protocol("http/json"),
            Some(Protocol::HttpJson)
        ));
        assert!(matches!(
            parse_protocol("http/protobuf"),
            Some(Protocol::HttpBinary)
        ));
        assert!(parse_protocol("grpc").is_none());
    }

    #[test]
    fn a_bad_protocol_names_its_variable() {
        let config = Config::from_pairs([(PROTOCOL, "grpc")]);
        let error = validate(&config).unwrap_err().to_string();
        assert!(
            error.contains(PROTOCOL) && error.contains("grpc"),
            "{error}"
        );
        let config = Config::from_pairs([(ENDPOINT, "https://collector:4318")]);
        let error = validate(&config).unwrap_err().to_string();
        assert!(error.contains(ENDPOINT), "{error}");
    }
}
