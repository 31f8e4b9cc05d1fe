//! Distributed tracing through the bus, on every driver: the trace
//! context of the work in progress rides in the envelope's headers (W3C
//! `traceparent`, `tracestate`), which every driver carries and the durable
//! ones store, and each delivery runs in a consumer span whose parent it is.
//!
//! Only when the log tool exports traces ([`microcore_trace::telemetry`]);
//! otherwise no header is written and no span created.

use microcore_trace::telemetry::{self, TARGET};
use tracing::Span;
use tracing::field::Empty;

use crate::Envelope;

/// Writes the current span's context into a fresh envelope's headers.
pub(crate) fn inject(envelope: &mut Envelope) {
    if telemetry::enabled() {
        let headers = &mut envelope.headers;
        telemetry::inject(&mut |name, value| {
            headers.insert(name.to_string(), value);
        });
    }
}

/// The span an event is published in (`publish welcome.notify.sent`), a
/// child of the work in progress and the parent of its handlers' spans;
/// [`Span::none`] when tracing is off.
pub(crate) fn publish_span(topic: &str, emitter: &str) -> Span {
    if !telemetry::enabled() {
        return Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        "publish",
        otel.name = format!("publish {topic}"),
        otel.kind = "producer",
        otel.status_code = Empty,
        messaging.operation.type = "send",
        messaging.destination.name = topic,
        microcore.emitter = emitter,
    )
}

/// Who handles a delivery, for the span's attributes.
pub(crate) struct Consumer<'a> {
    pub(crate) group: &'a str,
    pub(crate) plugin: &'a str,
    pub(crate) backend: &'static str,
    pub(crate) attempt: u32,
}

/// The span one delivery is handled in (`handle user.created`), a child of
/// the span that published the event; [`Span::none`] when tracing is off.
pub(crate) fn handle_span(envelope: &Envelope, consumer: Consumer<'_>) -> Span {
    if !telemetry::enabled() {
        return Span::none();
    }
    let span = tracing::info_span!(
        target: TARGET,
        "handle",
        otel.name = format!("handle {}", envelope.event),
        otel.kind = "consumer",
        otel.status_code = Empty,
        messaging.system = consumer.backend,
        messaging.operation.type = "process",
        messaging.destination.name = envelope.event.as_str(),
        messaging.consumer.group.name = consumer.group,
        messaging.message.id = envelope.id.as_str(),
        messaging.message.delivery_attempt = consumer.attempt,
        microcore.plugin = consumer.plugin,
        microcore.emitter = envelope.emitter.as_str(),
    );
    telemetry::extract_into(&span, &|name| {
        envelope.headers.get(name).map(String::as_str)
    });
    span
}

/// Marks the current delivery's span as failed (a retry, a dead letter),
/// or the current publish's (the driver refused the event).
pub(crate) fn failed() {
    if telemetry::enabled() {
        Span::current().record("otel.status_code", "ERROR");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_telemetry_nothing_is_written_or_created() {
        let mut envelope = Envelope::new("t", serde_json::Value::Null, "app");
        inject(&mut envelope);
        assert!(envelope.headers.is_empty());
        let consumer = Consumer {
            group: "g",
            plugin: "p",
            backend: "memory",
            attempt: 1,
        };
        assert!(handle_span(&envelope, consumer).is_none());
        assert!(publish_span("t", "app").is_none());
    }
}
