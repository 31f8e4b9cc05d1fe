//! Scenarios every broker driver passes, beyond the conformance suite:
//! what replicas sharing a broker rely on.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use microcore::{ErrorKind, ToolHandle};
use serde_json::json;

use super::Broker;
use super::logs::Logs;
use super::proxy::Proxy;
use crate::conformance::{Probe, quick, topic, wait_for, wait_for_dead_letters};

/// A subscription that stops (unsubscribe, drain, a plugin withdrawn)
/// hands back what it had taken but not handled: another replica of its
/// group gets it at once, not after `claim_after` (a minute here).
pub async fn a_stopped_consumer_hands_back_what_it_held<B: Broker>(h: &B) {
    let claim_after = Duration::from_secs(60);
    let first = h
        .bus(&B::url(), claim_after, quick(5))
        .await
        .for_owner("tests.A");
    let second = h
        .bus(&B::url(), claim_after, quick(5))
        .await
        .for_owner("tests.B");
    let t = topic("handover");
    let (a, b) = (Probe::new(), Probe::new());
    a.hold.store(true, Ordering::SeqCst);
    let sub = first
        .subscribe(&t, &a, Probe::record)
        .group("workers")
        .await
        .unwrap();
    for n in 0..20 {
        first.publish(&t, &json!({"n": n})).await.unwrap();
    }
    wait_for("the first replica to be handling one event", || {
        a.calls() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    second
        .subscribe(&t, &b, Probe::record)
        .group("workers")
        .await
        .unwrap();
    let stopping = tokio::spawn({
        let (first, sub) = (first.clone(), sub.clone());
        async move { first.unsubscribe(&sub).await }
    });
    a.release();
    stopping.await.unwrap();
    wait_for("the second replica to get the 19 others", || {
        b.handled() == 19
    })
    .await;
    let ns: BTreeSet<i64> = a
        .payloads()
        .iter()
        .chain(b.payloads().iter())
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, (0..20).collect(), "each event once in the group");
    assert_eq!(a.handled() + b.handled(), 20);
}

/// Dead letters live in the broker: a replica that never saw the failure
/// lists them and replays one into the group, where any replica handles it.
pub async fn dead_letters_are_shared_by_replicas<B: Broker>(h: &B) {
    let claim_after = Duration::from_secs(30);
    let failing_replica = h
        .bus(&B::url(), claim_after, quick(2))
        .await
        .for_owner("tests.Billing");
    let t = topic("invoices");
    let failing = Probe::new();
    failing.always_fail.store(true, Ordering::SeqCst);
    failing_replica
        .subscribe(&t, &failing, Probe::record)
        .group("billing")
        .await
        .unwrap();
    let id = failing_replica.publish(&t, &json!({"n": 1})).await.unwrap();
    wait_for_dead_letters(&failing_replica, 1).await;
    failing_replica.shutdown().await;

    let other = h
        .bus(&B::url(), claim_after, quick(2))
        .await
        .for_owner("tests.Billing");
    let letters = other.dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].envelope.id, id);
    assert_eq!(letters[0].group, "billing");
    assert_eq!(letters[0].attempts, 2);
    assert!(letters[0].reason.contains("boom"), "{}", letters[0].reason);
    let working = Probe::new();
    other
        .subscribe(&t, &working, Probe::record)
        .group("billing")
        .await
        .unwrap();
    let (bystander, bystander_bus) = (Probe::new(), other.for_owner("tests.Audit"));
    bystander_bus
        .subscribe(&t, &bystander, Probe::record)
        .await
        .unwrap();
    other.replay(&letters[0].id).await.unwrap();
    wait_for("the replayed event", || working.handled() == 1).await;
    assert_eq!(working.envelopes()[0].id, id);
    assert_eq!(working.attempts(), vec![1], "a replay starts over");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bystander.calls(), 0, "a replay goes to its group only");
    assert!(other.dead_letters().await.unwrap().is_empty());
    let again = other.replay(&letters[0].id).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::NotFound);
}

/// The connection to the broker drops while the app serves: clear log
/// lines, every publish meanwhile fails with a 503 (none is lost after
/// saying yes), and everything works again once it is back, with no
/// restart.
pub async fn connection_loss_fails_publishes_then_recovers<B: Broker>(h: &B) {
    let logs = Logs::capture();
    let proxy = Proxy::start(B::ADDR).await;
    let url = format!("{}://127.0.0.1:{}", B::SCHEME, proxy.port);
    let bus = h
        .bus(&url, Duration::from_secs(1), quick(5))
        .await
        .for_owner("tests.Probe");
    let t = topic("flaky.link");
    let probe = Probe::new();
    bus.subscribe(&t, &probe, Probe::record).await.unwrap();
    let mut accepted = BTreeSet::new();
    for n in 0..10 {
        bus.publish(&t, &json!({"n": n})).await.unwrap();
        accepted.insert(n);
    }
    wait_for("the events before the cut", || probe.handled() == 10).await;
    bus.ping().await.unwrap();

    proxy.cut();
    let mut refused = 0;
    for n in 10..30 {
        let outcome =
            tokio::time::timeout(Duration::from_secs(20), bus.publish(&t, &json!({"n": n})))
                .await
                .expect("a publish while the broker is unreachable fails, it never hangs");
        match outcome {
            Ok(_) => {
                accepted.insert(n);
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{}", e.chain());
                refused += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused >= 15,
        "publishes fail while cut: only {refused} of 20 did"
    );
    assert_eq!(bus.ping().await.unwrap_err().kind(), ErrorKind::Unavailable);
    let lost_line = match B::SCHEME {
        "nats" => "lost the connection to NATS".to_string(),
        scheme => format!("cannot fetch events from the {scheme} backend"),
    };
    wait_for("a log line saying the broker is unreachable", || {
        logs.contains(&lost_line)
    })
    .await;

    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut n = 30;
    loop {
        match bus.publish(&t, &json!({"n": n})).await {
            Ok(_) => {
                accepted.insert(n);
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{}", e.chain());
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the bus never recovered after the broker came back: {}",
                    e.chain()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        n += 1;
    }
    for m in n + 1..n + 11 {
        bus.publish(&t, &json!({"n": m})).await.unwrap();
        accepted.insert(m);
    }
    probe::wait_long_for("every accepted event handled", || {
        let handled: BTreeSet<i64> = probe
            .payloads()
            .iter()
            .map(|p| p["n"].as_i64().unwrap())
            .collect();
        accepted.is_subset(&handled)
    })
    .await;
    bus.ping().await.unwrap();
    // NATS logs each (re)connection; Redis's consumers say when events
    // come again.
    let (back_line, times) = match B::SCHEME {
        "nats" => (format!("connected to NATS at {url}"), 2),
        _ => ("receiving events again".to_string(), 1),
    };
    wait_for("a log line saying it is back", || {
        logs.count(&back_line) >= times
    })
    .await;
    eprintln!(
        "{refused} publishes refused while cut; {} accepted, all handled",
        accepted.len()
    );
}

mod probe {
    use std::time::Duration;

    /// Waits up to 60 s (a claim timeout and a reconnection backoff may
    /// both be in the way).
    pub async fn wait_long_for(what: &str, done: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after 60 s waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
