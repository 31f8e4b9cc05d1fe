//! The tool inside a booted app: the default backend, a bad `STATE_URL`
//! stopping the boot, and Redis down at boot failing only this tool and
//! the plugins that need it.

use std::sync::Arc;

use microcore::prelude::*;
use microcore::registry::PluginStatus;
use microcore::{App, TOOLS};
use microcore_state::State;

// linkme keeps a crate's tools only when the binary names the crate.
use microcore_calls as _;
use microcore_config as _;

/// Needs state; counts its boots there.
#[plugin(domain = "test")]
#[derive(Debug)]
pub struct NeedsState {
    state: State,
}

impl Plugin for NeedsState {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.state.incr("boots", 1, None).await?;
        Ok(())
    }
}

/// Needs nothing.
#[plugin(domain = "test")]
#[derive(Debug)]
pub struct NeedsNothing {}

impl Plugin for NeedsNothing {}

fn app() -> App {
    let tools = TOOLS
        .iter()
        .filter(|t| ["config", "calls", "state"].contains(&t.name))
        .collect();
    let plugins = microcore::PLUGINS
        .iter()
        .filter(|p| p.name == "NeedsState" || p.name == "NeedsNothing")
        .collect();
    App::new(tools, plugins)
}

#[tokio::test]
async fn memory_is_the_default() {
    let running = app().boot().await.unwrap();
    let state = running.handle::<State>().expect("the state handle");
    assert_eq!(state.backend(), "memory");
    assert_eq!(state.prefix(), "microcore:");
    assert_eq!(state.get("boots").await.unwrap().as_deref(), Some("1"));
    assert!(
        running
            .registry()
            .plugins()
            .iter()
            .all(|p| p.status == PluginStatus::Ready)
    );
    running.shutdown().await;
}

#[tokio::test]
async fn redis_is_picked_by_url() {
    let prefix = format!("microcore-test:{}:", uuid::Uuid::new_v4().simple());
    let running = app()
        .with_var("STATE_URL", "redis://127.0.0.1:6379")
        .with_var("STATE_PREFIX", prefix.clone())
        .boot()
        .await
        .unwrap();
    let state = running.handle::<State>().unwrap();
    assert_eq!(state.backend(), "redis");
    assert_eq!(state.prefix(), prefix);
    assert_eq!(state.get("boots").await.unwrap().as_deref(), Some("1"));
    assert!(state.delete("boots").await.unwrap());
    running.shutdown().await;
}

#[tokio::test]
async fn a_bad_state_url_stops_the_boot() {
    let e = app()
        .with_var("STATE_URL", "mongodb://localhost")
        .boot()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("STATE_URL='mongodb://localhost' is invalid: expected memory:// or redis://host:port[/db]"),
        "{text}"
    );
}

#[tokio::test]
async fn redis_down_at_boot_fails_the_tool_and_skips_its_plugins() {
    let running = app()
        .with_var("STATE_URL", "redis://:pw@127.0.0.1:1")
        .boot()
        .await
        .expect("state is not critical");
    let tool = running
        .registry()
        .tools()
        .into_iter()
        .find(|t| t.name == "state")
        .unwrap();
    let Health::Failing(why) = tool.health else {
        panic!("tool 'state' is {:?}", tool.health);
    };
    assert!(
        why.contains("cannot connect to Redis at STATE_URL='redis://:***@127.0.0.1:1'"),
        "{why}"
    );
    assert!(!why.contains("pw@"), "{why}");

    let status = |name: &str| running.registry().plugin(name).map(|p| p.status).unwrap();
    assert_eq!(status("test.NeedsState"), PluginStatus::Skipped);
    assert_eq!(status("test.NeedsNothing"), PluginStatus::Ready);
    running.shutdown().await;
}
