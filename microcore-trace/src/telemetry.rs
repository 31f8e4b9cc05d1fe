//! Distributed tracing without OpenTelemetry in every crate.
//!
//! The log tool exports spans over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is set; the http tool and the event bus only need to pass a trace
//! context along (W3C `traceparent`, `tracestate`): from an incoming
//! request's headers to its span, from the span of the work in progress
//! into an event's headers, from those headers to the handler's span. This
//! module is the seam between them: the log tool [`install`]s a
//! [`Propagate`], the others call [`inject`] and [`extract_into`], and
//! nobody but the log tool depends on OpenTelemetry.
//!
//! When nothing is installed (the default), [`enabled`] is one atomic load
//! and false: callers skip creating spans altogether, so tracing costs
//! nothing when it is off.
//!
//! ```
//! use std::collections::BTreeMap;
//! use microcore_trace::telemetry;
//!
//! // Only create a span when someone exports it.
//! let span = if telemetry::enabled() {
//!     tracing::info_span!(target: telemetry::TARGET, "handle order.paid")
//! } else {
//!     tracing::Span::none()
//! };
//! let mut headers = BTreeMap::new();
//! span.in_scope(|| telemetry::inject(&mut |name, value| {
//!     headers.insert(name.to_string(), value);
//! }));
//! # assert!(headers.is_empty(), "nothing installed in this doc test");
//! ```

use std::sync::OnceLock;

use tracing::Span;

/// The `tracing` target of the framework's own spans (HTTP server, event
/// handlers): the log tool exports them and keeps them out of the log lines.
pub const TARGET: &str = "microcore_trace::telemetry";

/// Moves a trace context between spans and text headers; the log tool
/// implements it with OpenTelemetry's W3C propagator.
///
/// ```
/// use microcore_trace::telemetry::Propagate;
///
/// /// Passes a fixed `traceparent` on, and never sets a parent.
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl Propagate for Fixed {
///     fn inject(&self, _: &tracing::Span, set: &mut dyn FnMut(&str, String)) {
///         set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
///     }
///     fn extract_into<'a>(&self, _: &tracing::Span, _: &dyn Fn(&str) -> Option<&'a str>) {}
/// }
/// ```
pub trait Propagate: Send + Sync + std::fmt::Debug + 'static {
    /// Writes `span`'s context as headers through `set(name, value)`.
    fn inject(&self, span: &Span, set: &mut dyn FnMut(&str, String));

    /// Makes the context found in headers (read with `get(name)`) the
    /// parent of `span`, which must not have been entered yet.
    fn extract_into<'a>(&self, span: &Span, get: &dyn Fn(&str) -> Option<&'a str>);
}

static PROPAGATOR: OnceLock<Box<dyn Propagate>> = OnceLock::new();

/// Turns propagation on for the rest of the process; only the first call
/// counts (false for the later ones). The log tool calls it when it
/// exports traces.
///
/// ```
/// # use microcore_trace::telemetry::{self, Propagate};
/// # #[derive(Debug)] struct Off;
/// # impl Propagate for Off {
/// #     fn inject(&self, _: &tracing::Span, _: &mut dyn FnMut(&str, String)) {}
/// #     fn extract_into<'a>(&self, _: &tracing::Span, _: &dyn Fn(&str) -> Option<&'a str>) {}
/// # }
/// assert!(telemetry::install(Box::new(Off)));
/// assert!(telemetry::enabled());
/// assert!(!telemetry::install(Box::new(Off)));
/// ```
pub fn install(propagator: Box<dyn Propagate>) -> bool {
    PROPAGATOR.set(propagator).is_ok()
}

/// Whether traces are exported: one atomic load. Create spans for
/// [`TARGET`] only when it is true.
#[inline]
pub fn enabled() -> bool {
    PROPAGATOR.get().is_some()
}

/// Writes the context of the current span as headers through
/// `set(name, value)`; nothing when tracing is off.
pub fn inject(set: &mut dyn FnMut(&str, String)) {
    if let Some(propagator) = PROPAGATOR.get() {
        propagator.inject(&Span::current(), set);
    }
}

/// Makes the context carried by headers (read with `get(name)`) the parent
/// of `span`, before it is entered; nothing when tracing is off or the
/// headers carry no valid context.
///
/// ```
/// use std::collections::BTreeMap;
///
/// let headers = BTreeMap::from([("traceparent".to_string(), "not a context".to_string())]);
/// let span = tracing::Span::none();
/// microcore_trace::telemetry::extract_into(&span, &|name| headers.get(name).map(String::as_str));
/// ```
pub fn extract_into<'a>(span: &Span, get: &dyn Fn(&str) -> Option<&'a str>) {
    if let Some(propagator) = PROPAGATOR.get() {
        propagator.extract_into(span, get);
    }
}
