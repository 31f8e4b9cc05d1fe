//! The load generator: N keep-alive connections, each sending its next
//! request as soon as the previous answer is read (closed loop, so the
//! server runs saturated), for a fixed time. It runs on the caller's
//! runtime; the harness gives it a single thread so the servers keep the
//! rest of the machine.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::client::{Conn, Get};
use crate::stats::percentile;

/// What one load run saw.
#[derive(Debug, Default, Clone)]
pub(crate) struct LoadReport {
    /// Answers with status 200.
    pub(crate) ok: u64,
    /// Other statuses, and requests that failed at the transport.
    pub(crate) errors: u64,
    /// How long it ran.
    pub(crate) elapsed: Duration,
    /// Latency of every successful request, in microseconds, sorted.
    pub(crate) latencies_us: Vec<u32>,
}

impl LoadReport {
    /// Successful requests per second.
    pub(crate) fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency percentile `p`, in milliseconds.
    pub(crate) fn latency_ms(&self, p: f64) -> f64 {
        f64::from(percentile(&self.latencies_us, p)) / 1e3
    }
}

/// Sends `requests` (connection `i` repeats `requests[i % len]`) from
/// `connections` connections for `duration`.
pub(crate) async fn run(
    addr: SocketAddr,
    requests: &[Get],
    connections: usize,
    duration: Duration,
) -> LoadReport {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let get = requests[i % requests.len()].clone();
        tasks.push(tokio::spawn(connection(addr, get, deadline)));
    }
    let mut total = LoadReport::default();
    for task in tasks {
        if let Ok(part) = task.await {
            total.ok += part.ok;
            total.errors += part.errors;
            total.latencies_us.extend(part.latencies_us);
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

async fn connection(addr: SocketAddr, get: Get, deadline: Instant) -> LoadReport {
    let mut report = LoadReport::default();
    let mut conn = None;
    while Instant::now() < deadline {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    report.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        match c.send(&get).await {
            Ok(answer) if answer.status == 200 => {
                report.ok += 1;
                let us = sent.elapsed().as_micros();
                report
                    .latencies_us
                    .push(u32::try_from(us).unwrap_or(u32::MAX));
            }
            Ok(_) => report.errors += 1,
            Err(_) => {
                report.errors += 1;
                conn = None;
            }
        }
    }
    report
}

/// Sends `count` requests one after the other on a new connection,
/// cycling through `requests`; the first failure stops it.
pub(crate) async fn sequential(
    addr: SocketAddr,
    requests: &[Get],
    count: usize,
) -> Result<(), String> {
    let mut conn = Conn::open(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    repeat(&mut conn, requests, count).await
}

/// Sends `count` requests one after the other on `conn`, cycling through
/// `requests`; anything but a 200 stops it.
pub(crate) async fn repeat(conn: &mut Conn, requests: &[Get], count: usize) -> Result<(), String> {
    for i in 0..count {
        let get = &requests[i % requests.len()];
        let answer = conn.send(get).await?;
        if answer.status != 200 {
            return Err(format!(
                "GET {} answered {}: {}",
                get.path,
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
    }
    Ok(())
}
