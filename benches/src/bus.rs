//! The event bus: publish → handler throughput and latency of the
//! in-process bus, side by side in one run with raw tokio mpsc loops
//! carrying the same envelope, then of the drivers that leave the process
//! (SQLite, Redis Streams, NATS JetStream), each opened from its URL.
//!
//! Every path moves the same thing: a payload serialized to JSON inside
//! an [`Envelope`](microcore_event_bus::Envelope) (what `memory://`
//! carries), decoded on the other side into the subscriber's own type by
//! [`Event::decode`](microcore_event_bus::Event::decode), then handed to
//! the same handler. The raw loops are what a hand-written program would
//! do without the bus: serialize, `send`, `recv`, decode, call. The second
//! raw loop sends the whole envelope as JSON bytes, what a process
//! boundary would cost. Throughput is a burst of events published as fast
//! as the publisher can (each `publish` awaited, so on a driver that
//! acknowledges a publish, one acknowledgement after another), timed
//! until the handler has seen the last one; latency is one event at a
//! time (publish, wait for the handler), from just before `publish` to the
//! handler's first line.

mod durable;
mod path;
mod sink;

pub(crate) use durable::{Driver, Target};

use crate::report::{Table, provenance, ratio, verdict};
use crate::stats::median;
use path::{Kind, Round, round};

/// Target of issue 5: the bus delivers at least 0.8× the raw loop.
const TARGET: f64 = 0.8;

/// Rounds of each driver at most (they are slower, and steadier).
const DRIVER_ROUNDS: usize = 3;

/// The knobs of the bus benchmark.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Rounds per in-process path (median of rounds).
    pub(crate) rounds: usize,
    /// Events per throughput burst, in process.
    pub(crate) burst: u64,
    /// Events timed one at a time, per round, in process.
    pub(crate) latency_events: u64,
    /// The drivers measured after the in-process paths, in order.
    pub(crate) drivers: Vec<Target>,
    /// Only this path (`memory`, `raw`, `raw-bytes`, or a driver's scheme).
    pub(crate) only: Option<String>,
}

/// The rounds of one row.
struct Measured {
    kind: Kind,
    rounds: Vec<Round>,
}

impl Measured {
    fn median(&self, f: fn(&Round) -> f64) -> f64 {
        median(&self.rounds.iter().map(f).collect::<Vec<_>>())
    }
}

/// Runs the bus benchmark on a multi-threaded runtime (the app's kind);
/// returns its block.
pub(crate) async fn run(options: &Options, command: &str) -> Result<String, String> {
    let kinds = [Kind::Memory, Kind::RawArc, Kind::RawBytes];
    if let Some(only) = &options.only {
        run_only(options, only).await?;
        return Ok(String::new());
    }
    let mut in_process: Vec<Measured> = kinds
        .iter()
        .map(|&kind| Measured {
            kind,
            rounds: Vec::new(),
        })
        .collect();
    for r in 0..options.rounds {
        // Rotate the order so no path always runs first.
        for k in 0..kinds.len() {
            let row = &mut in_process[(k + r) % kinds.len()];
            let result = round(row.kind, options.burst, options.latency_events, None).await?;
            eprintln!(
                "  round {}/{} {}: {}",
                r + 1,
                options.rounds,
                row.kind.name(),
                result.summary()
            );
            row.rounds.push(result);
        }
    }
    let runs = options.rounds.min(DRIVER_ROUNDS);
    let mut drivers = Vec::new();
    for target in &options.drivers {
        let mut row = Measured {
            kind: Kind::Driver(target.driver),
            rounds: Vec::new(),
        };
        for r in 0..runs {
            let result = driver_round(target).await?;
            eprintln!(
                "  round {}/{runs} {}: {}",
                r + 1,
                row.kind.name(),
                result.summary()
            );
            row.rounds.push(result);
        }
        drivers.push(row);
    }
    let rendered = table(&in_process, &drivers);
    println!("\nEvent bus: publish → handler\n{rendered}");
    Ok(format!(
        "{}\n\nOne process, tokio multi-threaded runtime ({} workers). In process: {} rounds per path \
         (order rotated), each a burst of {} events (throughput: first publish to the handler seeing \
         the last) then {} events one at a time (latency: `publish` called → handler entered); \
         median of rounds.{}\n\n{rendered}",
        provenance(command),
        std::thread::available_parallelism().map_or(0, usize::from),
        options.rounds,
        options.burst,
        options.latency_events,
        options
            .drivers
            .iter()
            .map(|t| format!(
                " {}: {runs} rounds of {} events, then {} one at a time, on {}.",
                t.driver.label(),
                t.burst,
                t.latency_events,
                t.place()
            ))
            .collect::<String>(),
    ))
}

/// One round of `target` on a bus of its own, removed afterwards (also
/// when the round failed).
async fn driver_round(target: &Target) -> Result<Round, String> {
    let store = durable::Store::new(target)?;
    let result = round(
        Kind::Driver(target.driver),
        target.burst,
        target.latency_events,
        Some(&store),
    )
    .await;
    let removed = store.remove().await;
    let result = result.map_err(|e| {
        format!(
            "{} failed: {e} (skip it with --bus-{}-events 0)",
            target.driver.name(),
            match target.driver {
                Driver::Sqlite => "sqlite",
                Driver::Redis | Driver::Nats => "broker",
            }
        )
    })?;
    removed?;
    Ok(result)
}

/// `--bus-only`: one round of one path, printed.
async fn run_only(options: &Options, only: &str) -> Result<(), String> {
    let in_process = [Kind::Memory, Kind::RawArc, Kind::RawBytes]
        .into_iter()
        .find(|k| k.flag() == only);
    let (kind, result) = if let Some(kind) = in_process {
        let result = round(kind, options.burst, options.latency_events, None).await?;
        (kind, result)
    } else {
        let target = options
            .drivers
            .iter()
            .find(|t| t.driver.scheme() == only)
            .ok_or_else(|| {
                format!(
                    "--bus-only '{only}' is invalid: expected memory, raw, raw-bytes, \
                     or sqlite, redis or nats (unless skipped with 0 events)"
                )
            })?;
        (Kind::Driver(target.driver), driver_round(target).await?)
    };
    println!("{}: {}", kind.name(), result.summary());
    Ok(())
}

/// The table: medians of rounds, every rate against the raw
/// `Arc<Envelope>` loop.
fn table(in_process: &[Measured], drivers: &[Measured]) -> String {
    let raw_rate = in_process
        .iter()
        .find(|m| m.kind == Kind::RawArc)
        .map_or(0.0, |m| m.median(|r| r.events_per_s));
    let mut table = Table::new(&[
        "path",
        "throughput",
        "vs raw `Arc<Envelope>` loop",
        "latency p50",
        "latency p99",
        "target",
    ]);
    for row in in_process.iter().chain(drivers) {
        let rate = row.median(|r| r.events_per_s);
        table.row(vec![
            row.kind.name().into(),
            format!("{rate:.0} events/s"),
            ratio(rate, raw_rate),
            format!("{:.1} µs", row.median(|r| r.p50_us)),
            format!("{:.1} µs", row.median(|r| r.p99_us)),
            if row.kind == Kind::Memory {
                format!("≥ 0.8×: {}", verdict(rate >= TARGET * raw_rate))
            } else {
                String::new()
            },
        ]);
    }
    table.render()
}
