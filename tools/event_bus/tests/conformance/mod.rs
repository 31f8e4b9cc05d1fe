//! The conformance suite every driver passes, written once.
//!
//! Each test is a generic function over a [`Harness`] (how to open a bus
//! on a fresh, private backend); [`suite!`] instantiates all of them as
//! `#[tokio::test]`s for one driver: `tests/memory.rs` and `tests/sqlite.rs`
//! do, and a new driver adds a file of three lines. Tests isolate
//! themselves (own backend, topics with a random suffix), so they run in
//! parallel, and they wait with generous bounds but never assert timings.

#![allow(dead_code, unreachable_pub)]

pub mod probe;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use microcore::{ErrorKind, ToolHandle};
use microcore_event_bus::{BusOptions, DELIVERY_FAILED, EventBus, Guarantee};
use serde_json::{Value, json};

pub use probe::{Probe, topic, wait_for};

/// How to get a bus on a fresh backend of one driver.
pub trait Harness: Sized + Send + Sync + 'static {
    /// A fresh, private backend (a temp file, a stream with a random name).
    fn new() -> impl Future<Output = Self> + Send;
    /// A bus on this backend; calling it twice gives two processes' view of
    /// the same backend (for durable drivers).
    fn open(&self, options: BusOptions) -> impl Future<Output = EventBus> + Send;
    /// The guarantee the driver promises.
    fn guarantee() -> Guarantee;
}

/// Fast retries, so tests of failure paths finish quickly.
pub fn quick(max_attempts: u32) -> BusOptions {
    BusOptions {
        max_attempts,
        retry_delay: Duration::from_millis(10),
        max_retry_delay: Duration::from_millis(100),
    }
}

async fn bus<H: Harness>(h: &H) -> EventBus {
    h.open(quick(5)).await.for_owner("tests.Probe")
}

/// Instantiates every conformance test for `$harness`.
macro_rules! suite {
    ($harness:ty; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            crate::conformance::$name::<$harness>().await
        }
    )*};
    ($harness:ty) => {
        crate::conformance::suite!($harness;
            guarantee_is_declared,
            order_per_topic,
            order_per_key,
            fan_out_to_every_group,
            once_per_group_with_two_consumers,
            retries_with_backoff_then_success,
            retries_wait_longer_each_time,
            panicking_handler_is_retried,
            dead_letter_after_max_attempts_then_replay,
            delivery_failed_event,
            request_reply,
            request_reply_error_keeps_its_kind,
            request_timeout_is_a_clear_error,
            ttl_expired_events_are_not_delivered,
            causal_ids_chain_through_a_handler,
            undecodable_payload_is_a_dead_letter,
            ten_thousand_events_none_lost,
            topology_tracks_topics,
            drain_waits_for_in_flight_handlers,
            withdraw_stops_a_plugins_subscriptions,
            unsubscribe_stops_delivery,
        );
    };
}
pub(crate) use suite;

pub async fn guarantee_is_declared<H: Harness>() {
    let h = H::new().await;
    assert_eq!(bus(&h).await.guarantee(), H::guarantee());
}

pub async fn order_per_topic<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("order");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    for n in 0..300 {
        bus.publish(&t, &json!({"n": n})).await.unwrap();
    }
    wait_for("300 events", || probe.handled() == 300).await;
    let ns: Vec<i64> = probe
        .payloads()
        .iter()
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ns,
        (0..300).collect::<Vec<_>>(),
        "delivered in publish order"
    );
}

pub async fn order_per_key<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("keyed");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    for n in 0..100 {
        let key = ["a", "b", "c"][n % 3];
        bus.publish(&t, &json!({"key": key, "n": n}))
            .key(key)
            .await
            .unwrap();
    }
    wait_for("100 events", || probe.handled() == 100).await;
    let mut per_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in probe.envelopes() {
        assert_eq!(
            e.key.as_deref(),
            e.payload["key"].as_str(),
            "the key travels"
        );
        per_key
            .entry(e.key.clone().unwrap())
            .or_default()
            .push(e.payload["n"].as_i64().unwrap());
    }
    for (key, ns) in per_key {
        let mut sorted = ns.clone();
        sorted.sort();
        assert_eq!(ns, sorted, "events of key {key} in order");
    }
}

pub async fn fan_out_to_every_group<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("fanout");
    let (a, b) = (Probe::new(), Probe::new());
    let sa = bus.subscribe(&t, &a, Probe::record).await.unwrap();
    let sb = bus.subscribe(&t, &b, Probe::record_too).await.unwrap();
    let sc = bus
        .subscribe(&t, &b, Probe::record)
        .group("custom-group")
        .await
        .unwrap();
    assert_eq!(sa.group(), "tests.Probe.record");
    assert_eq!(sb.group(), "tests.Probe.record_too");
    assert_eq!(sc.group(), "custom-group");
    for n in 0..50 {
        bus.publish(&t, &json!({"n": n})).await.unwrap();
    }
    wait_for("every group gets every event", || {
        a.handled() == 50 && b.handled() == 100
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!((a.handled(), b.handled()), (50, 100), "and nothing more");
}

pub async fn once_per_group_with_two_consumers<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("shared");
    let (one, two) = (Probe::slow(), Probe::slow());
    bus.subscribe(&t, &one, Probe::record)
        .group("workers")
        .await
        .unwrap();
    bus.subscribe(&t, &two, Probe::record)
        .group("workers")
        .await
        .unwrap();
    for n in 0..200 {
        bus.publish(&t, &json!({"n": n})).await.unwrap();
    }
    wait_for("200 events between both", || {
        one.handled() + two.handled() >= 200
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ns: Vec<i64> = one
        .payloads()
        .iter()
        .chain(two.payloads().iter())
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    assert_eq!(
        ns,
        (0..200).collect::<Vec<_>>(),
        "each event handled exactly once in the group"
    );
}

pub async fn retries_with_backoff_then_success<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("flaky");
    let probe = Probe::new();
    probe.fail_below_attempt.store(3, Ordering::SeqCst);
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    for n in 0..5 {
        bus.publish(&t, &json!({"n": n})).await.unwrap();
    }
    wait_for("5 events handled on the 3rd attempt", || {
        probe.handled() == 5
    })
    .await;
    assert!(
        probe.attempts().iter().all(|a| *a == 3),
        "{:?}",
        probe.attempts()
    );
    assert_eq!(probe.calls(), 15, "two failures and one success per event");
    assert!(bus.dead_letters().await.unwrap().is_empty());
}

/// Only lower bounds, which a slow machine cannot break: a driver that
/// ignored the delay would retry at once.
pub async fn retries_wait_longer_each_time<H: Harness>() {
    let h = H::new().await;
    let options = BusOptions {
        max_attempts: 3,
        retry_delay: Duration::from_millis(100),
        max_retry_delay: Duration::from_secs(1),
    };
    let bus = h.open(options).await;
    let t = topic("backoff");
    let probe = Probe::new();
    probe.fail_below_attempt.store(3, Ordering::SeqCst);
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    bus.publish(&t, &json!({})).await.unwrap();
    wait_for("the third attempt", || probe.handled() == 1).await;
    let at = probe.call_times();
    assert_eq!(at.len(), 3);
    assert!(
        at[1] - at[0] >= Duration::from_millis(100),
        "first wait: {:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(200),
        "doubled: {:?}",
        at[2] - at[1]
    );
}

pub async fn panicking_handler_is_retried<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("panics");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::panic_first).await.unwrap();
    bus.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for("handled after a panic", || probe.handled() == 1).await;
    assert_eq!(probe.attempts(), vec![2]);
}

pub async fn dead_letter_after_max_attempts_then_replay<H: Harness>() {
    let h = H::new().await;
    let bus = h.open(quick(3)).await.for_owner("tests.Probe");
    let t = topic("doomed");
    let probe = Probe::new();
    probe.always_fail.store(true, Ordering::SeqCst);
    let sub = bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    let id = bus.publish(&t, &json!({"n": 1})).await.unwrap();
    let letters = wait_for_dead_letters(&bus, 1).await;
    let letter = &letters[0];
    assert_eq!(letter.envelope.id, id);
    assert_eq!(letter.group, sub.group());
    assert_eq!(letter.attempts, 3);
    assert!(letter.reason.contains("boom"), "{}", letter.reason);
    assert_eq!(probe.calls(), 3);

    probe.always_fail.store(false, Ordering::SeqCst);
    bus.replay(&letter.id).await.unwrap();
    wait_for("replayed and handled", || probe.handled() == 1).await;
    assert_eq!(probe.attempts(), vec![1], "a replay starts over");
    assert_eq!(probe.envelopes()[0].id, id, "the same event");
    assert!(bus.dead_letters().await.unwrap().is_empty());
    let again = bus.replay(&letter.id).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::NotFound);
}

pub async fn delivery_failed_event<H: Harness>() {
    let h = H::new().await;
    let bus = h.open(quick(2)).await.for_owner("tests.Probe");
    let t = topic("fails");
    let (probe, failures) = (Probe::new(), Probe::new());
    probe.always_fail.store(true, Ordering::SeqCst);
    let sub = bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    bus.subscribe(DELIVERY_FAILED, &failures, Probe::record)
        .await
        .unwrap();
    let id = bus.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for("event.delivery.failed", || failures.handled() == 1).await;
    let failed = &failures.envelopes()[0];
    assert_eq!(failed.emitter, "event_bus");
    assert_eq!(
        failed.parent_id.as_deref(),
        Some(id.as_str()),
        "caused by the failed event"
    );
    assert_eq!(failed.payload["event"], t.as_str());
    assert_eq!(failed.payload["event_id"], id.as_str());
    assert_eq!(failed.payload["subscriber"], sub.group());
    assert_eq!(failed.payload["attempts"], 2);
    assert!(failed.payload["error"].as_str().unwrap().contains("boom"));
}

pub async fn request_reply<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("math.add");
    let probe = Probe::new();
    bus.respond(&t, &probe, Probe::add).await.unwrap();
    for (a, b) in [(1, 2), (20, 22), (-5, 5)] {
        let sum: i64 = bus
            .request(&t, &json!({"a": a, "b": b}), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(sum, a + b);
    }
}

pub async fn request_reply_error_keeps_its_kind<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("users.find");
    let probe = Probe::new();
    bus.respond(&t, &probe, Probe::add).await.unwrap();
    let e = bus
        .request::<_, i64>(&t, &json!({"a": 1, "b": "x"}), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Validation,
        "an undecodable request: {e}"
    );
    let e = bus
        .request::<_, i64>(&t, &json!({"a": 404, "b": 0}), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.to_string(), "no such sum");
}

pub async fn request_timeout_is_a_clear_error<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("nobody.answers");
    let e = tokio::time::timeout(
        Duration::from_secs(10),
        bus.request::<_, Value>(&t, &json!({}), Duration::from_millis(200)),
    )
    .await
    .expect("the caller is never left hanging")
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains(&t), "names the topic: {e}");
    assert!(e.to_string().contains("timed out"), "{e}");
}

pub async fn ttl_expired_events_are_not_delivered<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("ttl");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    probe.hold.store(true, Ordering::SeqCst);
    bus.publish(&t, &json!({"n": "blocker"})).await.unwrap();
    wait_for("the blocker is being handled", || probe.calls() == 1).await;
    bus.publish(&t, &json!({"n": "short"}))
        .ttl(Duration::from_millis(50))
        .await
        .unwrap();
    bus.publish(&t, &json!({"n": "long"}))
        .ttl(Duration::from_secs(600))
        .await
        .unwrap();
    bus.publish(&t, &json!({"n": "forever"})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    probe.release();
    wait_for("the events after it", || probe.handled() == 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ns: Vec<Value> = probe.payloads().iter().map(|p| p["n"].clone()).collect();
    assert_eq!(ns, vec![json!("blocker"), json!("long"), json!("forever")]);
}

pub async fn causal_ids_chain_through_a_handler<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let (first, second) = (topic("chain.first"), topic("chain.second"));
    let relay = Probe::relaying(bus.for_owner("tests.Relay"), &second);
    let end = Probe::new();
    bus.subscribe(&first, &relay, Probe::relay).await.unwrap();
    bus.subscribe(&second, &end, Probe::record).await.unwrap();

    let root = microcore_trace::cause::scope("request-R".into(), async {
        bus.publish(&first, &json!({"step": 1})).await.unwrap()
    })
    .await;
    wait_for("the relayed event", || end.handled() == 1).await;
    let second_event = &end.envelopes()[0];
    assert_eq!(second_event.parent_id.as_deref(), Some(root.as_str()));
    assert_eq!(second_event.correlation_id, "request-R");
    assert_eq!(second_event.emitter, "tests.Relay");
    let first_event = &relay.envelopes()[0];
    assert_eq!(first_event.parent_id.as_deref(), Some("request-R"));
    assert_eq!(first_event.correlation_id, "request-R");
    assert_eq!(first_event.emitter, "tests.Probe");

    let lone = bus.publish(&first, &json!({"step": 1})).await.unwrap();
    wait_for("the second relay", || end.handled() == 2).await;
    let lone_second = &end.envelopes()[1];
    assert_eq!(lone_second.parent_id.as_deref(), Some(lone.as_str()));
    assert_eq!(
        lone_second.correlation_id,
        lone.as_str(),
        "a root is its own correlation"
    );
}

#[derive(Debug, serde::Deserialize)]
pub struct Typed {
    pub id: i64,
}

pub async fn undecodable_payload_is_a_dead_letter<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("typed");
    let probe = Probe::new();
    let sub = bus.subscribe(&t, &probe, Probe::typed).await.unwrap();
    let bad = bus
        .publish(&t, &json!({"id": "not a number"}))
        .await
        .unwrap();
    bus.publish(&t, &json!({"id": 7})).await.unwrap();
    wait_for("the good event", || probe.handled() == 1).await;
    let letters = wait_for_dead_letters(&bus, 1).await;
    assert_eq!(letters[0].envelope.id, bad);
    assert_eq!(letters[0].group, sub.group());
    assert_eq!(letters[0].attempts, 1, "decoding is not retried");
    assert!(
        letters[0].reason.contains("does not decode into"),
        "{}",
        letters[0].reason
    );
    assert!(
        letters[0].reason.contains("Typed"),
        "names the type: {}",
        letters[0].reason
    );
    assert_eq!(probe.payloads(), vec![json!({"id": 7})]);
}

pub async fn ten_thousand_events_none_lost<H: Harness>() {
    const N: usize = 10_000;
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("bulk");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::count).await.unwrap();
    let mut ids = HashSet::new();
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let sends = chunk.iter().map(|n| {
            let (bus, t) = (&bus, &t);
            async move { bus.publish(t, &json!({"n": n})).await.unwrap() }
        });
        ids.extend(futures::future::join_all(sends).await);
    }
    assert_eq!(ids.len(), N, "every publish has its own id");
    probe::wait_long("10,000 events", || probe.counted() >= N).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = probe.seen_ids();
    assert_eq!(seen.len(), N, "each event handled");
    assert_eq!(seen, ids, "none lost");
}

pub async fn topology_tracks_topics<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("topo");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    bus.publish(&t, &json!({})).await.unwrap();
    bus.for_owner("tests.Other")
        .publish(&t, &json!({}))
        .await
        .unwrap();
    let info = bus.topology().into_iter().find(|i| i.event == t).unwrap();
    assert_eq!(info.subscribers, vec!["tests.Probe.record".to_string()]);
    assert_eq!(
        info.last_emitters,
        vec!["tests.Other".to_string(), "tests.Probe".to_string()]
    );
    assert_eq!(info.times_fired, 2);
    assert_eq!(bus.recent()[0].emitter, "tests.Other", "newest first");
}

pub async fn drain_waits_for_in_flight_handlers<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("drain");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    probe.hold.store(true, Ordering::SeqCst);
    bus.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for("the handler started", || probe.calls() == 1).await;
    let draining = tokio::spawn({
        let bus = bus.clone();
        async move { bus.drain().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !draining.is_finished(),
        "drain waits for the handler in flight"
    );
    probe.release();
    tokio::time::timeout(Duration::from_secs(10), draining)
        .await
        .expect("drain ends once the handler is done")
        .unwrap();
    assert_eq!(probe.handled(), 1);
    bus.publish(&t, &json!({"n": 2})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(probe.handled(), 1, "no new deliveries after drain");
    let refused = bus.subscribe(&t, &probe, Probe::record).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unavailable);
    bus.shutdown().await;
}

pub async fn withdraw_stops_a_plugins_subscriptions<H: Harness>() {
    let h = H::new().await;
    let base = h.open(quick(5)).await;
    let t = topic("withdraw");
    let (dead, alive) = (Probe::new(), Probe::new());
    base.for_owner("tests.Dead")
        .subscribe(&t, &dead, Probe::record)
        .await
        .unwrap();
    base.for_owner("tests.Alive")
        .subscribe(&t, &alive, Probe::record)
        .await
        .unwrap();
    base.withdraw("tests.Dead");
    tokio::time::sleep(Duration::from_millis(50)).await;
    base.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for("the live plugin's handler", || alive.handled() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(dead.calls(), 0, "the dead plugin's handler never runs");
    let info = base.topology().into_iter().find(|i| i.event == t).unwrap();
    assert_eq!(info.subscribers, vec!["tests.Alive.record".to_string()]);
}

pub async fn unsubscribe_stops_delivery<H: Harness>() {
    let h = H::new().await;
    let bus = bus(&h).await;
    let t = topic("unsub");
    let probe = Probe::new();
    let sub = bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    bus.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for("first event", || probe.handled() == 1).await;
    bus.unsubscribe(&sub).await;
    bus.publish(&t, &json!({"n": 2})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(probe.handled(), 1);
}

/// Waits until the bus holds `n` dead letters.
pub async fn wait_for_dead_letters(
    bus: &EventBus,
    n: usize,
) -> Vec<microcore_event_bus::DeadLetter> {
    for _ in 0..1000 {
        let letters = bus.dead_letters().await.unwrap();
        if letters.len() >= n {
            return letters;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {n} dead letter(s) within 10 s");
}
