//! The event bus: publish → handler throughput and latency of the
//! in-process bus, side by side in one run with raw tokio mpsc loops
//! carrying the same envelope, and of the durable SQLite driver.
//!
//! Every path moves the same thing: a payload serialized to JSON inside
//! an [`Envelope`] (what `memory://` carries), decoded on the other side
//! into the subscriber's own type by [`Event::decode`], then handed to the
//! same handler. The raw loops are what a hand-written program would do
//! without the bus: serialize, `send`, `recv`, decode, call. The second
//! raw loop sends the whole envelope as JSON bytes, what a process
//! boundary would cost. Throughput is a burst of events published as fast
//! as the publisher can, timed until the handler has seen the last one;
//! latency is one event at a time (publish, wait for the handler), from
//! just before `publish` to the handler's first line.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use microcore_event_bus::{BusOptions, Envelope, Event, EventBus};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};

use crate::report::{Table, provenance, ratio, verdict};
use crate::stats::{median, percentile};

const TOPIC: &str = "bench.user.created";

/// Target of issue 5: the bus delivers at least 0.8× the raw loop.
const TARGET: f64 = 0.8;

/// The knobs of the bus benchmark.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Rounds per path (median of rounds).
    pub(crate) rounds: usize,
    /// Events per throughput burst, in process.
    pub(crate) burst: u64,
    /// Events timed one at a time, per round, in process.
    pub(crate) latency_events: u64,
    /// Events per burst on SQLite.
    pub(crate) sqlite_burst: u64,
    /// Events timed one at a time on SQLite.
    pub(crate) sqlite_latency_events: u64,
    /// Only this in-process path (`memory`, `raw`, `raw-bytes`).
    pub(crate) only: Option<String>,
}

/// A `user.created`-like payload, plus when it was sent.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    id: u64,
    email: String,
    roles: Vec<String>,
    /// Nanoseconds since the round's start.
    sent_ns: u64,
}

/// The handler's side: counts events, records latencies, wakes the
/// publisher when the count it waits for is reached.
struct Sink {
    started: Instant,
    handled: AtomicU64,
    target: AtomicU64,
    record: AtomicBool,
    latencies_ns: Mutex<Vec<u64>>,
    done: Notify,
}

impl Sink {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            handled: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            record: AtomicBool::new(false),
            latencies_ns: Mutex::new(Vec::new()),
            done: Notify::new(),
        })
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn payload(&self, id: u64) -> Payload {
        Payload {
            id,
            email: "ada@example.com".into(),
            roles: vec!["user".into()],
            sent_ns: self.now_ns(),
        }
    }

    /// The handler, as a plugin method: the same for every path.
    async fn on_event(self: Arc<Self>, event: Event<Payload>) -> microcore::Result<()> {
        if self.record.load(Ordering::Relaxed) {
            let latency = self.now_ns().saturating_sub(event.payload.sent_ns);
            self.latencies_ns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(latency);
        }
        let n = self.handled.fetch_add(1, Ordering::AcqRel) + 1;
        if n == self.target.load(Ordering::Acquire) {
            self.done.notify_waiters();
        }
        Ok(())
    }

    /// Waits until `n` events in all have been handled.
    async fn wait_for(&self, n: u64) {
        self.target.store(n, Ordering::Release);
        loop {
            // Registered before the check, so a wake-up between the check
            // and the wait is not lost (and none is left over for later).
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.handled.load(Ordering::Acquire) >= n {
                return;
            }
            notified.await;
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
    async fn open(
        kind: Kind,
        sink: &Arc<Sink>,
        sqlite: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        match kind {
            Kind::Memory => {
                let bus = EventBus::memory();
                bus.subscribe(TOPIC, sink, Sink::on_event)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Self::Bus(bus))
            }
            Kind::Sqlite => {
                let path = sqlite.ok_or("no SQLite path")?;
                let url = format!("sqlite://{}", path.display());
                let bus = EventBus::connect(&url, BusOptions::default())
                    .await
                    .map_err(|e| e.to_string())?;
                bus.subscribe(TOPIC, sink, Sink::on_event)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Self::Bus(bus))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    RawArc,
    RawBytes,
    Sqlite,
}

impl Kind {
    fn flag(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::RawArc => "raw",
            Self::RawBytes => "raw-bytes",
            Self::Sqlite => "sqlite",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Memory => "EventBus, `memory://`",
            Self::RawArc => "raw tokio mpsc, `Arc<Envelope>`",
            Self::RawBytes => "raw tokio mpsc, envelope as JSON bytes",
            Self::Sqlite => "EventBus, `sqlite://` (durable)",
        }
    }
}

/// One round of one path: throughput of a burst, then latencies.
struct Round {
    events_per_s: f64,
    p50_us: f64,
    p99_us: f64,
}

async fn round(
    kind: Kind,
    burst: u64,
    latency_events: u64,
    sqlite: Option<&std::path::Path>,
) -> Result<Round, String> {
    let sink = Sink::new();
    let path = Path::open(kind, &sink, sqlite).await?;
    // Warm-up: the first events allocate queues and fill caches.
    for i in 0..100 {
        path.publish(&sink.payload(i)).await?;
    }
    sink.wait_for(100).await;

    let started = Instant::now();
    for i in 0..burst {
        path.publish(&sink.payload(i)).await?;
    }
    sink.wait_for(100 + burst).await;
    let events_per_s = burst as f64 / started.elapsed().as_secs_f64();

    sink.record.store(true, Ordering::Relaxed);
    for i in 0..latency_events {
        path.publish(&sink.payload(i)).await?;
        sink.wait_for(100 + burst + i + 1).await;
    }
    path.close().await;
    let mut latencies =
        std::mem::take(&mut *sink.latencies_ns.lock().unwrap_or_else(|e| e.into_inner()));
    latencies.sort_unstable();
    Ok(Round {
        events_per_s,
        p50_us: percentile(&latencies, 50.0) as f64 / 1e3,
        p99_us: percentile(&latencies, 99.0) as f64 / 1e3,
    })
}

/// Runs the bus benchmark on a multi-threaded runtime (the app's kind);
/// returns its block.
pub(crate) async fn run(options: &Options, command: &str) -> Result<String, String> {
    let kinds = [Kind::Memory, Kind::RawArc, Kind::RawBytes];
    if let Some(only) = &options.only {
        let kind = kinds.iter().find(|k| k.flag() == only).ok_or_else(|| {
            format!("--bus-only '{only}' is invalid: expected memory, raw or raw-bytes")
        })?;
        let result = round(*kind, options.burst, options.latency_events, None).await?;
        println!(
            "{}: {:.0} events/s, p50 {:.1} µs, p99 {:.1} µs",
            kind.name(),
            result.events_per_s,
            result.p50_us,
            result.p99_us
        );
        return Ok(String::new());
    }
    let mut rounds: Vec<Vec<Round>> = kinds.iter().map(|_| Vec::new()).collect();
    for r in 0..options.rounds {
        // Rotate the order so no path always runs first.
        for k in 0..kinds.len() {
            let at = (k + r) % kinds.len();
            let result = round(kinds[at], options.burst, options.latency_events, None).await?;
            eprintln!(
                "  round {}/{} {}: {:.0} events/s, p50 {:.1} µs, p99 {:.1} µs",
                r + 1,
                options.rounds,
                kinds[at].name(),
                result.events_per_s,
                result.p50_us,
                result.p99_us
            );
            rounds[at].push(result);
        }
    }
    let dir = std::env::temp_dir().join(format!("microcore-bench-bus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut sqlite_rounds = Vec::new();
    let sqlite_runs = if options.sqlite_burst == 0 {
        0
    } else {
        options.rounds.min(3)
    };
    for r in 0..sqlite_runs {
        let file = dir.join(format!("bus-{r}.db"));
        let result = round(
            Kind::Sqlite,
            options.sqlite_burst,
            options.sqlite_latency_events,
            Some(&file),
        )
        .await;
        let _ = std::fs::remove_dir_all(&dir).and_then(|()| std::fs::create_dir_all(&dir));
        let result = result?;
        eprintln!(
            "  round {}/{} {}: {:.0} events/s, p50 {:.1} µs, p99 {:.1} µs",
            r + 1,
            sqlite_runs,
            Kind::Sqlite.name(),
            result.events_per_s,
            result.p50_us,
            result.p99_us
        );
        sqlite_rounds.push(result);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let med = |rs: &[Round], f: fn(&Round) -> f64| median(&rs.iter().map(f).collect::<Vec<_>>());
    let raw_rate = med(&rounds[1], |r| r.events_per_s);
    let mut table = Table::new(&[
        "path",
        "throughput",
        "vs raw `Arc<Envelope>` loop",
        "latency p50",
        "latency p99",
        "target",
    ]);
    for (i, kind) in kinds.iter().enumerate() {
        let rate = med(&rounds[i], |r| r.events_per_s);
        table.row(vec![
            kind.name().into(),
            format!("{rate:.0} events/s"),
            ratio(rate, raw_rate),
            format!("{:.1} µs", med(&rounds[i], |r| r.p50_us)),
            format!("{:.1} µs", med(&rounds[i], |r| r.p99_us)),
            if *kind == Kind::Memory {
                format!("≥ 0.8×: {}", verdict(rate >= TARGET * raw_rate))
            } else {
                String::new()
            },
        ]);
    }
    if !sqlite_rounds.is_empty() {
        let rate = med(&sqlite_rounds, |r| r.events_per_s);
        table.row(vec![
            Kind::Sqlite.name().into(),
            format!("{rate:.0} events/s"),
            ratio(rate, raw_rate),
            format!("{:.1} µs", med(&sqlite_rounds, |r| r.p50_us)),
            format!("{:.1} µs", med(&sqlite_rounds, |r| r.p99_us)),
            String::new(),
        ]);
    }
    let rendered = table.render();
    println!("\nEvent bus: publish → handler\n{rendered}");
    Ok(format!(
        "{}\n\nOne process, tokio multi-threaded runtime ({} workers). In process: {} rounds per path \
         (order rotated), each a burst of {} events (throughput: first publish to the handler seeing \
         the last) then {} events one at a time (latency: `publish` called → handler entered); \
         median of rounds. SQLite: {} rounds of {} events, then {} one at a time, on a fresh file \
         each round (WAL, synchronous NORMAL).\n\n{rendered}",
        provenance(command),
        std::thread::available_parallelism().map_or(0, usize::from),
        options.rounds,
        options.burst,
        options.latency_events,
        sqlite_runs,
        options.sqlite_burst,
        options.sqlite_latency_events,
    ))
}
