//! The tool in a booted app: `EVENT_BUS_URL` picks the driver, plugins
//! subscribe in `on_boot`, a plugin that dies at boot has its
//! subscriptions withdrawn, and shutdown drains.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use microcore::prelude::*;
use microcore_calls as _;
use microcore_config as _;
use microcore_event_bus::{Event, EventBus};
use serde_json::{Value, json};

/// Answers every `hello` with `hello.answered`.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Greeter {
    bus: EventBus,
}

impl Plugin for Greeter {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.subscribe("hello", &self, Self::on_hello).await?;
        Ok(())
    }
}

impl Greeter {
    async fn on_hello(self: Arc<Self>, event: Event<Value>) -> Result<()> {
        self.bus.publish("hello.answered", &event.payload).await?;
        Ok(())
    }
}

static BROKEN_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Subscribes, then fails its boot: its subscription must not survive.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Broken {
    bus: EventBus,
}

impl Plugin for Broken {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.subscribe("hello", &self, Self::on_hello).await?;
        Err(Error::internal("broken on purpose"))
    }
}

impl Broken {
    async fn on_hello(self: Arc<Self>, _: Event<Value>) -> Result<()> {
        BROKEN_CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn say_hello(running: &microcore::Running) {
    let bus = running
        .handle::<EventBus>()
        .expect("the event_bus tool is set up");
    let mut watch = bus.watch();
    let id = bus.publish("hello", &json!({"name": "Ada"})).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = watch.recv().await.unwrap();
            if e.event == "hello.answered" {
                break e;
            }
        }
    })
    .await
    .expect("the greeter answers");
    assert_eq!(answer.emitter, "tests.Greeter");
    assert_eq!(answer.parent_id.as_deref(), Some(id.as_str()));
    assert_eq!(answer.payload, json!({"name": "Ada"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boots_on_memory_by_default_and_withdraws_dead_plugins() {
    let running = microcore::App::linked().boot().await.unwrap();
    let bus = running.handle::<EventBus>().unwrap();
    assert_eq!(bus.backend(), "memory");
    assert_eq!(
        running.registry().plugin("tests.Broken").unwrap().status,
        microcore::registry::PluginStatus::Dead
    );
    say_hello(&running).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        BROKEN_CALLS.load(Ordering::SeqCst),
        0,
        "a dead plugin's handler never runs"
    );
    let hello = bus
        .topology()
        .into_iter()
        .find(|t| t.event == "hello")
        .unwrap();
    assert_eq!(
        hello.subscribers,
        vec!["tests.Greeter.on_hello".to_string()]
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_url_picks_the_durable_driver_with_plugins_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bus.db").display());
    let running = microcore::App::linked()
        .with_var("EVENT_BUS_URL", url)
        .boot()
        .await
        .unwrap();
    assert_eq!(running.handle::<EventBus>().unwrap().backend(), "sqlite");
    say_hello(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn an_invalid_url_stops_the_boot_naming_the_variable_without_secrets() {
    let e = microcore::App::linked()
        .with_var("EVENT_BUS_URL", "kafka://user:s3cret@broker:9092")
        .boot()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("EVENT_BUS_URL='kafka://***@broker:9092' is invalid"),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");
}

#[tokio::test]
async fn invalid_retry_settings_stop_the_boot() {
    let e = microcore::App::linked()
        .with_var("EVENT_BUS_MAX_ATTEMPTS", "zero")
        .boot()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("EVENT_BUS_MAX_ATTEMPTS='zero' is invalid"),
        "{e}"
    );
}

/// The broker drivers boot from the same variables, plugins unchanged;
/// the test's own prefix is deleted afterwards.
mod brokers {
    use super::*;

    fn prefix() -> String {
        format!(
            "mctest_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_url_picks_redis_streams_with_plugins_unchanged() {
        let prefix = prefix();
        let running = microcore::App::linked()
            .with_var("EVENT_BUS_URL", "redis://127.0.0.1:6379")
            .with_var("EVENT_BUS_PREFIX", &prefix)
            .boot()
            .await
            .unwrap();
        assert_eq!(running.handle::<EventBus>().unwrap().backend(), "redis");
        say_hello(&running).await;
        running.shutdown().await;
        let mut conn = redis::Client::open("redis://127.0.0.1:6379")
            .unwrap()
            .get_connection()
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query(&mut conn)
            .unwrap();
        assert!(
            keys.contains(&format!("{prefix}:topic:hello")),
            "the topic's stream: {keys:?}"
        );
        let _: () = redis::cmd("DEL").arg(keys).query(&mut conn).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nats_url_picks_jetstream_with_plugins_unchanged() {
        let prefix = prefix();
        let running = microcore::App::linked()
            .with_var("EVENT_BUS_URL", "nats://127.0.0.1:4222")
            .with_var("EVENT_BUS_PREFIX", &prefix)
            .boot()
            .await
            .unwrap();
        assert_eq!(running.handle::<EventBus>().unwrap().backend(), "nats");
        say_hello(&running).await;
        running.shutdown().await;
        let js = async_nats::jetstream::new(async_nats::connect("127.0.0.1:4222").await.unwrap());
        js.delete_stream(&prefix).await.unwrap();
        js.delete_stream(format!("{prefix}_dead_letters"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_invalid_prefix_stops_the_boot_naming_the_variable() {
        let e = microcore::App::linked()
            .with_var("EVENT_BUS_URL", "redis://127.0.0.1:6379")
            .with_var("EVENT_BUS_PREFIX", "my app")
            .boot()
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("EVENT_BUS_PREFIX='my app' is invalid"), "{e}");
    }
}
