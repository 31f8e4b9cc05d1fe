//! A test fixture, not part of the product: the example app plus one
//! plugin that counts events, used by `tests/bus_crash.rs` to kill the
//! process mid-delivery and prove nothing is lost.
//!
//! `POST /probe/publish?n=N` publishes `probe.tick` N times (key = index).
//! Each delivery inserts a row in `probe_handled` (at-least-once: may be
//! repeated after a crash) and, keyed by the event's key, in
//! `probe_effects` (the idempotent effect: exactly once).

#![allow(missing_debug_implementations)]

use std::time::Duration;

use domains::prelude::*;
use sea_orm::ConnectionTrait;

/// Counts deliveries and applies an idempotent effect per event.
#[plugin(domain = "probe")]
pub struct Probe {
    http: Http,
    db: Db,
    bus: EventBus,
}

/// How many events to publish.
#[derive(Debug, Deserialize, Validate, IntoParams)]
pub struct Count {
    n: u32,
}

/// The event's payload.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Tick {
    i: u32,
}

impl Plugin for Probe {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        for table in [
            "probe_handled (key TEXT NOT NULL)",
            "probe_effects (key TEXT PRIMARY KEY)",
        ] {
            self.db
                .execute_unprepared(&format!("CREATE TABLE IF NOT EXISTS {table}"))
                .await?;
        }
        self.http.post("/probe/publish", &self, Self::publish);
        self.bus
            .subscribe("probe.tick", &self, Self::on_tick)
            .await?;
        Ok(())
    }
}

impl Probe {
    async fn publish(self: Arc<Self>, Query(count): Query<Count>) -> Result<u32> {
        for i in 0..count.n {
            self.bus
                .publish("probe.tick", &Tick { i })
                .key(i.to_string())
                .await?;
        }
        Ok(count.n)
    }

    async fn on_tick(self: Arc<Self>, event: Event<Tick>) -> Result<()> {
        let key = event.payload.i.to_string();
        self.db
            .execute_unprepared(&format!("INSERT INTO probe_handled (key) VALUES ('{key}')"))
            .await?;
        // Slow enough that a kill lands while handlers run.
        tokio::time::sleep(Duration::from_micros(200)).await;
        self.db
            .execute_unprepared(&format!(
                "INSERT INTO probe_effects (key) VALUES ('{key}') ON CONFLICT DO NOTHING"
            ))
            .await?;
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    microcore_commands::main(microcore_app::app())
}
