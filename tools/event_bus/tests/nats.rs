//! The conformance suite on NATS JetStream (`nats://`, the shared server on
//! 127.0.0.1:4222), plus what only a driver shared by replicas promises:
//! each event once per group across processes, nothing lost when one is
//! killed, and recovery after the connection drops.

mod brokers;
mod conformance;

use std::sync::Arc;
use std::time::Duration;

use microcore_event_bus::driver::{Driver, NatsDriver};
use microcore_event_bus::{BusOptions, DriverOptions, EventBus, Guarantee};

use brokers::{NATS_URL, Opened};

brokers::broker_harness!(
    Nats,
    NatsDriver,
    NATS_URL,
    "127.0.0.1:4222",
    "nats",
    delete_nats_prefix
);

mod jetstream {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use microcore::ErrorKind;
    use microcore_event_bus::{BusOptions, DriverOptions, EventBus};
    use serde_json::json;

    use super::Nats;
    use crate::brokers::{Broker, NATS_URL, nats_stream_exists};
    use crate::conformance::{Harness, Probe, quick, wait_for};

    /// Topics and groups that are not valid NATS subjects or consumer
    /// names still work, and stay apart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn any_topic_and_group_name_works() {
        let h = Nats::new().await;
        let bus = h.open(quick(5)).await;
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let (odd, plain) = (
            format!("odd topic * > {suffix}"),
            format!("odd_topic.{suffix}"),
        );
        let (a, b, c) = (Probe::new(), Probe::new(), Probe::new());
        bus.subscribe(&odd, &a, Probe::record)
            .group("a group.with *>")
            .await
            .unwrap();
        bus.subscribe(&odd, &b, Probe::record)
            .group("a_group_with__")
            .await
            .unwrap();
        bus.subscribe(&plain, &c, Probe::record)
            .group("a group.with *>")
            .await
            .unwrap();
        for n in 0..5 {
            bus.publish(&odd, &json!({"n": n})).await.unwrap();
        }
        bus.publish(&plain, &json!({"n": 99})).await.unwrap();
        wait_for("each group of each topic", || {
            a.handled() == 5 && b.handled() == 5 && c.handled() == 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ns: BTreeSet<i64> = a
            .payloads()
            .iter()
            .map(|p| p["n"].as_i64().unwrap())
            .collect();
        assert_eq!(ns, (0..5).collect());
        assert_eq!((a.handled(), b.handled(), c.handled()), (5, 5, 1));
    }

    /// A durable consumer made with another `EVENT_BUS_CLAIM_AFTER` (an
    /// earlier release) takes the new one at the next subscribe.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_redelivery_timeout_follows_the_setting() {
        let h = Nats::new().await;
        let t = format!("claims.{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let probe = Probe::new();
        let before = h.bus(NATS_URL, Duration::from_secs(30), quick(5)).await;
        before
            .subscribe(&t, &probe, Probe::record)
            .group("g")
            .await
            .unwrap();
        before.shutdown().await;
        let after = h.bus(NATS_URL, Duration::from_secs(3), quick(5)).await;
        after
            .subscribe(&t, &probe, Probe::record)
            .group("g")
            .await
            .unwrap();
        let js = async_nats::jetstream::new(async_nats::connect(NATS_URL).await.unwrap());
        let stream = js.get_stream(&h.prefix).await.unwrap();
        let mut names = stream.consumer_names();
        let name = futures::StreamExt::next(&mut names).await.unwrap().unwrap();
        let info = stream.consumer_info(&name).await.unwrap();
        assert_eq!(info.config.ack_wait, Duration::from_secs(3));
    }

    /// The streams are created on demand, named after the prefix.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn streams_are_created_on_demand_per_prefix() {
        let h = Nats::new().await;
        assert!(!nats_stream_exists(&h.prefix).await);
        let _bus = h.open(quick(5)).await;
        assert!(nats_stream_exists(&h.prefix).await);
        assert!(nats_stream_exists(&format!("{}_dead_letters", h.prefix)).await);
    }

    #[tokio::test]
    async fn bad_urls_and_prefixes_are_configuration_errors() {
        let e = EventBus::connect("nats://user:s3cret@127.0.0.1:1", quick(3))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let text = e.to_string();
        assert!(
            text.starts_with("EVENT_BUS_URL='nats://***@127.0.0.1:1' cannot be opened"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");

        let settings = microcore_event_bus::BusSettings {
            url: NATS_URL.into(),
            options: BusOptions::default(),
            driver: DriverOptions {
                prefix: "my.app".into(),
                ..DriverOptions::default()
            },
        };
        let e = EventBus::open(&settings).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.to_string()
                .starts_with("EVENT_BUS_PREFIX='my.app' is invalid"),
            "{e}"
        );
    }
}
