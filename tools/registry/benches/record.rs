//! What recording one tool call costs: `cargo bench -p microcore-registry`.
//!
//! Prints nanoseconds per call for the calls tool's `record` with no
//! recorder (what a handle pays when the registry tool is absent), through the
//! registry tool's recorder on one thread and on several at once (the ring
//! and the counters are shared), and `timed` around a ready future (which
//! adds the two clock reads a real call pays). A plain loop with
//! `black_box`, so it needs no benchmark crate.

use std::future::Future as _;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use microcore_calls::Calls;
use microcore_registry::CallMetrics;

const CALLS: u32 = 2_000_000;
const METHODS: [&str; 4] = ["get", "set", "incr", "delete"];

/// The best of five rounds: the machine may be busy with other work.
fn per_call(calls: u32, work: impl Fn(u32)) -> f64 {
    for i in 0..calls / 10 {
        work(i);
    }
    (0..5)
        .map(|_| {
            let started = Instant::now();
            for i in 0..calls / 5 {
                work(i);
            }
            started.elapsed().as_nanos() as f64 / f64::from(calls / 5)
        })
        .fold(f64::INFINITY, f64::min)
}

fn record(calls: &Calls, i: u32) {
    calls.record(
        black_box("state"),
        black_box(METHODS[(i % 4) as usize]),
        black_box("users.Login"),
        Duration::from_nanos(u64::from(i % 5000)),
        true,
    );
}

fn main() {
    let wall_clock = per_call(CALLS, |_| {
        black_box(chrono::Utc::now());
    });
    let bare = Calls::default();
    let no_recorder = per_call(CALLS, |i| record(&bare, i));

    let calls = Calls::default();
    calls.set_recorder(Arc::new(CallMetrics::default()));
    let one_thread = per_call(CALLS, |i| record(&calls, i));

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    let shared = calls;
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let calls = shared.clone();
            std::thread::spawn(move || per_call(CALLS / 2, |i| record(&calls, i)))
        })
        .collect();
    let contended: Vec<f64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let contended = contended.iter().sum::<f64>() / contended.len() as f64;

    let timed = per_call(CALLS, |i| {
        let call = shared.timed("state", METHODS[(i % 4) as usize], "users.Login", async {
            Ok::<u32, ()>(black_box(i))
        });
        // A ready future completes on its first poll: no executor needed.
        let mut call = std::pin::pin!(call);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        black_box(call.as_mut().poll(&mut cx)).is_ready();
    });

    println!("for scale, one wall-clock read (Utc::now):  {wall_clock:>6.1} ns");
    println!("calls record, no recorder installed:        {no_recorder:>6.1} ns/call");
    println!("calls record, 1 thread:                     {one_thread:>6.1} ns/call");
    println!(
        "calls record, {threads} threads at once:           {contended:>6.1} ns/call (per thread)"
    );
    println!(
        "calls timed(ready future), 1 thread:        {timed:>6.1} ns/call (clock reads included)"
    );
}
