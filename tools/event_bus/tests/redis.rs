//! The conformance suite on Redis Streams (`redis://`, the shared server on
//! 127.0.0.1:6379), plus what only a driver shared by replicas promises:
//! each event once per group across processes, nothing lost when one is
//! killed, and recovery after the connection drops.

mod brokers;
mod conformance;

use std::sync::Arc;
use std::time::Duration;

use microcore_event_bus::driver::{Driver, RedisDriver};
use microcore_event_bus::{BusOptions, DriverOptions, EventBus, Guarantee};

use brokers::{Opened, REDIS_URL};

brokers::broker_harness!(
    Redis,
    RedisDriver,
    REDIS_URL,
    "127.0.0.1:6379",
    "redis",
    delete_redis_prefix
);

mod streams {
    use std::time::Duration;

    use microcore::ErrorKind;
    use microcore_event_bus::{BusOptions, DriverOptions, EventBus};
    use serde_json::json;

    use super::Redis;
    use crate::brokers::{Broker, REDIS_URL, redis_keys};
    use crate::conformance::{Harness, Probe, quick, topic, wait_for};

    fn xlen(key: &str) -> usize {
        let mut conn = redis::Client::open(REDIS_URL)
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("XLEN").arg(key).query(&mut conn).unwrap()
    }

    /// Acknowledged entries do not pile up: once every group is past
    /// them, the stream is trimmed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn streams_are_trimmed_once_every_group_is_done() {
        let h = Redis::new().await;
        let bus = h.bus(REDIS_URL, Duration::from_millis(300), quick(5)).await;
        let t = topic("trimmed");
        let (a, b) = (Probe::new(), Probe::new());
        bus.subscribe(&t, &a, Probe::record).await.unwrap();
        bus.subscribe(&t, &b, Probe::record_too).await.unwrap();
        for n in 0..1000 {
            bus.publish(&t, &json!({"n": n})).await.unwrap();
        }
        wait_for("both groups done", || {
            a.handled() == 1000 && b.handled() == 1000
        })
        .await;
        let key = format!("{}:topic:{t}", h.prefix);
        wait_for("the stream trimmed", || xlen(&key) < 200).await;
    }

    /// A stream deleted under a running consumer (a flush, a restart
    /// without persistence) is recreated, and events flow again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_group_deleted_from_redis_is_created_again() {
        let h = Redis::new().await;
        let bus = h.open(quick(5)).await;
        let t = topic("flushed");
        let probe = Probe::new();
        bus.subscribe(&t, &probe, Probe::record).await.unwrap();
        bus.publish(&t, &json!({"n": 1})).await.unwrap();
        wait_for("the first event", || probe.handled() == 1).await;
        let mut conn = redis::Client::open(REDIS_URL)
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = redis::cmd("DEL")
            .arg(format!("{}:topic:{t}", h.prefix))
            .query(&mut conn)
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut n = 2;
        while probe.handled() < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "events never flowed again"
            );
            bus.publish(&t, &json!({"n": n})).await.unwrap();
            n += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// An event whose handler kills its process every time (here: claimed
    /// 20 times by consumers that vanished) is given up as a dead letter
    /// once a live consumer takes it over, without running the handler
    /// again: no crash loop.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_event_that_keeps_killing_its_consumer_becomes_a_dead_letter() {
        let h = Redis::new().await;
        let t = topic("poison");
        let key = format!("{}:topic:{t}", h.prefix);
        let envelope = microcore_event_bus::Envelope::new(t.as_str(), json!({"n": 1}), "app");
        let mut conn = redis::Client::open(REDIS_URL)
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&key)
            .arg("g")
            .arg("$")
            .arg("MKSTREAM")
            .query(&mut conn)
            .unwrap();
        let id: String = redis::cmd("XADD")
            .arg(&key)
            .arg("*")
            .arg("envelope")
            .arg(serde_json::to_string(&envelope).unwrap())
            .query(&mut conn)
            .unwrap();
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("g")
            .arg("ghost")
            .arg("STREAMS")
            .arg(&key)
            .arg(">")
            .query(&mut conn)
            .unwrap();
        let _: redis::Value = redis::cmd("XCLAIM")
            .arg(&key)
            .arg("g")
            .arg("ghost")
            .arg(0)
            .arg(&id)
            .arg("IDLE")
            .arg(3_600_000)
            .arg("RETRYCOUNT")
            .arg(20)
            .query(&mut conn)
            .unwrap();

        let bus = h.bus(REDIS_URL, Duration::from_secs(1), quick(3)).await;
        let probe = Probe::new();
        bus.subscribe(&t, &probe, Probe::record)
            .group("g")
            .await
            .unwrap();
        let letters = crate::conformance::wait_for_dead_letters(&bus, 1).await;
        assert_eq!(letters[0].envelope.id, envelope.id);
        assert_eq!(letters[0].attempts, 21);
        assert!(
            letters[0].reason.contains("with no outcome"),
            "{}",
            letters[0].reason
        );
        assert_eq!(probe.calls(), 0, "the handler is not run again");
    }

    /// A reply inbox is this process's: removed when the bus closes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn reply_inboxes_are_removed_at_close() {
        let h = Redis::new().await;
        let bus = h.open(quick(5)).await;
        let t = topic("sum");
        bus.respond(&t, &Probe::new(), Probe::add).await.unwrap();
        let sum: i64 = bus
            .request(&t, &json!({"a": 1, "b": 2}), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(sum, 3);
        let inbox = |keys: Vec<String>| keys.iter().any(|k| k.contains(":topic:_inbox."));
        assert!(inbox(redis_keys(&h.prefix)));
        bus.shutdown().await;
        assert!(!inbox(redis_keys(&h.prefix)), "{:?}", redis_keys(&h.prefix));
    }

    #[tokio::test]
    async fn bad_urls_and_prefixes_are_configuration_errors() {
        let e = EventBus::connect("redis://:s3cret@127.0.0.1:1", quick(3))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let text = e.to_string();
        assert!(
            text.starts_with("EVENT_BUS_URL='redis://***@127.0.0.1:1' cannot be opened"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");

        let settings = microcore_event_bus::BusSettings {
            url: REDIS_URL.into(),
            options: BusOptions::default(),
            driver: DriverOptions {
                prefix: "a:b".into(),
                ..DriverOptions::default()
            },
        };
        let e = EventBus::open(&settings).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.to_string()
                .starts_with("EVENT_BUS_PREFIX='a:b' is invalid"),
            "{e}"
        );
    }
}
