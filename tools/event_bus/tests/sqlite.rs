//! The conformance suite on the durable driver (`sqlite://<path>`), plus
//! what only a durable driver promises: deliveries survive a restart.

mod conformance;

use std::path::PathBuf;

use microcore_event_bus::{BusOptions, EventBus, Guarantee};

/// A private SQLite file in a temp dir, removed with the harness.
struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Sqlite {
    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl conformance::Harness for Sqlite {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus.db");
        Sqlite { _dir: dir, path }
    }

    async fn open(&self, options: BusOptions) -> EventBus {
        EventBus::connect(&self.url(), options).await.unwrap()
    }

    fn guarantee() -> Guarantee {
        Guarantee::AtLeastOnce
    }
}

conformance::suite!(Sqlite);

mod durable {
    use std::sync::atomic::Ordering;

    use microcore::{ErrorKind, ToolHandle};
    use serde_json::json;

    use super::Sqlite;
    use crate::conformance::{Harness, Probe, quick, topic, wait_for, wait_for_dead_letters};

    /// A process that stops while its handler is stuck never acknowledges;
    /// the next process on the same file gets those deliveries again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn unacknowledged_deliveries_come_again_after_a_restart() {
        let h = Sqlite::new().await;
        let t = topic("orders");
        let first = h.open(quick(5)).await.for_owner("tests.Orders");
        let stuck = Probe::new();
        stuck.hold.store(true, Ordering::SeqCst);
        first
            .subscribe(&t, &stuck, Probe::record)
            .group("orders.Ship.on_order")
            .await
            .unwrap();
        for n in 0..20 {
            first.publish(&t, &json!({"n": n})).await.unwrap();
        }
        wait_for("the first process to be stuck in its handler", || {
            stuck.calls() == 1
        })
        .await;

        // The "restart": a new process opens the same file while the old
        // one never finishes (as after SIGKILL).
        let second = h.open(quick(5)).await.for_owner("tests.Orders");
        let fresh = Probe::new();
        second
            .subscribe(&t, &fresh, Probe::record)
            .group("orders.Ship.on_order")
            .await
            .unwrap();
        wait_for("all 20 redelivered", || fresh.handled() == 20).await;
        let ns: Vec<i64> = fresh
            .payloads()
            .iter()
            .map(|p| p["n"].as_i64().unwrap())
            .collect();
        assert_eq!(ns, (0..20).collect::<Vec<_>>(), "in order");
        assert_eq!(
            fresh.attempts()[0],
            2,
            "the stuck delivery counts as an attempt"
        );
        assert_eq!(stuck.handled(), 0);
        stuck.release();
    }

    /// A group that exists keeps receiving while nobody consumes it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn events_published_while_down_are_delivered_at_the_next_boot() {
        let h = Sqlite::new().await;
        let t = topic("mail");
        let first = h.open(quick(5)).await.for_owner("tests.Mail");
        let probe = Probe::new();
        first.subscribe(&t, &probe, Probe::record).await.unwrap();
        first.shutdown().await;

        let publisher = h.open(quick(5)).await;
        for n in 0..5 {
            publisher.publish(&t, &json!({"n": n})).await.unwrap();
        }
        publisher.shutdown().await;

        let next = h.open(quick(5)).await.for_owner("tests.Mail");
        let later = Probe::new();
        next.subscribe(&t, &later, Probe::record).await.unwrap();
        wait_for("the 5 events", || later.handled() == 5).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dead_letters_survive_a_restart_and_replay_there() {
        let h = Sqlite::new().await;
        let t = topic("invoices");
        let first = h.open(quick(2)).await.for_owner("tests.Billing");
        let failing = Probe::new();
        failing.always_fail.store(true, Ordering::SeqCst);
        first.subscribe(&t, &failing, Probe::record).await.unwrap();
        let id = first.publish(&t, &json!({"n": 1})).await.unwrap();
        wait_for_dead_letters(&first, 1).await;
        first.shutdown().await;

        let second = h.open(quick(2)).await.for_owner("tests.Billing");
        let letters = second.dead_letters().await.unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].envelope.id, id);
        assert_eq!(letters[0].attempts, 2);
        let working = Probe::new();
        second.subscribe(&t, &working, Probe::record).await.unwrap();
        second.replay(&letters[0].id).await.unwrap();
        wait_for("the replayed event", || working.handled() == 1).await;
        assert_eq!(working.envelopes()[0].id, id);
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_store_works() {
        let bus = microcore_event_bus::EventBus::connect("sqlite://:memory:", quick(3))
            .await
            .unwrap();
        let t = topic("scratch");
        let probe = Probe::new();
        bus.subscribe(&t, &probe, Probe::record).await.unwrap();
        bus.publish(&t, &json!({})).await.unwrap();
        wait_for("the event", || probe.handled() == 1).await;
        bus.ping().await.unwrap();
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_opened_is_a_config_error_naming_the_variable() {
        let e = microcore_event_bus::EventBus::connect("sqlite:///no/such/dir/bus.db", quick(3))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.to_string()
                .starts_with("EVENT_BUS_URL='sqlite:///no/such/dir/bus.db' cannot be opened"),
            "{e}"
        );
        let e = microcore_event_bus::EventBus::connect("sqlite://", quick(3))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("expected a file path"), "{e}");
    }

    #[tokio::test]
    async fn a_closed_bus_answers_unavailable() {
        let h = Sqlite::new().await;
        let bus = h.open(quick(3)).await;
        bus.shutdown().await;
        let e = bus.publish("t", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
    }
}

mod inboxes {
    use std::time::Duration;

    use sea_orm::sqlx::{self, Connection, Row};
    use serde_json::json;

    use super::Sqlite;
    use crate::conformance::{Harness, Probe, quick, topic};

    async fn inbox_groups(h: &Sqlite) -> i64 {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", h.path.display()))
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT COUNT(*) FROM bus_groups WHERE topic LIKE '\\_inbox.%' ESCAPE '\\'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        row.try_get(0).unwrap()
    }

    /// A reply inbox lives as long as its process: the next start drops it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reply_inboxes_of_earlier_processes_are_dropped() {
        let h = Sqlite::new().await;
        let bus = h.open(quick(3)).await;
        let t = topic("sum");
        bus.respond(&t, &Probe::new(), Probe::add).await.unwrap();
        let sum: i64 = bus
            .request(&t, &json!({"a": 1, "b": 1}), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(sum, 2);
        bus.shutdown().await;
        assert_eq!(inbox_groups(&h).await, 1);
        h.open(quick(3)).await.shutdown().await;
        assert_eq!(inbox_groups(&h).await, 0);
    }
}
