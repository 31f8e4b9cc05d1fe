//! The shapes the system routes answer (CONTRACT.md §2, system), built
//! from the kernel's registry and the bus's topology. Binding fields first;
//! the rest are additions a client may ignore.

use std::collections::BTreeMap;

use microcore::registry::Health;
use microcore::registry::{AppRegistry as Kernel, PluginRecord, PluginStatus, ToolRecord};
use microcore_commands::lint::Finding;
use microcore_event_bus::contracts::{ContractViolation, check_contracts};
use microcore_event_bus::topology::{Role, TopicInfo};
use microcore_scheduler::JobInfo;
use serde::Serialize;

/// A tool's state on the wire: `OK`, or `FAIL` with a message beside it.
///
/// ```
/// use microcore::registry::Health;
/// use microcore_registry::ToolStatus;
///
/// let (status, why) = ToolStatus::of(&Health::Failing("no route to db".into()));
/// assert_eq!((status, why.as_str()), (ToolStatus::Fail, "no route to db"));
/// assert_eq!(serde_json::to_value(ToolStatus::Ok).unwrap(), "OK");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ToolStatus {
    /// Set up and healthy.
    Ok,
    /// Setup or health check failed.
    Fail,
}

impl ToolStatus {
    /// The status of `health`, and why it fails (empty when it does not).
    pub fn of(health: &Health) -> (Self, String) {
        match health {
            Health::Ok => (Self::Ok, String::new()),
            Health::Failing(why) => (Self::Fail, why.clone()),
        }
    }
}

/// `GET /system/status`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    /// Every tool, in boot order.
    pub tools: Vec<ToolView>,
    /// Every plugin, by name.
    pub plugins: Vec<PluginView>,
    /// Every scheduled job, cron jobs first, with its last and next run.
    pub jobs: Vec<JobInfo>,
}

/// A tool in [`StatusView`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolView {
    /// The tool's name (`db`).
    pub name: String,
    /// `OK` or `FAIL`: its setup, then its health check now.
    #[schema(value_type = String)]
    pub status: ToolStatus,
    /// Why it fails; empty when it works.
    pub message: String,
    /// The implementing type (`SeaOrmDb`).
    pub type_name: String,
    /// Where it is implemented (`tools/db/src/tool.rs:21`).
    pub file: String,
    /// The tools it needs.
    pub needs: Vec<String>,
}

/// A plugin in [`StatusView`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PluginView {
    /// `<domain>.<StructName>`.
    pub name: String,
    /// Its domain folder.
    pub domain: String,
    /// `READY`, `DEAD` or `SKIPPED`.
    #[schema(value_type = String)]
    pub status: PluginStatus,
    /// Why it is `DEAD` or `SKIPPED`.
    pub error: Option<String>,
    /// The tools it uses.
    pub tools: Vec<String>,
    /// Where it is declared (`domains/users/plugins/register_user.rs:12`).
    pub file: String,
}

/// `GET /system/ready`: every critical tool healthy and no critical
/// plugin `DEAD` ([`Registry::readiness`](crate::Registry::readiness)).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReadinessView {
    /// Whether the app can serve.
    pub ready: bool,
    /// What stands in the way, one sentence each; empty when ready.
    pub failing: Vec<String>,
    /// Each tool's health now.
    pub tools: Vec<HealthView>,
}

/// One tool in [`ReadinessView`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HealthView {
    /// The tool's name.
    pub name: String,
    /// Whether the app needs it to serve.
    pub critical: bool,
    /// `OK` or `FAIL`.
    #[schema(value_type = String)]
    pub status: ToolStatus,
    /// Why it fails.
    pub message: String,
}

impl From<&ToolRecord> for HealthView {
    fn from(h: &ToolRecord) -> Self {
        let (status, message) = ToolStatus::of(&h.health);
        Self {
            name: h.name.to_string(),
            critical: h.critical,
            status,
            message,
        }
    }
}

/// The status of every tool and plugin, tools' health asked now.
pub(crate) async fn status(kernel: &Kernel, jobs: Vec<JobInfo>) -> StatusView {
    let health = kernel.health().await;
    let tools = kernel
        .tools()
        .into_iter()
        .map(|t| {
            let failing = health.iter().find_map(|h| match &h.health {
                Health::Failing(why) if h.name == t.name => Some(why.clone()),
                _ => None,
            });
            let (status, message) = match failing {
                Some(why) => (ToolStatus::Fail, why),
                None => ToolStatus::of(&t.health),
            };
            ToolView {
                name: t.name,
                status,
                message,
                type_name: t.type_name,
                file: t.location,
                needs: t.tools,
            }
        })
        .collect();
    let mut plugins: Vec<PluginView> = kernel.plugins().into_iter().map(plugin_view).collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    StatusView {
        tools,
        plugins,
        jobs,
    }
}

fn plugin_view(p: PluginRecord) -> PluginView {
    PluginView {
        name: p.name,
        domain: p.domain,
        status: p.status,
        error: p.error,
        tools: p.tools,
        file: p.location,
    }
}

/// Whether the app can serve now, and if not, why: every critical tool
/// healthy ([`Kernel::health`]) and no critical plugin `DEAD`; `failing`
/// says what stands in the way, one sentence each (critical tools
/// failing, then critical plugins `DEAD`).
pub(crate) async fn readiness(kernel: &Kernel) -> ReadinessView {
    let tools = kernel.health().await;
    let mut failing: Vec<String> = tools
        .iter()
        .filter(|t| t.critical)
        .filter_map(|t| match &t.health {
            Health::Ok => None,
            Health::Failing(why) => Some(format!("tool '{}' is failing: {why}", t.name)),
        })
        .collect();
    let dead = kernel
        .plugins()
        .into_iter()
        .filter(|p| p.critical && p.status == PluginStatus::Dead);
    failing.extend(dead.map(|p| {
        let why = p.error.unwrap_or_default();
        format!("plugin '{}' ({}) is DEAD: {why}", p.name, p.location)
    }));
    if tools.is_empty() {
        failing.insert(0, "the boot has not finished".into());
    }
    ReadinessView {
        ready: failing.is_empty(),
        failing,
        tools: tools.iter().map(HealthView::from).collect(),
    }
}

/// `GET /system/events`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventsView {
    /// Every topic, by name.
    pub events: Vec<EventView>,
}

/// One topic in [`EventsView`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// The topic.
    pub event: String,
    /// Consumer groups subscribed in this process.
    pub subscribers: Vec<String>,
    /// Who published it lately, most recent first.
    pub last_emitters: Vec<String>,
    /// How many times this process published it.
    pub times_fired: u64,
}

/// The topology as `/system/events` shows it.
pub(crate) fn events(topics: Vec<TopicInfo>) -> EventsView {
    EventsView {
        events: topics
            .into_iter()
            .map(|t| EventView {
                event: t.event,
                subscribers: t.subscribers,
                last_emitters: t.last_emitters,
                times_fired: t.times_fired,
            })
            .collect(),
    }
}

/// `GET /system/events/schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Schemas {
    /// Per topic, every declared payload schema.
    pub schemas: BTreeMap<String, Vec<SchemaView>>,
}

/// One declared payload schema.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SchemaView {
    /// The declaring plugin's domain.
    pub domain: String,
    /// The declaring plugin.
    pub plugin: String,
    /// Where the plugin is declared.
    pub file: String,
    /// `publisher` or `subscriber`.
    #[schema(value_type = String)]
    pub role: Role,
    /// The payload type's name.
    pub type_name: String,
    /// Its JSON schema.
    pub json_schema: serde_json::Value,
}

pub(crate) fn schemas(kernel: &Kernel, topics: Vec<TopicInfo>) -> Schemas {
    let file_of = |plugin: &str| {
        kernel
            .plugin(plugin)
            .map(|p| p.location)
            .unwrap_or_default()
    };
    let schemas = topics
        .into_iter()
        .filter(|t| !t.schemas.is_empty())
        .map(|t| {
            let declared = t
                .schemas
                .into_iter()
                .map(|s| SchemaView {
                    domain: s.plugin.split('.').next().unwrap_or_default().to_string(),
                    file: file_of(&s.plugin),
                    plugin: s.plugin,
                    role: s.role,
                    type_name: s.type_name,
                    json_schema: s.json_schema,
                })
                .collect();
            (t.event, declared)
        })
        .collect();
    Schemas { schemas }
}

/// `GET /system/lint`. The checks that read source (domain isolation,
/// table ownership, migration dialects) ran at build time and are embedded in the binary
/// (`microcore_commands::lint::BUILT_FINDINGS`); a route collision stops the boot,
/// so a serving app has none. Architecture and ownership entries are
/// `{code, severity, message, files, help}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LintView {
    /// A domain using another domain's code; a plugin not named after its file.
    #[schema(value_type = Vec<Object>)]
    pub arch_violations: Vec<Finding>,
    /// A subscriber reading what its publisher does not send.
    #[schema(value_type = Vec<Object>)]
    pub event_contract_violations: Vec<ContractViolation>,
    /// Two plugins on one method and path.
    #[schema(value_type = Vec<Object>)]
    pub route_collisions: Vec<serde_json::Value>,
    /// A table written by more than one domain's migrations.
    #[schema(value_type = Vec<Object>)]
    pub table_ownership_warnings: Vec<Finding>,
    /// A migration run on both backends that holds one backend's syntax.
    #[schema(value_type = Vec<Object>)]
    pub migration_dialects: Vec<Finding>,
}

pub(crate) fn lint(kernel: &Kernel, topics: Option<&[TopicInfo]>) -> LintView {
    let file_of = |plugin: &str| match kernel.plugin(plugin) {
        Some(p) => format!("{} ({})", p.name, p.location),
        None => plugin.to_string(),
    };
    LintView {
        arch_violations: microcore_commands::lint::architecture(&kernel.plugins()),
        event_contract_violations: topics
            .map(|t| check_contracts(t, file_of))
            .unwrap_or_default(),
        route_collisions: Vec::new(),
        table_ownership_warnings: microcore_commands::lint::table_ownership(),
        migration_dialects: microcore_commands::lint::migration_dialects(),
    }
}

/// One message of `/system/events/stream`: a published envelope.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Published {
    /// The event's id.
    pub id: String,
    /// The topic.
    pub event: String,
    /// The payload.
    pub payload: serde_json::Value,
    /// The plugin that published it.
    pub emitter: String,
    /// When (UTC; RFC 3339 in JSON).
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The request or event that caused it.
    pub parent_id: Option<String>,
    /// The root of its causal chain.
    pub correlation_id: String,
}

impl From<&microcore_event_bus::Envelope> for Published {
    fn from(e: &microcore_event_bus::Envelope) -> Self {
        Self {
            id: e.id.to_string(),
            event: e.event.clone(),
            payload: e.payload.clone(),
            emitter: e.emitter.clone(),
            timestamp: e.timestamp,
            parent_id: e.parent_id.clone(),
            correlation_id: e.correlation_id.clone(),
        }
    }
}
