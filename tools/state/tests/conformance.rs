//! One suite, two backends: every case in `suite` runs against the memory
//! driver and against the real Redis at 127.0.0.1:6379, so the backends
//! cannot drift apart. Each run gets its own random `STATE_PREFIX`; the
//! Redis runs delete every key under it when they end, even on failure.

use std::collections::BTreeSet;
use std::time::Duration;

use microcore_state::{State, StateSettings, StateUrl};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How long a test waits for something that should happen within a second
/// or so: generous, since a loaded machine is slow, and never asserted.
const PATIENCE: Duration = Duration::from_secs(5);

fn random_prefix() -> String {
    format!("microcore-test:{}:", uuid::Uuid::new_v4().simple())
}

async fn memory_state() -> State {
    let settings = StateSettings {
        url: StateUrl::Memory,
        prefix: random_prefix(),
        ..StateSettings::default()
    };
    State::connect(&settings).await.unwrap()
}

/// Deletes every Redis key under its prefix when dropped (also when a test
/// panics), over a plain blocking connection since `Drop` cannot await.
struct RedisKeys {
    prefix: String,
}

impl RedisKeys {
    fn remaining(&self) -> Vec<String> {
        use redis::Commands;
        let mut conn = redis::Client::open(REDIS_URL)
            .and_then(|c| c.get_connection())
            .expect("Redis at 127.0.0.1:6379");
        conn.scan_match::<_, String>(format!("{}*", self.prefix))
            .map(|keys| keys.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let keys = self.remaining();
        if keys.is_empty() {
            return;
        }
        if let Ok(mut conn) = redis::Client::open(REDIS_URL).and_then(|c| c.get_connection()) {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

async fn redis_state() -> (State, RedisKeys) {
    let prefix = random_prefix();
    let settings = StateSettings {
        url: StateUrl::parse(REDIS_URL).unwrap(),
        prefix: prefix.clone(),
        ..StateSettings::default()
    };
    let state = State::connect(&settings).await.unwrap();
    (state, RedisKeys { prefix })
}

/// Whether `key` disappears within [`PATIENCE`].
async fn disappears(state: &State, key: &str) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if state.get(key).await.unwrap().is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Runs each listed case of `suite` once per backend.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::suite::$case(super::memory_state().await).await;
                }
            )*
        }
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let (state, keys) = super::redis_state().await;
                    super::suite::$case(state).await;
                    // Each case removes what it made; the guard is the safety net.
                    assert_eq!(keys.remaining(), Vec::<String>::new());
                }
            )*
        }
    };
}

conformance!(
    get_set_delete,
    ttl_expires_keys,
    incr_is_atomic_under_concurrency,
    incr_sets_the_ttl_only_at_creation,
    incr_counts_down_and_from_existing_values,
    incr_on_a_non_integer_is_an_internal_error,
    namespaces_isolate_and_nest,
    json_round_trips,
);

mod suite {
    use super::*;
    use microcore::ErrorKind;
    use serde::{Deserialize, Serialize};

    pub(super) async fn get_set_delete(state: State) {
        assert_eq!(state.get("k").await.unwrap(), None);
        state.set("k", "one", None).await.unwrap();
        assert_eq!(state.get("k").await.unwrap().as_deref(), Some("one"));
        state.set("k", String::from("two"), None).await.unwrap();
        assert_eq!(state.get("k").await.unwrap().as_deref(), Some("two"));
        state.set("empty", "", None).await.unwrap();
        assert_eq!(state.get("empty").await.unwrap().as_deref(), Some(""));
        state.set("unicode ключ ✓", "värde ✓", None).await.unwrap();
        assert_eq!(
            state.get("unicode ключ ✓").await.unwrap().as_deref(),
            Some("värde ✓")
        );

        assert!(state.delete("k").await.unwrap());
        assert!(!state.delete("k").await.unwrap());
        assert_eq!(state.get("k").await.unwrap(), None);
        assert!(!state.delete("never-set").await.unwrap());
        state.ping().await.unwrap();

        for key in ["empty", "unicode ключ ✓"] {
            assert!(state.delete(key).await.unwrap());
        }
    }

    pub(super) async fn ttl_expires_keys(state: State) {
        let second = Some(Duration::from_secs(1));
        state.set("short", "v", second).await.unwrap();
        let left = state.ttl("short").await.unwrap().expect("a TTL");
        assert!(left <= Duration::from_secs(1), "{left:?}");
        assert_eq!(state.get("short").await.unwrap().as_deref(), Some("v"));

        state.set("forever", "v", None).await.unwrap();
        assert_eq!(state.ttl("forever").await.unwrap(), None);
        assert_eq!(state.ttl("missing").await.unwrap(), None);

        // A plain set drops an earlier TTL, as Redis's SET does.
        state.set("kept", "v", second).await.unwrap();
        state.set("kept", "v2", None).await.unwrap();
        assert_eq!(state.ttl("kept").await.unwrap(), None);

        state.set("zero", "v", Some(Duration::ZERO)).await.unwrap();

        assert!(
            disappears(&state, "short").await,
            "a 1 s TTL did not expire"
        );
        assert!(
            disappears(&state, "zero").await,
            "a zero TTL did not expire"
        );
        assert_eq!(state.ttl("short").await.unwrap(), None);
        assert!(
            !state.delete("short").await.unwrap(),
            "an expired key counts as missing"
        );
        assert_eq!(state.get("kept").await.unwrap().as_deref(), Some("v2"));

        for key in ["forever", "kept"] {
            state.delete(key).await.unwrap();
        }
    }

    pub(super) async fn incr_is_atomic_under_concurrency(state: State) {
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let state = state.clone();
                tokio::spawn(
                    async move { state.incr("hits", 1, Some(Duration::from_secs(60))).await },
                )
            })
            .collect();
        let mut seen = BTreeSet::new();
        for task in tasks {
            seen.insert(task.await.unwrap().unwrap());
        }
        // Every increment saw a different value: none was lost or doubled.
        assert_eq!(seen, (1..=200).collect::<BTreeSet<i64>>());
        assert_eq!(state.get("hits").await.unwrap().as_deref(), Some("200"));
        state.delete("hits").await.unwrap();
    }

    pub(super) async fn incr_sets_the_ttl_only_at_creation(state: State) {
        assert_eq!(
            state
                .incr("window", 1, Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            1
        );
        let first = state
            .ttl("window")
            .await
            .unwrap()
            .expect("a TTL at creation");
        assert!(first <= Duration::from_secs(1));

        // A later increment with a longer TTL does not extend the window.
        assert_eq!(
            state
                .incr("window", 1, Some(Duration::from_secs(600)))
                .await
                .unwrap(),
            2
        );
        let second = state.ttl("window").await.unwrap().expect("the TTL is kept");
        assert!(
            second <= Duration::from_secs(1),
            "the window was extended to {second:?}"
        );
        assert_eq!(state.incr("window", 1, None).await.unwrap(), 3);
        assert!(
            state.ttl("window").await.unwrap().is_some(),
            "an increment without TTL dropped it"
        );

        // Once it expired, the next increment opens a new window.
        assert!(
            disappears(&state, "window").await,
            "the window never closed"
        );
        assert_eq!(
            state
                .incr("window", 1, Some(Duration::from_secs(600)))
                .await
                .unwrap(),
            1
        );
        let fresh = state.ttl("window").await.unwrap().expect("a new TTL");
        assert!(fresh > Duration::from_secs(60), "{fresh:?}");

        // A counter made without a TTL never gets one from later calls.
        assert_eq!(state.incr("plain", 1, None).await.unwrap(), 1);
        assert_eq!(
            state
                .incr("plain", 1, Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            2
        );
        assert_eq!(state.ttl("plain").await.unwrap(), None);

        for key in ["window", "plain"] {
            state.delete(key).await.unwrap();
        }
    }

    pub(super) async fn incr_counts_down_and_from_existing_values(state: State) {
        state.set("n", "10", None).await.unwrap();
        assert_eq!(
            state
                .incr("n", 5, Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            15
        );
        assert_eq!(
            state.ttl("n").await.unwrap(),
            None,
            "an existing key got a TTL"
        );
        assert_eq!(state.incr("n", -20, None).await.unwrap(), -5);
        assert_eq!(state.incr("fresh", -3, None).await.unwrap(), -3);
        assert_eq!(state.incr("zero", 0, None).await.unwrap(), 0);
        assert_eq!(state.get("zero").await.unwrap().as_deref(), Some("0"));

        state.set("max", i64::MAX.to_string(), None).await.unwrap();
        let e = state.incr("max", 1, None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal, "{e:?}");
        assert_eq!(state.get("max").await.unwrap(), Some(i64::MAX.to_string()));

        for key in ["n", "fresh", "zero", "max"] {
            state.delete(key).await.unwrap();
        }
    }

    pub(super) async fn incr_on_a_non_integer_is_an_internal_error(state: State) {
        state.set("word", "hello", None).await.unwrap();
        let e = state.incr("word", 1, None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal, "{e:?}");
        assert!(
            e.to_string().contains("word"),
            "the message names the key: {e}"
        );
        let e = state
            .incr("word", 1, Some(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal, "{e:?}");
        assert_eq!(state.get("word").await.unwrap().as_deref(), Some("hello"));
        state.delete("word").await.unwrap();
    }

    pub(super) async fn namespaces_isolate_and_nest(state: State) {
        let login = state.namespace("login");
        let cart = state.namespace("cart");
        let nested = login.namespace("attempts");
        assert_eq!(login.prefix(), format!("{}login:", state.prefix()));
        assert_eq!(
            nested.prefix(),
            format!("{}login:attempts:", state.prefix())
        );
        assert_eq!(state.namespace("").prefix(), state.prefix());

        login.set("k", "login", None).await.unwrap();
        cart.set("k", "cart", None).await.unwrap();
        nested.set("k", "nested", None).await.unwrap();
        assert_eq!(state.get("k").await.unwrap(), None);
        assert_eq!(login.get("k").await.unwrap().as_deref(), Some("login"));
        assert_eq!(cart.get("k").await.unwrap().as_deref(), Some("cart"));
        assert_eq!(nested.get("k").await.unwrap().as_deref(), Some("nested"));
        // A namespace is a prefix of the parent's keys, visible from the parent.
        assert_eq!(
            state.get("login:attempts:k").await.unwrap().as_deref(),
            Some("nested")
        );

        assert_eq!(login.incr("n", 1, None).await.unwrap(), 1);
        assert_eq!(cart.incr("n", 1, None).await.unwrap(), 1);

        assert!(login.delete("k").await.unwrap());
        assert_eq!(cart.get("k").await.unwrap().as_deref(), Some("cart"));
        assert_eq!(nested.get("k").await.unwrap().as_deref(), Some("nested"));

        for (ns, key) in [(&cart, "k"), (&nested, "k"), (&login, "n"), (&cart, "n")] {
            assert!(ns.delete(key).await.unwrap());
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Session {
        user_id: u64,
        email: String,
        roles: Vec<String>,
        remember: Option<bool>,
    }

    pub(super) async fn json_round_trips(state: State) {
        let session = Session {
            user_id: 42,
            email: "ada@example.com".into(),
            roles: vec!["admin".into(), "editor".into()],
            remember: None,
        };
        assert_eq!(state.get_json::<Session>("s").await.unwrap(), None);
        state
            .set_json("s", &session, Some(Duration::from_secs(60)))
            .await
            .unwrap();
        assert_eq!(state.get_json::<Session>("s").await.unwrap(), Some(session));
        assert!(state.ttl("s").await.unwrap().is_some());

        state.set_json("list", &[1, 2, 3][..], None).await.unwrap();
        assert_eq!(
            state.get_json::<Vec<u8>>("list").await.unwrap(),
            Some(vec![1, 2, 3])
        );
        assert_eq!(state.get("list").await.unwrap().as_deref(), Some("[1,2,3]"));

        state.set("not-json", "{oops", None).await.unwrap();
        let e = state.get_json::<Session>("not-json").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.to_string().contains("not-json"), "{e}");
        let e = state.get_json::<Session>("list").await.unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Internal,
            "a JSON value of the wrong shape"
        );

        for key in ["s", "list", "not-json"] {
            state.delete(key).await.unwrap();
        }
    }
}

/// The prefix really is in the Redis keys, so apps sharing one Redis do not
/// collide (and the cleanup guard finds them).
#[tokio::test]
async fn redis_keys_carry_the_prefix_and_namespaces() {
    let (state, keys) = redis_state().await;
    state.namespace("ns").set("k", "v", None).await.unwrap();
    assert_eq!(keys.remaining(), vec![format!("{}ns:k", keys.prefix)]);
    drop(keys);
    assert_eq!(
        state.namespace("ns").get("k").await.unwrap(),
        None,
        "the guard cleaned up"
    );
}

/// Two handles on one Redis with different prefixes never see each other's keys.
#[tokio::test]
async fn redis_prefixes_isolate_apps() {
    let (a, _a_keys) = redis_state().await;
    let (b, _b_keys) = redis_state().await;
    a.set("k", "a", None).await.unwrap();
    assert_eq!(b.get("k").await.unwrap(), None);
    assert_eq!(b.incr("k", 1, None).await.unwrap(), 1);
    assert_eq!(a.get("k").await.unwrap().as_deref(), Some("a"));
}

#[tokio::test]
async fn memory_stores_are_separate_and_clones_share() {
    let one = State::memory();
    let other = State::memory();
    one.set("k", "v", None).await.unwrap();
    assert_eq!(other.get("k").await.unwrap(), None);
    assert_eq!(one.clone().get("k").await.unwrap().as_deref(), Some("v"));
}

/// A bad URL is a configuration error naming `STATE_URL`, before any connection.
#[test]
fn a_bad_state_url_names_the_variable() {
    let config = |url: &str| microcore_config::Config::from_pairs([("STATE_URL", url)]);
    let cases = [
        (
            "ftp://example.com",
            "STATE_URL='ftp://example.com' is invalid: expected memory:// or redis://host:port[/db]",
        ),
        (
            "redis//127.0.0.1",
            "STATE_URL='redis//127.0.0.1' is invalid: expected memory:// or redis://host:port[/db]",
        ),
    ];
    for (url, message) in cases {
        let e = StateSettings::from_config(&config(url)).unwrap_err();
        assert_eq!(e.kind(), microcore::ErrorKind::Config);
        assert_eq!(e.to_string(), message);
    }
    let e = StateSettings::from_config(&config("redis://:s3cret@127.0.0.1:port")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("STATE_URL='redis://:***@127.0.0.1:port' is invalid"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");

    let defaulted = StateSettings::from_config(&config("")).unwrap();
    assert_eq!(defaulted.url, StateUrl::Memory);
    assert_eq!(defaulted.prefix, microcore_state::DEFAULT_PREFIX);
}
