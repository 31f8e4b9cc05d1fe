//! The registry tool in a booted app (config, calls, http, event_bus, db,
//! scheduler, registry, and two plugins): it is listed as a tool, records the plugin's calls and
//! each request by route template, answers readiness, and writes the same
//! `AI_CONTEXT.md` at every boot.

use std::path::Path;
use std::time::Duration;

use microcore::prelude::*;
use microcore::registry::PluginStatus;
use microcore_calls::Calls;
use microcore_config as _;
use microcore_event_bus::EventBus;
use microcore_http::Http;
use microcore_registry::Registry;
use microcore_registry::ToolStatus;
use microcore_scheduler::{JobRun, Scheduler};

/// `GET /hello/{name}` publishes `hello.said`.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Hello {
    http: Http,
    bus: EventBus,
}

/// The payload of `hello.said`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Said {
    name: String,
}

impl Plugin for Hello {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.publishes::<Said>("hello.said");
        self.http.get("/hello/{name}", &self, Self::hello);
        Ok(())
    }
}

/// Runs `tidy` every night: a job the registry lists.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Nightly {
    scheduler: Scheduler,
}

impl Plugin for Nightly {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.scheduler
            .cron("nightly-tidy", "0 0 3 * * *", &self, Self::tidy)
    }
}

impl Nightly {
    async fn tidy(self: Arc<Self>, _run: JobRun) -> Result<()> {
        Ok(())
    }
}

/// The tools the registry needs, each from its crate.
const TOOLS: [&str; 7] = [
    "config",
    "calls",
    "http",
    "event_bus",
    "db",
    "scheduler",
    "registry",
];

impl Hello {
    async fn hello(
        self: Arc<Self>,
        microcore_http::Path(name): microcore_http::Path<String>,
    ) -> Result<String> {
        self.bus
            .publish("hello.said", &Said { name: name.clone() })
            .await?;
        Ok(format!("hello {name}"))
    }
}

/// The registry and what it needs, with the `Hello` plugin, on a free port.
fn app() -> microcore::App {
    let tools = microcore::TOOLS.iter().filter(|t| TOOLS.contains(&t.name));
    let plugins = microcore::PLUGINS
        .iter()
        .filter(|p| ["Hello", "Nightly"].contains(&p.name));
    microcore::App::new(tools.collect(), plugins.collect())
        .with_var("HTTP_PORT", "0")
        .with_var("DATABASE_URL", "sqlite::memory:")
        .with_var("EVENT_BUS_URL", "memory://")
}

async fn boot(context: &Path) -> microcore::Running {
    app()
        .with_var("AI_CONTEXT_PATH", context.display().to_string())
        .boot()
        .await
        .expect("the app boots")
}

fn base(running: &microcore::Running) -> String {
    format!(
        "http://{}",
        running.handle::<Http>().unwrap().local_addr().unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_calls_and_routes_of_a_running_app() {
    let dir = tempfile::tempdir().unwrap();
    let running = boot(&dir.path().join("AI_CONTEXT.md")).await;
    let registry = running
        .handle::<Registry>()
        .expect("the registry tool is set up");

    let status = registry.status().await;
    let tool = status.tools.iter().find(|t| t.name == "registry").unwrap();
    assert_eq!(tool.status, ToolStatus::Ok);
    assert_eq!(status.plugins[0].name, "tests.Hello");
    assert_eq!(status.plugins[0].status, PluginStatus::Ready);
    assert!(registry.readiness().await.ready);
    let job = &status.jobs[0];
    assert_eq!(
        (
            job.name.as_str(),
            job.schedule.as_str(),
            job.plugin.as_str()
        ),
        ("nightly-tidy", "0 0 3 * * *", "tests.Nightly")
    );
    assert!(job.next_run.is_some() && job.last_run.is_none(), "{job:?}");

    let mut live = registry.watch_calls();
    for name in ["ada", "bob"] {
        let answer = reqwest::get(format!("{}/hello/{name}", base(&running)))
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    // The scheduler's own polls are calls too: wait for the plugin's.
    let call = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let call = live.recv().await.unwrap();
            if call.plugin == "tests.Hello" {
                return call;
            }
        }
    })
    .await
    .expect("a live call within 5 s");
    assert_eq!(
        (call.tool, call.method, call.plugin, call.success),
        ("event_bus", "publish", "tests.Hello", true)
    );

    let mut recent = registry.recent_calls();
    recent.retain(|c| c.plugin == "tests.Hello");
    assert_eq!(recent.len(), 2);
    assert!(recent[0].timestamp >= recent[1].timestamp, "newest first");

    let text = registry.prometheus();
    assert!(
        text.contains(r#"microcore_tool_calls_total{tool="event_bus",method="publish"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"microcore_http_requests_total{method="GET",route="/hello/{name}",status="200"} 2"#
        ),
        "route template, not the path: {text}"
    );
    assert!(text.contains(r#"microcore_tool_up{tool="registry"} 1"#));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_boots_write_the_same_context() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("one.md"), dir.path().join("two.md"));
    for path in [&first, &second] {
        let running = boot(path).await;
        // Traffic between boots must not change the file.
        reqwest::get(format!("{}/hello/ada", base(&running)))
            .await
            .unwrap();
        running.shutdown().await;
    }
    let (one, two) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert_eq!(one, two);
    let text = String::from_utf8(one).unwrap();
    assert!(text.contains("### `tests.Hello` — READY"), "{text}");
    assert!(text.contains("- routes: `GET /hello/{name}`"), "{text}");
    assert!(
        text.contains("- published by `tests.Hello` as `Said`: `{name: string}`"),
        "{text}"
    );
    assert!(text.contains("| `registry` | `RegistryTool` |"), "{text}");
    assert!(text.contains("- jobs: `nightly-tidy`"), "{text}");
    assert!(
        text.contains("| `nightly-tidy` | `0 0 3 * * *` | `tests.Nightly` | `tidy` |"),
        "{text}"
    );
}

/// Changes the working directory: nextest runs each test in a process of
/// its own, and the other tests here use absolute paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_goes_to_the_working_directory_unless_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let app = || {
        let tools = microcore::TOOLS.iter().filter(|t| TOOLS.contains(&t.name));
        microcore::App::new(tools.collect(), vec![])
            .with_var("HTTP_PORT", "0")
            .with_var("DATABASE_URL", "sqlite::memory:")
    };
    let off = app().with_var("AI_CONTEXT_PATH", "").boot().await.unwrap();
    off.shutdown().await;
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );

    let default = app().boot().await.unwrap();
    default.shutdown().await;
    let text = std::fs::read_to_string(dir.path().join("AI_CONTEXT.md")).unwrap();
    assert!(text.starts_with("# AI_CONTEXT.md"));
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "no temporary file left behind");
}

/// `REGISTRY_METRICS=false`: the same traffic as above leaves the call
/// records (what `/system/metrics` serves) and the per-route counters of
/// `/metrics` empty, while the app answers as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_turned_off_record_nothing() {
    let running = app()
        .with_var("AI_CONTEXT_PATH", "")
        .with_var("REGISTRY_METRICS", "false")
        .boot()
        .await
        .expect("the app boots");
    let registry = running.handle::<Registry>().unwrap();
    for name in ["ada", "bob"] {
        let answer = reqwest::get(format!("{}/hello/{name}", base(&running)))
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["data"], format!("hello {name}"));
    }
    let calls = running.handle::<Calls>().unwrap();
    assert!(!calls.is_recording(), "no recorder installed");
    assert_eq!(registry.recent_calls().len(), 0, "no call records");
    let text = registry.prometheus();
    assert!(!text.contains("microcore_tool_calls_total{"), "{text}");
    assert!(!text.contains("microcore_http_requests_total{"), "{text}");
    assert!(
        text.contains(r#"microcore_tool_up{tool="registry"} 1"#),
        "health still reported: {text}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_metrics_setting_stops_the_boot_naming_it() {
    let tools = microcore::TOOLS.iter().filter(|t| TOOLS.contains(&t.name));
    let error = microcore::App::new(tools.collect(), vec![])
        .with_var("HTTP_PORT", "0")
        .with_var("DATABASE_URL", "sqlite::memory:")
        .with_var("AI_CONTEXT_PATH", "")
        .with_var("REGISTRY_METRICS", "sometimes")
        .boot()
        .await
        .expect_err("an invalid REGISTRY_METRICS stops the boot")
        .to_string();
    assert!(
        error.contains("REGISTRY_METRICS='sometimes' is invalid: expected true or false"),
        "{error}"
    );
}
