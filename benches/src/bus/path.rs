//! The ways an event gets from the publisher to the handler, and one
//! measured round over one of them.

use std::sync::Arc;
use std::time::Instant;

use microcore_event_bus::{Envelope, Event, EventBus};
use tokio::sync::mpsc;

use super::durable::{Driver, Store};
use super::sink::{Payload, Sink};
use crate::stats::percentile;

const TOPIC: &str = "bench.user.created";

/// Events published and handled before a round is timed: the first ones
/// allocate queues, fill caches and (on a broker) create the group.
const WARM_UP: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Memory,
    RawArc,
    RawBytes,
    /// A bus on a durable or broker driver, opened from its URL.
    Driver(Driver),
}

impl Kind {
    /// The `--bus-only` value.
    pub(super) fn flag(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::RawArc => "raw",
            Self::RawBytes => "raw-bytes",
            Self::Driver(driver) => driver.scheme(),
        }
    }

    /// The row's name in the table.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Memory => "EventBus, `memory://`",
            Self::RawArc => "raw tokio mpsc, `Arc<Envelope>`",
            Self::RawBytes => "raw tokio mpsc, envelope as JSON bytes",
            Self::Driver(driver) => driver.name(),
        }
    }
}

/// A way to get an event from the publisher to the handler.
enum Path {
    Bus(EventBus),
    RawArc(mpsc::UnboundedSender<Arc<Envelope>>),
    RawBytes(mpsc::UnboundedSender<Vec<u8>>),
}

impl Path {
    async fn open(kind: Kind, sink: &Arc<Sink>, store: Option<&Store>) -> Result<Self, String> {
        match kind {
            Kind::Memory => Self::subscribed(EventBus::memory(), sink).await,
            Kind::Driver(driver) => {
                let store = store.ok_or_else(|| format!("no store for {}", driver.scheme()))?;
                let bus = EventBus::open(store.settings())
                    .await
                    .map_err(|e| e.to_string())?;
                Self::subscribed(bus, sink).await
            }
            Kind::RawArc => {
                let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Envelope>>();
                let sink = sink.clone();
                tokio::spawn(async move {
                    while let Some(envelope) = rx.recv().await {
                        if let Ok(event) = Event::<Payload>::decode(envelope, 1) {
                            let _ = sink.clone().on_event(event).await;
                        }
                    }
                });
                Ok(Self::RawArc(tx))
            }
            Kind::RawBytes => {
                let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
                let sink = sink.clone();
                tokio::spawn(async move {
                    while let Some(bytes) = rx.recv().await {
                        let Ok(envelope) = serde_json::from_slice::<Envelope>(&bytes) else {
                            continue;
                        };
                        if let Ok(event) = Event::<Payload>::decode(Arc::new(envelope), 1) {
                            let _ = sink.clone().on_event(event).await;
                        }
                    }
                });
                Ok(Self::RawBytes(tx))
            }
        }
    }

    /// `bus` with the sink subscribed; shut down if that fails, so no
    /// driver task outlives the round.
    async fn subscribed(bus: EventBus, sink: &Arc<Sink>) -> Result<Self, String> {
        if let Err(e) = bus.subscribe(TOPIC, sink, Sink::on_event).await {
            bus.shutdown().await;
            return Err(e.to_string());
        }
        Ok(Self::Bus(bus))
    }

    async fn publish(&self, payload: &Payload) -> Result<(), String> {
        match self {
            Self::Bus(bus) => bus
                .publish(TOPIC, payload)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::RawArc(tx) => {
                let value = serde_json::to_value(payload).map_err(|e| e.to_string())?;
                tx.send(Arc::new(Envelope::new(TOPIC, value, "app")))
                    .map_err(|_| "the raw loop stopped".to_string())
            }
            Self::RawBytes(tx) => {
                let value = serde_json::to_value(payload).map_err(|e| e.to_string())?;
                let bytes = serde_json::to_vec(&Envelope::new(TOPIC, value, "app"))
                    .map_err(|e| e.to_string())?;
                tx.send(bytes)
                    .map_err(|_| "the raw loop stopped".to_string())
            }
        }
    }

    async fn close(self) {
        if let Self::Bus(bus) = self {
            bus.shutdown().await;
        }
    }
}

/// One round of one path: throughput of a burst, then latencies.
#[derive(Debug)]
pub(super) struct Round {
    pub(super) events_per_s: f64,
    pub(super) p50_us: f64,
    pub(super) p99_us: f64,
}

impl Round {
    pub(super) fn summary(&self) -> String {
        format!(
            "{:.0} events/s, p50 {:.1} µs, p99 {:.1} µs",
            self.events_per_s, self.p50_us, self.p99_us
        )
    }
}

/// Measures `kind`: `store` is where a driver's bus lives. The bus is
/// shut down before this returns, whether the round succeeded or not.
pub(super) async fn round(
    kind: Kind,
    burst: u64,
    latency_events: u64,
    store: Option<&Store>,
) -> Result<Round, String> {
    let sink = Sink::new();
    let path = Path::open(kind, &sink, store).await?;
    let measured = measure(&path, &sink, burst, latency_events).await;
    path.close().await;
    let events_per_s = measured?;
    let latencies = sink.take_latencies();
    Ok(Round {
        events_per_s,
        p50_us: percentile(&latencies, 50.0) as f64 / 1e3,
        p99_us: percentile(&latencies, 99.0) as f64 / 1e3,
    })
}

/// Warms `path` up, times a burst, then records `latency_events`
/// latencies in the sink; returns the burst's events per second.
async fn measure(path: &Path, sink: &Sink, burst: u64, latency_events: u64) -> Result<f64, String> {
    for i in 0..WARM_UP {
        path.publish(&sink.payload(i)).await?;
    }
    sink.wait_for(WARM_UP).await?;

    let started = Instant::now();
    for i in 0..burst {
        path.publish(&sink.payload(i)).await?;
    }
    sink.wait_for(WARM_UP + burst).await?;
    let events_per_s = burst as f64 / started.elapsed().as_secs_f64();

    sink.start_recording();
    for i in 0..latency_events {
        path.publish(&sink.payload(i)).await?;
        sink.wait_for(WARM_UP + burst + i + 1).await?;
    }
    Ok(events_per_s)
}
