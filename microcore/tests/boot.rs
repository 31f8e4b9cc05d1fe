//! The boot and shutdown sequence with test tools and plugins: order,
//! failure isolation (error, panic, timeout, failed tool), withdrawal,
//! and what stops the boot.
#![allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    dead_code
)]

use std::sync::Mutex;
use std::time::Duration;

use microcore::prelude::*;
use microcore::registry::PluginStatus;
use microcore::{App, BootError, PLUGINS, TOOLS};

/// Every lifecycle call, in order, as `"<step> <who>"`.
static JOURNAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note(line: impl Into<String>) {
    JOURNAL.lock().unwrap().push(line.into());
}

fn journal_of(prefix: &str) -> Vec<String> {
    JOURNAL
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(prefix))
        .cloned()
        .collect()
}

macro_rules! handle {
    ($ty:ident, $name:literal) => {
        #[derive(Clone, Debug)]
        pub struct $ty;
        impl ToolHandle for $ty {
            const NAME: &'static str = $name;
        }
    };
}
handle!(Base, "base");
handle!(Upper, "upper");
handle!(Broken, "broken");
handle!(Fragile, "fragile");
handle!(BadConfig, "bad_config");

#[tool]
#[derive(Debug)]
pub struct BaseTool {}
impl Tool for BaseTool {
    type Handle = Base;
    async fn setup(&self, _: &ToolContext) -> Result<Base> {
        note("setup base");
        Ok(Base)
    }
    fn withdraw(&self, plugin: &str) {
        note(format!("withdraw {plugin}"));
    }
    async fn drain(&self) {
        note("drain base");
    }
    async fn shutdown(&self) -> Result<()> {
        note("shutdown base");
        Ok(())
    }
}

#[tool]
#[derive(Debug)]
pub struct UpperTool {
    base: Base,
}
impl Tool for UpperTool {
    type Handle = Upper;
    async fn setup(&self, _: &ToolContext) -> Result<Upper> {
        note("setup upper");
        Ok(Upper)
    }
    async fn on_boot_complete(&self) -> Result<()> {
        note("complete upper");
        Ok(())
    }
    async fn shutdown(&self) -> Result<()> {
        note("shutdown upper");
        Ok(())
    }
}

#[tool]
#[derive(Debug)]
pub struct FragileTool {}
impl Tool for FragileTool {
    type Handle = Fragile;
    async fn setup(&self, _: &ToolContext) -> Result<Fragile> {
        Err(Error::unavailable("connection refused"))
    }
}

#[tool]
#[derive(Debug)]
pub struct BrokenCriticalTool {}
impl Tool for BrokenCriticalTool {
    type Handle = Broken;
    const CRITICAL: bool = true;
    async fn setup(&self, _: &ToolContext) -> Result<Broken> {
        Err(Error::internal("disk on fire"))
    }
}

#[tool]
#[derive(Debug)]
pub struct BadConfigTool {}
impl Tool for BadConfigTool {
    type Handle = BadConfig;
    async fn setup(&self, _: &ToolContext) -> Result<BadConfig> {
        Err(Error::config(
            "BAD_PORT='x' is invalid: expected an integer",
        ))
    }
}

#[plugin(domain = "t")]
pub struct Healthy {
    upper: Upper,
}
impl Plugin for Healthy {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        note("boot t.Healthy");
        Ok(())
    }
    async fn on_shutdown(self: Arc<Self>) -> Result<()> {
        note("stop t.Healthy");
        Ok(())
    }
}

#[plugin(domain = "t")]
pub struct Failing {
    base: Base,
}
impl Plugin for Failing {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        Err(Error::internal("cannot register"))
    }
}

#[plugin(domain = "t")]
pub struct Panicking {
    base: Base,
}
impl Plugin for Panicking {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        panic!("boom in on_boot")
    }
}

#[plugin(domain = "t")]
pub struct Hanging {
    base: Base,
}
impl Plugin for Hanging {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    }
}

#[plugin(domain = "t")]
pub struct NeedsFragile {
    fragile: Fragile,
}
impl Plugin for NeedsFragile {}

fn tools(names: &[&str]) -> Vec<&'static microcore::descriptor::ToolDescriptor> {
    TOOLS.iter().filter(|t| names.contains(&t.name)).collect()
}

fn plugins(names: &[&str]) -> Vec<&'static microcore::descriptor::PluginDescriptor> {
    PLUGINS.iter().filter(|p| names.contains(&p.name)).collect()
}

#[tokio::test]
async fn failures_stay_where_they_happen() {
    let app = App::new(
        tools(&["base", "upper", "fragile"]),
        plugins(&["Healthy", "Failing", "Panicking", "Hanging", "NeedsFragile"]),
    )
    .boot_timeout(Duration::from_millis(300));
    let running = app
        .boot()
        .await
        .expect("isolated failures do not stop the boot");
    let registry = running.registry().clone();
    let status = |name: &str| registry.plugin(name).unwrap();

    assert_eq!(status("t.Healthy").status, PluginStatus::Ready);
    let failing = status("t.Failing");
    assert_eq!(failing.status, PluginStatus::Dead);
    assert_eq!(failing.error.as_deref(), Some("cannot register"));
    let panicking = status("t.Panicking");
    assert_eq!(panicking.status, PluginStatus::Dead);
    assert_eq!(
        panicking.error.as_deref(),
        Some("panicked: boom in on_boot")
    );
    let hanging = status("t.Hanging");
    assert_eq!(hanging.status, PluginStatus::Dead);
    assert!(hanging.error.unwrap().starts_with("timed out"));
    let skipped = status("t.NeedsFragile");
    assert_eq!(skipped.status, PluginStatus::Skipped);
    assert_eq!(
        skipped.error.as_deref(),
        Some("tool 'fragile' (field 'fragile') failed to start")
    );
    let fragile = registry
        .tools()
        .into_iter()
        .find(|t| t.name == "fragile")
        .unwrap();
    let Health::Failing(why) = fragile.health else {
        panic!("tool 'fragile' is {:?}", fragile.health);
    };
    assert!(why.contains("Service unavailable"), "{why}");

    // What a dead plugin registered is withdrawn from every tool.
    let withdrawn = journal_of("withdraw t.");
    for dead in ["t.Failing", "t.Panicking", "t.Hanging"] {
        assert!(
            withdrawn.contains(&format!("withdraw {dead}")),
            "{withdrawn:?}"
        );
    }
    running.shutdown().await;
}

#[tokio::test]
async fn boots_in_dependency_order_and_shuts_down_in_reverse() {
    let app = App::new(tools(&["upper", "base"]), plugins(&["Healthy"]));
    let running = app.boot().await.unwrap();
    running.shutdown().await;
    let journal: Vec<String> = JOURNAL
        .lock()
        .unwrap()
        .iter()
        .filter(|l| !l.starts_with("withdraw"))
        .cloned()
        .collect();
    let position = |line: &str| {
        journal
            .iter()
            .rposition(|l| l == line)
            .unwrap_or_else(|| panic!("{line} missing: {journal:?}"))
    };
    assert!(position("setup base") < position("setup upper"));
    assert!(position("setup upper") < position("boot t.Healthy"));
    assert!(position("boot t.Healthy") < position("complete upper"));
    assert!(position("complete upper") < position("drain base"));
    assert!(position("drain base") < position("stop t.Healthy"));
    assert!(position("stop t.Healthy") < position("shutdown upper"));
    assert!(position("shutdown upper") < position("shutdown base"));
}

#[tokio::test]
async fn a_failed_critical_tool_stops_the_boot() {
    let app = App::new(tools(&["base", "broken"]), vec![]);
    let err = app.boot().await.unwrap_err();
    assert!(matches!(err, BootError::Tool { tool: "broken", .. }));
    assert!(err.to_string().contains("disk on fire"), "{err}");
}

#[tokio::test]
async fn invalid_configuration_stops_the_boot_even_in_a_non_critical_tool() {
    let app = App::new(tools(&["bad_config"]), vec![]);
    let err = app.boot().await.unwrap_err();
    assert!(err.to_string().contains("BAD_PORT='x' is invalid"), "{err}");
}

#[tokio::test]
async fn wiring_errors_stop_the_boot_before_anything_is_built() {
    let app = App::new(tools(&["upper"]), plugins(&["Healthy"]));
    let err = app.boot().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("field 'base' of tool 'upper' needs tool 'base'"),
        "{text}"
    );
    assert!(matches!(err, BootError::Wiring(_)));
}
