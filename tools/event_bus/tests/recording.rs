//! The test kit: a plugin tested alone against a recording bus, the Rust
//! counterpart of `assert_called_with` on a mock bus.

use std::time::Duration;

use microcore::prelude::*;
use microcore_event_bus::{Event, EventBus};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Serialize)]
struct UserCreated<'a> {
    id: i64,
    email: &'a str,
    roles: [&'a str; 1],
}

/// Stands in for the users domain's register plugin: it publishes.
struct RegisterUser {
    bus: EventBus,
}

impl RegisterUser {
    async fn register(&self, id: i64, email: &str) -> Result<()> {
        let created = UserCreated {
            id,
            email,
            roles: ["user"],
        };
        self.bus.publish("user.created", &created).await?;
        Ok(())
    }
}

/// A subscriber: on a recording bus its handler never runs.
struct Welcome;

impl Welcome {
    async fn on_user_created(self: Arc<Self>, _: Event<Value>) -> Result<()> {
        panic!("a recording bus delivers nothing");
    }
}

fn plugin() -> RegisterUser {
    RegisterUser {
        bus: EventBus::recording().for_owner("users.RegisterUser"),
    }
}

#[tokio::test]
async fn records_what_a_plugin_published() {
    let p = plugin();
    p.register(1, "ada@example.com").await.unwrap();
    p.bus.assert_published(
        "user.created",
        json!({"id": 1, "email": "ada@example.com", "roles": ["user"]}),
    );
    p.bus.assert_not_published("user.deleted");
    assert_eq!(
        p.bus.published(),
        vec![(
            "user.created".to_string(),
            json!({"id": 1, "email": "ada@example.com", "roles": ["user"]})
        )]
    );
    let sent = &p.bus.published_envelopes()[0];
    assert_eq!(sent.emitter, "users.RegisterUser");
    p.bus.clear_published();
    assert!(p.bus.published().is_empty());
}

#[tokio::test]
async fn records_the_causal_parent_of_a_publish_in_a_request() {
    let p = plugin();
    microcore_trace::cause::scope("request-7".into(), p.register(2, "bob@example.com"))
        .await
        .unwrap();
    let sent = &p.bus.published_envelopes()[0];
    assert_eq!(sent.parent_id.as_deref(), Some("request-7"));
}

#[tokio::test]
#[should_panic(expected = "'user.created' received 1 publish(es)")]
async fn a_failed_assertion_lists_what_was_published() {
    let p = plugin();
    p.register(1, "ada@example.com").await.unwrap();
    p.bus.assert_published("user.created", json!({"id": 2}));
}

#[tokio::test]
async fn subscriptions_are_recorded_but_nothing_is_delivered() {
    let bus = EventBus::recording().for_owner("users.Welcome");
    bus.subscribe("user.created", &Arc::new(Welcome), Welcome::on_user_created)
        .await
        .unwrap();
    bus.publish("user.created", &json!({"id": 1}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let topic = &bus.topology()[0];
    assert_eq!(
        topic.subscribers,
        vec!["users.Welcome.on_user_created".to_string()]
    );
    let e = bus
        .request::<_, Value>("user.lookup", &json!({}), Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("recording bus"), "{e}");
    bus.shutdown().await;
}

/// What the publisher says it sends.
#[derive(Serialize, utoipa::ToSchema)]
struct UserDeleted {
    id: i64,
}

/// What a subscriber reads.
#[derive(serde::Deserialize, utoipa::ToSchema)]
struct DeletedUser {
    id: i64,
}

struct Cleanup;

impl Cleanup {
    async fn on_user_deleted(self: Arc<Self>, event: Event<DeletedUser>) -> Result<()> {
        let _ = event.payload.id;
        Ok(())
    }
}

#[tokio::test]
async fn declared_schemas_show_in_the_topology() {
    let bus = EventBus::recording();
    bus.for_owner("users.DeleteUser")
        .publishes::<UserDeleted>("user.deleted");
    bus.for_owner("cleanup.Cleanup")
        .subscribe("user.deleted", &Arc::new(Cleanup), Cleanup::on_user_deleted)
        .with_schema()
        .await
        .unwrap();
    let topic = &bus.topology()[0];
    assert_eq!(topic.event, "user.deleted");
    let roles: Vec<(&str, &str)> = topic
        .schemas
        .iter()
        .map(|s| (s.plugin.as_str(), s.type_name.as_str()))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("users.DeleteUser", "UserDeleted"),
            ("cleanup.Cleanup", "DeletedUser")
        ]
    );
    assert_eq!(
        topic.schemas[0].json_schema["properties"]["id"]["type"],
        "integer"
    );
    bus.withdraw("cleanup.Cleanup");
    assert_eq!(
        bus.topology()[0].schemas.len(),
        1,
        "a dead plugin's schema goes"
    );
}
