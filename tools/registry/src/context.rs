//! `AI_CONTEXT.md`: the whole app in one compact file, for a newcomer or
//! an AI assistant — every tool, every plugin with its file, tools, routes
//! and events, every event's payload, and how to add a feature.
//!
//! Rewritten at each boot, after every plugin registered what it offers.
//! Deterministic: everything is sorted and nothing depends on the time,
//! the port or the machine, so the same build writes the same bytes (and
//! a diff of the file is a diff of the app's wiring). Written to a
//! temporary file beside the target and renamed over it, so a reader (or
//! a parallel boot) never sees half a file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use microcore::api::ApiBlock;
use microcore::registry::{PluginRecord, ToolRecord};
use microcore_commands::model::ModelItem;
use microcore_db::Migration;
use microcore_event_bus::topology::{Role, TopicInfo};
use microcore_scheduler::JobInfo;
use serde_json::Value;

/// One route: method, path, owning plugin, who may call it.
pub type Route = microcore_http::RouteInfo;

/// What the file is made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Tools, in boot order.
    pub tools: &'a [ToolRecord],
    /// Plugins (sorted by name here).
    pub plugins: &'a [PluginRecord],
    /// Routes of live plugins.
    pub routes: &'a [Route],
    /// The bus topology (empty when the bus is not known).
    pub topics: &'a [TopicInfo],
    /// The tools' public methods and guides ([`microcore::api::blocks`]).
    pub apis: &'a [&'static ApiBlock],
    /// The embedded migrations, read for the tables.
    pub migrations: &'a [Migration],
    /// Each domain's `models.rs` items ([`microcore_commands::model::items`]).
    pub models: &'a [&'static ModelItem],
    /// The OpenAPI document as JSON, for each route's input and response
    /// (`None`: routes are listed without them).
    pub openapi: Option<&'a Value>,
    /// The declared jobs ([`microcore_scheduler::Scheduler::declared`]).
    pub jobs: &'a [JobInfo],
}

const HEADER: &str = "# AI_CONTEXT.md

Rewritten at every boot by the `registry` tool from the running app (print it
with `cargo run -- context`; `AI_CONTEXT_PATH=` turns the file off). Do not
edit it: edit the code, and the next boot rewrites it.

## How this app is built

- A kernel wires **tools** (infrastructure: one crate each under `tools/`) and
  **plugins** (features: one file each under `domains/<domain>/plugins/`).
- A plugin is a struct marked `#[plugin]`; each field is a tool handle
  (`http: Http`, `db: Db`, `bus: EventBus`, ...), which is its whole dependency
  list. Its `on_boot` registers routes and event subscriptions.
- Plugins never call each other and domains never import each other: they
  publish and subscribe to events. A subscriber declares its own payload type
  with only the fields it reads.
- Handlers return `Result<T>`; `T` is sent as `{\"success\": true, \"data\": T}`,
  an error as `{\"success\": false, \"error\": \"...\"}` with its status
  (validation 422, business 400 or chosen, 401, 403, 404, unavailable 503,
  anything else 500).
";

/// The size the example app's file must stay under (60 KiB, about 15,000
/// tokens): enough for every tool's API and the guide, small enough to
/// read in one go. A test of the example app holds it.
pub const BUDGET_BYTES: usize = 60 * 1024;

/// The authoring guide: templates, the rules the checks enforce, common
/// errors. The same text is the heart of a new project's `AGENTS.md`.
pub const GUIDE: &str = include_str!("guide.md");

/// The file's text.
///
/// ```
/// use microcore_registry::context::{Inputs, render};
/// let text = render(Inputs {
///     tools: &[], plugins: &[], routes: &[], topics: &[], apis: &[], migrations: &[],
///     models: &[], openapi: None, jobs: &[],
/// });
/// assert!(text.starts_with("# AI_CONTEXT.md"));
/// assert!(text.contains("## Authoring guide"));
/// ```
pub fn render(inputs: Inputs<'_>) -> String {
    let mut out = String::from(HEADER);
    tools(&mut out, inputs.tools);
    apis(&mut out, inputs.tools, inputs.apis);
    tables(&mut out, inputs.migrations);
    crate::models::render(&mut out, inputs.models);
    plugins(&mut out, &inputs);
    crate::operations::render(&mut out, inputs.routes, inputs.openapi);
    events(&mut out, &inputs);
    jobs(&mut out, inputs.jobs);
    out.push('\n');
    out.push_str(GUIDE);
    out
}

fn tools(out: &mut String, tools: &[ToolRecord]) {
    let _ = writeln!(
        out,
        "\n## Tools ({}), in boot order\n\n| tool | implementation | file | needs | status |\n|---|---|---|---|---|",
        tools.len()
    );
    for t in tools {
        let status = serde_json::to_value(crate::ToolStatus::of(&t.health).0).unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | `{}` | `{}` | {} | {} |",
            t.name,
            t.type_name,
            t.location,
            list_or_dash(&t.tools),
            status.as_str().unwrap_or_default()
        );
    }
}

/// Each tool's guide (its `AI.md`, verbatim) and the methods of its types,
/// tools in boot order, then any linked tool the app did not set up.
fn apis(out: &mut String, tools: &[ToolRecord], apis: &[&'static ApiBlock]) {
    let mut by_tool: BTreeMap<&str, Vec<&ApiBlock>> = BTreeMap::new();
    for block in apis {
        by_tool.entry(block.tool).or_default().push(block);
    }
    let mut order: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let unset: Vec<&str> = by_tool
        .keys()
        .copied()
        .filter(|t| !order.contains(t))
        .collect();
    order.extend(unset);
    out.push_str(
        "\n## Tool APIs\n\nWhat a plugin can call on each field, from the code (`#[tool] impl`).\n",
    );
    for tool in order {
        let Some(blocks) = by_tool.get(tool) else {
            continue;
        };
        let _ = writeln!(out, "\n### `{tool}`");
        if let Some(guide) = blocks.iter().find_map(|b| b.guide) {
            // A guide's own headings sit below this tool's.
            let _ = writeln!(out, "\n{}", demote(guide.trim()));
        }
        let mut types: Vec<&str> = Vec::new();
        for block in blocks {
            if !types.contains(&block.type_name) {
                types.push(block.type_name);
            }
        }
        for type_name in types {
            let _ = writeln!(out, "\n`{type_name}`:");
            for block in blocks.iter().filter(|b| b.type_name == type_name) {
                for m in block.methods {
                    let doc = if m.doc.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", m.doc)
                    };
                    let _ = writeln!(out, "- `{}`{doc}", m.signature);
                }
            }
        }
    }
}

/// `## x` becomes `#### x`, so a guide nests under its tool's heading.
fn demote(guide: &str) -> String {
    let mut fenced = false;
    let lines: Vec<String> = guide
        .lines()
        .map(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            if !fenced && line.starts_with('#') {
                format!("###{line}")
            } else {
                line.to_string()
            }
        })
        .collect();
    lines.join("\n")
}

fn tables(out: &mut String, migrations: &[Migration]) {
    // A tool's own tables (the event bus's outbox) are the framework's: no
    // plugin reads or writes them, so they cost the context nothing.
    let apps: Vec<Migration> = migrations
        .iter()
        .filter(|m| !m.file.starts_with("tools/"))
        .copied()
        .collect();
    let tables = crate::tables::tables(&apps);
    let _ = writeln!(
        out,
        "\n## Tables ({}), from the migrations\n\nOnly the owning domain's migrations and plugins write a table.\n\n| table | domain | columns |\n|---|---|---|",
        tables.len()
    );
    for (name, table) in &tables {
        let _ = writeln!(
            out,
            "| `{name}` | `{}` | `{}` |",
            table.domain,
            table.columns.join("`, `").replace('|', "\\|")
        );
    }
}

fn plugins(out: &mut String, inputs: &Inputs<'_>) {
    let mut plugins: Vec<&PluginRecord> = inputs.plugins.iter().collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    let _ = writeln!(out, "\n## Plugins ({})", plugins.len());
    for p in plugins {
        let status = serde_json::to_value(p.status).unwrap_or_default();
        let _ = writeln!(
            out,
            "\n### `{}` — {}\n- file: `{}` · domain: `{}` · tools: {}",
            p.name,
            status.as_str().unwrap_or_default(),
            p.location,
            p.domain,
            list_or_dash(&p.tools)
        );
        if let Some(error) = &p.error {
            let _ = writeln!(out, "- error: {error}");
        }
        if let Some(needs) = crate::edges::needs(p) {
            let _ = writeln!(out, "{needs}");
        }
        let routes: Vec<String> = inputs
            .routes
            .iter()
            .filter(|r| r.plugin == p.name)
            .map(|r| format!("`{} {}`", r.method, r.path))
            .collect();
        if !routes.is_empty() {
            let _ = writeln!(out, "- routes: {}", routes.join(", "));
        }
        let jobs: Vec<String> = inputs
            .jobs
            .iter()
            .filter(|j| j.plugin == p.name)
            .map(|j| format!("`{}`", j.name))
            .collect();
        if !jobs.is_empty() {
            let _ = writeln!(out, "- jobs: {}", jobs.join(", "));
        }
        for (label, role) in [
            ("publishes", Role::Publisher),
            ("subscribes", Role::Subscriber),
        ] {
            let topics: BTreeSet<String> = inputs
                .topics
                .iter()
                .filter(|t| {
                    t.schemas
                        .iter()
                        .any(|s| s.role == role && s.plugin == p.name)
                        || (role == Role::Subscriber
                            && t.subscribers.iter().any(|g| owns_group(&p.name, g)))
                })
                .map(|t| format!("`{}`", t.event))
                .collect();
            if !topics.is_empty() {
                let topics: Vec<String> = topics.into_iter().collect();
                let _ = writeln!(out, "- {label}: {}", topics.join(", "));
            }
        }
    }
}

/// Default groups are `<plugin>.<handler>`.
fn owns_group(plugin: &str, group: &str) -> bool {
    group
        .strip_prefix(plugin)
        .is_some_and(|rest| rest.starts_with('.'))
}

fn events(out: &mut String, inputs: &Inputs<'_>) {
    let _ = writeln!(
        out,
        "\n## Events ({})\n\nPayloads as `{{field: type}}`; `?` marks an optional field.",
        inputs.topics.len()
    );
    for t in inputs.topics {
        let _ = writeln!(out, "\n### `{}`", t.event);
        let mut schemas: Vec<_> = t.schemas.iter().collect();
        schemas.sort_by(|a, b| {
            (b.role == Role::Publisher, &a.plugin).cmp(&(a.role == Role::Publisher, &b.plugin))
        });
        for s in schemas {
            let verb = match s.role {
                Role::Publisher => "published by",
                Role::Subscriber => "read by",
            };
            let _ = writeln!(
                out,
                "- {verb} `{}` as `{}`: `{}`",
                s.plugin,
                s.type_name,
                shape(&s.json_schema)
            );
        }
        if !t.subscribers.is_empty() {
            let groups: Vec<String> = t.subscribers.iter().map(|g| format!("`{g}`")).collect();
            let _ = writeln!(out, "- consumer groups: {}", groups.join(", "));
        }
        let _ = writeln!(out, "- reply: {}", reply(t));
    }
}

/// The job table: what runs when, and which method runs it. Run figures
/// (last and next run) stay out, so two boots write the same file.
fn jobs(out: &mut String, jobs: &[JobInfo]) {
    let _ = writeln!(
        out,
        "\n## Scheduled jobs ({})\n\nCron jobs by name, one-shot jobs (`at`/`after`) by handler; UTC.\n",
        jobs.len()
    );
    if jobs.is_empty() {
        return;
    }
    out.push_str("| job | schedule | plugin | method |\n|---|---|---|---|\n");
    for j in jobs {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | `{}` | `{}` |",
            j.name, j.schedule, j.plugin, j.method
        );
    }
}

/// What `request` on the topic gets back: the type each responder
/// returns, or `none` (publish only: nobody answers).
fn reply(topic: &TopicInfo) -> String {
    if topic.replies.is_empty() {
        return "none (publish only)".into();
    }
    let replies: Vec<String> = topic
        .replies
        .iter()
        .map(|(plugin, ty)| format!("`{ty}` from `{plugin}`"))
        .collect();
    replies.join(", ")
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        items.join(", ")
    }
}

/// A JSON schema in one short line: `{id: integer, tags?: [string]}`.
///
/// ```
/// use microcore_registry::context::shape;
/// let schema = serde_json::json!({
///     "type": "object", "required": ["id"],
///     "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}
/// });
/// assert_eq!(shape(&schema), "{id: integer, tags?: [string]}");
/// ```
pub fn shape(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let options: Vec<String> = options.iter().map(shape).collect();
            return options.join(" | ");
        }
    }
    if let Some(properties) = schema["properties"].as_object() {
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields: Vec<String> = properties
            .iter()
            .map(|(name, field)| {
                let optional = if required.contains(name.as_str()) {
                    ""
                } else {
                    "?"
                };
                format!("{name}{optional}: {}", shape(field))
            })
            .collect();
        return format!("{{{}}}", fields.join(", "));
    }
    match &schema["type"] {
        Value::String(t) if t == "array" => format!("[{}]", shape(&schema["items"])),
        Value::String(t) => t.clone(),
        Value::Array(types) => {
            let types: BTreeMap<&str, ()> = types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| (t, ()))
                .collect();
            let names: Vec<String> = types
                .keys()
                .map(|t| match *t {
                    "array" => format!("[{}]", shape(&schema["items"])),
                    t => t.to_string(),
                })
                .collect();
            names.join(" | ")
        }
        _ => "any".into(),
    }
}

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, then a rename over `path`. An unchanged file is not touched.
///
/// # Errors
/// When the directory is not writable.
pub fn write(path: &Path, text: &str) -> std::io::Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Unique per process and call, so two writers never share a file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".AI_CONTEXT.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create_new(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use microcore::registry::{Health, PluginStatus};
    use microcore_event_bus::topology::PayloadSchema;
    use serde_json::json;

    use super::*;

    fn inputs_text() -> String {
        let tools = [ToolRecord {
            name: "http".into(),
            health: Health::Ok,
            type_name: "AxumHttp".into(),
            location: "tools/http/src/tool.rs:22".into(),
            tools: vec!["config".into()],
            critical: true,
        }];
        let plugin = |name: &str| PluginRecord {
            name: name.into(),
            domain: "users".into(),
            status: PluginStatus::Ready,
            error: None,
            tools: vec!["http".into(), "event_bus".into()],
            location: format!("domains/users/plugins/{name}.rs:5"),
            critical: true,
            needs: vec![],
        };
        let plugins = [plugin("users.Welcome"), plugin("users.RegisterUser")];
        let routes = [Route {
            method: "POST",
            path: "/users".to_string(),
            plugin: "users.RegisterUser",
            site: "domains/users/plugins/register_user.rs:20".to_string(),
            auth: None,
        }];
        let topics = [TopicInfo {
            event: "user.created".into(),
            subscribers: vec!["users.Welcome.on_user_created".into()],
            last_emitters: vec!["users.RegisterUser".into()],
            times_fired: 3,
            schemas: vec![
                PayloadSchema {
                    plugin: "users.Welcome".into(),
                    role: Role::Subscriber,
                    type_name: "NewUser".into(),
                    json_schema: json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}),
                },
                PayloadSchema {
                    plugin: "users.RegisterUser".into(),
                    role: Role::Publisher,
                    type_name: "UserCreated".into(),
                    json_schema: json!({"type": "object", "required": ["id", "email"], "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}}),
                },
            ],
            replies: vec![],
        }];
        let jobs = [JobInfo {
            name: "nightly-digest".into(),
            kind: microcore_scheduler::JobKind::Cron,
            schedule: "0 0 7 * * *".into(),
            plugin: "users.Welcome".into(),
            method: "digest".into(),
            last_run: None,
            last_status: None,
            next_run: None,
            pending: 0,
        }];
        render(Inputs {
            tools: &tools,
            plugins: &plugins,
            routes: &routes,
            topics: &topics,
            apis: &[],
            models: &[],
            openapi: None,
            jobs: &jobs,
            migrations: &[Migration::shared(
                "users",
                "0001",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
                None,
            )],
        })
    }

    #[test]
    fn lists_plugins_by_name_with_their_routes_and_events() {
        let text = inputs_text();
        let register = text.find("### `users.RegisterUser` — READY").unwrap();
        let welcome = text.find("### `users.Welcome` — READY").unwrap();
        assert!(register < welcome, "sorted by name");
        assert!(text.contains("- routes: `POST /users`"));
        assert!(text.contains("- publishes: `user.created`"));
        assert!(text.contains("- jobs: `nightly-digest`"));
        assert!(text.contains("| `nightly-digest` | `0 0 7 * * *` | `users.Welcome` | `digest` |"));
        assert!(text.contains("- subscribes: `user.created`"));
        assert!(text.contains(
            "- published by `users.RegisterUser` as `UserCreated`: `{email: string, id: integer}`"
        ));
        assert!(
            text.contains("| `http` | `AxumHttp` | `tools/http/src/tool.rs:22` | config | OK |")
        );
        assert!(
            text.contains(
                "| `users` | `users` | `id INTEGER PRIMARY KEY`, `email TEXT NOT NULL` |"
            )
        );
    }

    #[test]
    fn renders_each_tools_guide_and_methods_under_its_heading() {
        static BLOCK: ApiBlock = ApiBlock {
            tool: "mailer",
            type_name: "Mailer",
            location: microcore::descriptor::Location {
                file: "tools/mailer/src/handle.rs",
                line: 3,
            },
            guide: Some("## When to use\n\nTo send mail.\n\n```rust\n# hidden line\n```\n"),
            methods: &[microcore::api::Method {
                signature: "async fn send(&self, to: &str) -> Result<()>",
                doc: "Sends one e-mail.",
            }],
        };
        let text = render(Inputs {
            tools: &[],
            plugins: &[],
            routes: &[],
            topics: &[],
            apis: &[&BLOCK],
            migrations: &[],
            models: &[],
            openapi: None,
            jobs: &[],
        });
        let api = &text[text.find("### `mailer`").unwrap()..];
        assert!(
            api.contains("##### When to use\n\nTo send mail."),
            "guide headings nest under the tool's"
        );
        assert!(
            api.contains("```rust\n# hidden line\n```"),
            "code blocks are left alone"
        );
        assert!(api.contains(
            "`Mailer`:\n- `async fn send(&self, to: &str) -> Result<()>` — Sends one e-mail."
        ));
    }

    #[test]
    fn runtime_counts_stay_out_so_boots_agree() {
        let text = inputs_text();
        assert_eq!(text, inputs_text());
        assert!(!text.contains("times fired") && !text.contains("last emitters"));
    }

    #[test]
    fn writes_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("AI_CONTEXT.md");
        assert!(write(&path, "one").unwrap());
        assert!(!write(&path, "one").unwrap(), "unchanged: not rewritten");
        assert!(write(&path, "two").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn shapes_nullable_and_referenced_types() {
        assert_eq!(shape(&json!({"type": ["string", "null"]})), "null | string");
        assert_eq!(shape(&json!({"$ref": "#/components/schemas/User"})), "User");
        assert_eq!(shape(&json!({})), "any");
    }
}
