//! The transactional outbox (`bus.publish_in(txn, ..)`) against real
//! databases (SQLite files, PostgreSQL databases of their own) and the
//! shared NATS server: a rollback publishes nothing, a commit publishes
//! once, events written while the broker is cut away (a TCP proxy) go out
//! once it is back, a process killed with SIGKILL between the commit and
//! the publish loses nothing, several relays on one PostgreSQL database
//! publish each event once and in order, and a malformed row is set aside
//! with its reason, not dropped and not a panic.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use microcore::sync::lock;
use microcore::{Error, Result, ToolHandle};
use microcore_db::{Db, DbSettings, MIGRATIONS, Selection};
use microcore_event_bus::driver::{Consumer, DeadLetter, Driver, Guarantee, MemoryDriver};
use microcore_event_bus::{BusOptions, DriverOptions, Envelope, Event, EventBus, driver};
use microcore_test_support::TestDb;
use microcore_test_support::on_both_backends;
use microcore_test_support::proxy::Proxy;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Records what its handler sees.
#[derive(Debug, Default)]
struct Seen {
    events: Mutex<Vec<Arc<Envelope>>>,
}

impl Seen {
    async fn record(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        lock(&self.events).push(event.envelope().clone());
        Ok(())
    }

    fn payloads(&self) -> Vec<Value> {
        lock(&self.events)
            .iter()
            .map(|e| e.payload.clone())
            .collect()
    }

    fn count(&self) -> usize {
        lock(&self.events).len()
    }
}

/// A topic no other test (or run) uses.
fn topic(name: &str) -> String {
    format!("{name}.{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Waits up to `secs` for `done`, then fails naming `what`.
async fn wait_for(what: &str, secs: u64, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The test's database with every linked migration (the outbox's too).
async fn open(test: &TestDb) -> Db {
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    db.migrate_up(&MIGRATIONS, &Selection::default())
        .await
        .unwrap();
    db
}

/// Rows left in the outbox.
async fn outbox_rows(db: &Db) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.backend(),
        "SELECT count(*) AS n FROM microcore_outbox",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

/// A bus on `driver` whose subscriber `seen` takes `topic`, relaying `db`'s outbox.
async fn relaying(driver: Arc<dyn Driver>, db: &Db, topic: &str) -> (EventBus, Arc<Seen>) {
    let bus = EventBus::from_driver(driver, BusOptions::default());
    let seen = Arc::new(Seen::default());
    bus.subscribe(topic, &seen, Seen::record)
        .group("tests.Seen")
        .await
        .unwrap();
    bus.relay_outbox(db);
    (bus, seen)
}

/// Commits `n` in a transaction of its own, with its event.
async fn commit_one(db: &Db, bus: &EventBus, topic: &str, n: i64) {
    db.transaction(async |txn| {
        bus.publish_in(txn, topic, &json!({"n": n})).await?;
        Ok(())
    })
    .await
    .unwrap();
}

async fn a_rollback_publishes_nothing_and_a_commit_publishes_once(test: TestDb) {
    let db = open(&test).await;
    db.execute_unprepared("CREATE TABLE orders (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let topic = topic("order.placed");
    let (bus, seen) = relaying(Arc::new(MemoryDriver::new()), &db, &topic).await;

    let refused: Result<()> = db
        .transaction(async |txn| {
            txn.execute_unprepared("INSERT INTO orders (id) VALUES (1)")
                .await?;
            bus.publish_in(txn, &topic, &json!({"id": 1})).await?;
            Err(Error::business("out of stock"))
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(
        outbox_rows(&db).await,
        0,
        "the row rolled back with the order"
    );

    let id = db
        .transaction(async |txn| {
            txn.execute_unprepared("INSERT INTO orders (id) VALUES (2)")
                .await?;
            let id = bus.publish_in(txn, &topic, &json!({"id": 2})).await?;
            Ok(id)
        })
        .await
        .unwrap();
    wait_for("the committed event", 5, || seen.count() >= 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        seen.payloads(),
        [json!({"id": 2})],
        "once, and not the rolled-back one"
    );
    assert_eq!(lock(&seen.events)[0].id, id, "the id publish_in returned");
    let mut left = outbox_rows(&db).await;
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = outbox_rows(&db).await;
    }
    assert_eq!(left, 0, "deleted once published");
    bus.shutdown().await;
}

async fn events_go_out_in_commit_order_with_their_causal_ids(test: TestDb) {
    let db = open(&test).await;
    let topic = topic("step");
    let (bus, seen) = relaying(Arc::new(MemoryDriver::new()), &db, &topic).await;
    let bus = bus.for_owner("tests.Steps");
    db.transaction(async |txn| {
        for n in 0..5 {
            bus.publish_in(txn, &topic, &json!({"n": n}))
                .key("steps")
                .header("source", "test")
                .await?;
        }
        Ok(())
    })
    .await
    .unwrap();
    for n in 5..10 {
        commit_one(&db, &bus, &topic, n).await;
    }
    wait_for("ten events", 10, || seen.count() >= 10).await;
    let ns: Vec<i64> = seen
        .payloads()
        .iter()
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, (0..10).collect::<Vec<_>>());
    let first = lock(&seen.events)[0].clone();
    assert_eq!(first.emitter, "tests.Steps");
    assert_eq!(first.key.as_deref(), Some("steps"));
    assert_eq!(
        first.headers.get("source").map(String::as_str),
        Some("test")
    );
    bus.shutdown().await;
}

async fn a_malformed_row_is_set_aside_with_its_reason(test: TestDb) {
    let db = open(&test).await;
    let topic = topic("after.bad");
    let (bus, seen) = relaying(Arc::new(MemoryDriver::new()), &db, &topic).await;
    db.execute_unprepared(
        "INSERT INTO microcore_outbox (id, topic, envelope, created_at) VALUES ('bad-1', 'x', '{not json', 0)",
    )
    .await
    .unwrap();
    commit_one(&db, &bus, &topic, 1).await;
    wait_for("the good event after the bad row", 10, || seen.count() == 1).await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.backend(),
            "SELECT error FROM microcore_outbox WHERE id = 'bad-1'",
        ))
        .await
        .unwrap()
        .expect("the malformed row is kept");
    let error: String = row.try_get("", "error").unwrap();
    assert!(
        error.contains("not a valid event envelope"),
        "the reason is recorded: {error}"
    );
    bus.shutdown().await;
}

async fn an_empty_topic_is_refused_before_anything_is_written(test: TestDb) {
    let db = open(&test).await;
    let bus = EventBus::memory();
    let err = db
        .transaction(async |txn| {
            bus.publish_in(txn, " ", &json!({})).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.message(), "cannot publish to an empty topic name");
    assert_eq!(outbox_rows(&db).await, 0);
}

async fn without_the_outbox_table_the_error_says_how_to_create_it(test: TestDb) {
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    let bus = EventBus::memory();
    let err = db
        .transaction(async |txn| {
            bus.publish_in(txn, "t", &json!({})).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(
        err.message()
            .contains("the table microcore_outbox is missing")
            && err.message().contains("migrate up"),
        "{}",
        err.message()
    );
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_rollback_publishes_nothing_and_a_commit_publishes_once,
    events_go_out_in_commit_order_with_their_causal_ids,
    a_malformed_row_is_set_aside_with_its_reason,
    an_empty_topic_is_refused_before_anything_is_written,
    without_the_outbox_table_the_error_says_how_to_create_it,
    events_written_while_nats_is_cut_go_out_once_it_is_back,
    a_process_killed_between_commit_and_publish_loses_nothing,
);

/// A broker driver (NATS, or Redis) on a private prefix through `url`.
async fn nats_bus(url: &str, prefix: &str) -> Arc<dyn Driver> {
    let options = DriverOptions {
        prefix: prefix.to_string(),
        ..DriverOptions::default()
    };
    driver::open_with(url, &options).await.unwrap()
}

/// Deletes the streams of `prefix` on the shared server.
async fn delete_prefix(prefix: &str) {
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let js = async_nats::jetstream::new(client);
    let _ = js.delete_stream(prefix).await;
    let _ = js.delete_stream(format!("{prefix}_dead_letters")).await;
}

fn nats_prefix() -> String {
    format!(
        "mctest_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

async fn events_written_while_nats_is_cut_go_out_once_it_is_back(test: TestDb) {
    let db = open(&test).await;
    let prefix = nats_prefix();
    let proxy = Proxy::start("127.0.0.1:4222").await;
    let url = format!("nats://127.0.0.1:{}", proxy.port);
    let topic = topic("cut.created");
    let (bus, seen) = relaying(nats_bus(&url, &prefix).await, &db, &topic).await;

    commit_one(&db, &bus, &topic, 0).await;
    wait_for("the event before the cut", 10, || seen.count() == 1).await;

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    for n in 1..=5 {
        commit_one(&db, &bus, &topic, n).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "commits do not wait for the broker: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(seen.count(), 1, "nothing goes out while NATS is cut");
    assert_eq!(outbox_rows(&db).await, 5, "the events wait in the outbox");

    proxy.restore();
    wait_for("the five events after the restore", 30, || {
        seen.count() >= 6
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ns: Vec<i64> = seen
        .payloads()
        .iter()
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [0, 1, 2, 3, 4, 5], "each once, in order");
    assert_eq!(outbox_rows(&db).await, 0);
    bus.shutdown().await;
    delete_prefix(&prefix).await;
}

/// Set in the child's environment: the database URL.
const CHILD_ENV: &str = "MICROCORE_OUTBOX_CRASH_CHILD";

/// A driver whose publish never ends: the relay is stuck between the
/// commit and the broker when the child is killed.
#[derive(Debug)]
struct Stuck;

impl Driver for Stuck {
    fn backend(&self) -> &'static str {
        "stuck"
    }
    fn guarantee(&self) -> Guarantee {
        Guarantee::AtLeastOnce
    }
    fn publish<'a>(&'a self, _: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        Box::pin(futures::future::pending())
    }
    fn consume<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        Box::pin(async { Err(Error::internal("the stuck driver delivers nothing")) })
    }
    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Err(Error::not_found(format!("no dead letter {id}"))) })
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The child: commits three events on a bus whose publishes never end,
/// says so, and waits to be killed.
#[test]
fn crash_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let db = Db::connect(&DbSettings::for_url(&url)).await.unwrap();
            let bus = EventBus::from_driver(Arc::new(Stuck), BusOptions::default());
            bus.relay_outbox(&db);
            for n in 0..3 {
                commit_one(&db, &bus, "crash.created", n).await;
            }
            println!("committed");
            tokio::time::sleep(Duration::from_secs(600)).await;
        });
}

async fn a_process_killed_between_commit_and_publish_loses_nothing(test: TestDb) {
    let db = open(&test).await;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &test.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let said = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
            .any(|line| line.contains("committed"))
    });
    let said = tokio::time::timeout(Duration::from_secs(60), said)
        .await
        .expect("the child commits within 60 s")
        .unwrap();
    assert!(said, "the child committed its events");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(outbox_rows(&db).await, 3, "committed, never published");

    // The next boot publishes them, in order.
    let (bus, seen) = relaying(Arc::new(MemoryDriver::new()), &db, "crash.created").await;
    wait_for("the events the killed process left", 10, || {
        seen.count() >= 3
    })
    .await;
    assert_eq!(
        seen.payloads(),
        [json!({"n": 0}), json!({"n": 1}), json!({"n": 2})]
    );
    bus.shutdown().await;
}

/// Two replicas (two buses, two relays) on one PostgreSQL database, on one
/// broker: every event once, and in the order of the commits of one writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_on_one_postgres_publish_each_event_once() {
    let test = TestDb::postgres().await;
    let (db_a, db_b) = (open(&test).await, open(&test).await);
    let topic = topic("replicated");
    let broker: Arc<dyn Driver> = Arc::new(MemoryDriver::new());
    let (bus_a, seen) = relaying(broker.clone(), &db_a, &topic).await;
    let bus_b = EventBus::from_driver(broker, BusOptions::default());
    bus_b.relay_outbox(&db_b);

    let writers = [(&db_a, &bus_a, 0), (&db_b, &bus_b, 1000)].map(|(db, bus, base)| {
        let (db, bus, topic) = (db.clone(), bus.clone(), topic.clone());
        tokio::spawn(async move {
            for n in base..base + 100 {
                commit_one(&db, &bus, &topic, n).await;
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    wait_for("200 events", 30, || seen.count() >= 200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut by_n: BTreeMap<i64, usize> = BTreeMap::new();
    for p in seen.payloads() {
        *by_n.entry(p["n"].as_i64().unwrap()).or_default() += 1;
    }
    assert_eq!(by_n.len(), 200);
    assert!(by_n.values().all(|&c| c == 1), "none twice");
    for base in [0, 1000] {
        let of_writer: Vec<i64> = seen
            .payloads()
            .iter()
            .map(|p| p["n"].as_i64().unwrap())
            .filter(|n| (base..base + 100).contains(n))
            .collect();
        assert_eq!(of_writer, (base..base + 100).collect::<Vec<_>>());
    }
    bus_a.shutdown().await;
    bus_b.shutdown().await;
}

/// Writes `envelope` to the outbox as `publish_in` would, with no wake-up.
async fn insert_row(db: &Db, envelope: &Envelope) {
    db.execute_raw(Statement::from_sql_and_values(
        db.backend(),
        "INSERT INTO microcore_outbox (id, topic, envelope, created_at) VALUES (?, ?, ?, 0)",
        [
            envelope.id.as_str().into(),
            envelope.event.as_str().into(),
            serde_json::to_string(envelope).unwrap().into(),
        ],
    ))
    .await
    .unwrap();
}

/// A relay that published a row and died before deleting it publishes it
/// again at its next pass: the broker drops the repeat (same event id), so
/// the subscriber sees it once.
async fn a_republished_row_reaches_subscribers_once(driver: Arc<dyn Driver>) {
    let test = TestDb::sqlite().await;
    let db = open(&test).await;
    let topic = topic("again");
    let (bus, seen) = relaying(driver, &db, &topic).await;
    let event = Envelope::new(topic.as_str(), json!({"n": "once"}), "tests");
    for _ in 0..2 {
        insert_row(&db, &event).await;
        let before = seen.count();
        commit_one(&db, &bus, &topic, 0).await; // wakes the relay
        wait_for("the marker after the row", 10, || {
            seen.payloads()[before..].contains(&json!({"n": 0}))
        })
        .await;
    }
    let copies = seen
        .payloads()
        .iter()
        .filter(|p| **p == json!({"n": "once"}))
        .count();
    assert_eq!(copies, 1, "the repeat is dropped by the broker");
    assert_eq!(outbox_rows(&db).await, 0);
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_nats_a_republished_row_reaches_subscribers_once() {
    let prefix = nats_prefix();
    a_republished_row_reaches_subscribers_once(nats_bus("nats://127.0.0.1:4222", &prefix).await)
        .await;
    delete_prefix(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_a_republished_row_reaches_subscribers_once() {
    let prefix = nats_prefix();
    a_republished_row_reaches_subscribers_once(nats_bus("redis://127.0.0.1:6379", &prefix).await)
        .await;
    microcore_test_support::redis_keys::clear_prefix(&prefix).await;
}
