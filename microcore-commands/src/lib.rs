//! The app binary's command line: `serve` (the default), `check`, `doctor`,
//! `graph`, and the commands tools add (`migrate`, `context`, ...) through
//! [`COMMANDS`].
//!
//! An app's `main` is one line: `microcore_commands::main(microcore::App::linked())`.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Arg, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use microcore::App;
use microcore::graph::BootPlan;

pub mod lint;
mod memory;
pub mod model;
pub mod report;
mod signal;
mod tool_command;
pub mod wiring;

pub use tool_command::{COMMANDS, CommandDescriptor, inspect, quiet_logs};

/// A microcore app.
#[derive(Debug, Parser)]
#[command(version, about = "A microcore app: boots every linked tool and plugin, or inspects them.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot the app and serve until SIGINT or SIGTERM (what no argument does).
    Serve,
    /// Check the wiring of every tool and plugin, then boot a dry run (every
    /// tool on in-memory settings, nothing served) and run the lints (event
    /// contracts; domain isolation, table ownership and plugin naming).
    /// Prints every problem; exits 1 on an error. Never serves.
    Check {
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
        /// `text` for people, `json` for tools: one document with every
        /// diagnostic (code, severity, message, file, line, column, help;
        /// docs/check-json.md).
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Check every tool against the real configuration (settings valid,
    /// database reachable and migrated, bus and state reachable, secrets,
    /// port free) and say what to fix; exits 1 if any tool fails.
    Doctor,
    /// Print the boot order of the tools and each plugin's dependencies.
    Graph {
        /// `text` for people, `dot` for Graphviz (`... graph --format dot | dot -Tsvg`).
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Text,
    Dot,
}

/// Parses the command line and runs the command on `app`.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     microcore_commands::main(microcore::App::linked())
/// }
/// ```
pub fn main(app: App) -> ExitCode {
    let mut command = Cli::command();
    for extra in COMMANDS.iter() {
        command = command.subcommand(
            clap::Command::new(extra.name).about(extra.about).arg(
                Arg::new("args")
                    .num_args(0..)
                    .trailing_var_arg(true)
                    .allow_hyphen_values(true),
            ),
        );
    }
    let matches = command.get_matches();
    if let Some((name, sub)) = matches.subcommand()
        && let Some(extra) = COMMANDS.iter().find(|c| c.name == name)
    {
        let args = sub
            .get_many::<String>("args")
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        return (extra.run)(app, args);
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Serve) {
        quiet_logs();
    }
    match command {
        Command::Serve => serve(app),
        Command::Check { strict, format } => match format {
            CheckFormat::Text => check(app, strict),
            CheckFormat::Json => check_json(app, strict),
        },
        Command::Doctor => doctor(app),
        Command::Graph { format } => graph(app, format),
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|e| eprintln!("error: cannot start the async runtime: {e}"))
        .ok()
}

/// The wiring check, then a dry run of the boot and every lint.
fn check(app: App, strict: bool) -> ExitCode {
    let plan = match app.check() {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "wiring OK: {} tools, {} plugins",
        plan.tools.len(),
        plan.plugins.len()
    );
    let findings = match dry_run_findings(app) {
        Ok(findings) => findings,
        Err(e) => {
            if let Some(e) = e {
                eprintln!("{e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let errors = findings
        .iter()
        .filter(|f| f.severity == lint::Severity::Error)
        .count();
    for f in &findings {
        eprintln!("{f}\n");
    }
    println!(
        "lint: {errors} errors, {} warnings",
        findings.len() - errors
    );
    if errors > 0 || (strict && !findings.is_empty()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `check --format json`: the same checks, every problem in one JSON
/// document on stdout ([`report::Report`]), nothing else printed.
fn check_json(app: App, strict: bool) -> ExitCode {
    let report = check_report(app);
    match serde_json::to_string_pretty(&report) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if report.fails(strict) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What `check` finds in `app`, as the document `check --format json`
/// prints: the wiring check, then a dry run of the boot and every lint.
/// It starts its own async runtime: call it outside one.
///
/// ```
/// let report = microcore_commands::check_report(microcore::App::new(vec![], vec![]));
/// assert_eq!(report.version, microcore_commands::report::SCHEMA_VERSION);
/// assert_eq!(report.fails(false), report.errors > 0);
/// ```
pub fn check_report(app: App) -> report::Report {
    let entries = match app.check() {
        Err(errors) => report::wiring(&errors),
        Ok(_) => match dry_run_findings(app) {
            Ok(findings) => findings.iter().map(report::finding).collect(),
            Err(Some(e)) => report::boot_error(&e),
            Err(None) => vec![report::Entry::error(
                "runtime",
                "cannot start the async runtime",
                "check the process limits (threads, memory)",
            )],
        },
    };
    report::Report::new(entries)
}

/// Boots a dry run of `app` and returns every lint's finding, plus one
/// per plugin that failed its `on_boot`; `Err` when the boot stopped
/// (`None`: no async runtime, already reported).
fn dry_run_findings(app: App) -> Result<Vec<lint::Finding>, Option<microcore::BootError>> {
    let dry = app.dry_run();
    let runtime = runtime().ok_or(None)?;
    runtime.block_on(async {
        let running = dry.boot().await.map_err(Some)?;
        let mut findings = lint::run(&running);
        for p in running.registry().plugins() {
            if let (microcore::registry::PluginStatus::Dead, Some(why)) = (p.status, &p.error) {
                findings.push(lint::Finding {
                    code: "plugin_failed",
                    severity: lint::Severity::Error,
                    message: format!("plugin '{}' ({}) failed to boot: {why}", p.name, p.location),
                    files: vec![lint::file_of(&p.location).to_string()],
                    help: "fix its on_boot; the app would serve without it".into(),
                });
            }
        }
        running.shutdown().await;
        Ok(findings)
    })
}

/// Sets every tool up for real (no plugin), reporting each one's outcome
/// and health instead of stopping at the first failure.
fn doctor(app: App) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let running = match app.tools_only().keep_going().boot().await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let health = running.registry().health().await;
        running.shutdown().await;
        let mut problems = 0;
        println!("doctor: every tool set up with the real configuration");
        for t in running_tools(&health) {
            match t {
                (name, None) => println!("  ok    {name}"),
                (name, Some(why)) => {
                    problems += 1;
                    println!("  FAIL  {name:<10} {why}");
                }
            }
        }
        if problems == 0 {
            println!("all tools are ready");
            ExitCode::SUCCESS
        } else {
            println!("{problems} tool(s) to fix: see the messages above and docs/configuration.md");
            ExitCode::FAILURE
        }
    })
}

fn running_tools(
    health: &[microcore::registry::ToolRecord],
) -> impl Iterator<Item = (&str, Option<&str>)> {
    health.iter().map(|t| match &t.health {
        microcore::Health::Ok => (t.name.as_str(), None),
        microcore::Health::Failing(why) => (t.name.as_str(), Some(why.as_str())),
    })
}

fn serve(app: App) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    // Boxed: `block_on` keeps its future on the main thread's stack, and
    // the boot's is large; pages a stack touched once stay resident.
    runtime.block_on(Box::pin(async {
        let signal = signal::ShutdownSignal::install();
        memory::keep_big_buffers_unpooled();
        match app.boot().await {
            Ok(running) => {
                lint::log(&running);
                memory::release_boot_memory();
                signal.recv().await;
                tracing::info!("shutdown signal received: draining");
                running.shutdown().await;
                ExitCode::SUCCESS
            }
            // Once, on stderr: a log line too would say it twice.
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        }
    }))
}

/// The boot plan, then what each plugin registers (from a dry run of the
/// boot; left out, with a note on stderr, when the dry run fails).
fn graph(app: App, format: GraphFormat) -> ExitCode {
    let plan = match app.check() {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let wires = match runtime() {
        None => Vec::new(),
        Some(runtime) => runtime.block_on(async {
            match app.dry_run().boot().await {
                Ok(running) => {
                    let wires = wiring::collect(&running);
                    running.shutdown().await;
                    wires
                }
                Err(e) => {
                    eprintln!("note: routes, events and jobs are left out: the dry run of the boot failed:\n{e}");
                    Vec::new()
                }
            }
        }),
    };
    print!(
        "{}",
        match format {
            GraphFormat::Text => render_text(&plan, &wires),
            GraphFormat::Dot => render_dot(&plan, &wires),
        }
    );
    ExitCode::SUCCESS
}

/// The boot plan for people, each plugin followed by what it registers.
fn render_text(plan: &BootPlan, wires: &[wiring::Wire]) -> String {
    let mut out = String::from("tools, in boot order:\n");
    for (i, t) in plan.tools.iter().enumerate() {
        let needs: Vec<&str> = t.deps.iter().map(|d| d.tool).collect();
        let _ = write!(
            out,
            "  {:>2}. {:<12} {:<28}",
            i + 1,
            t.name,
            t.location.to_string()
        );
        if !needs.is_empty() {
            let _ = write!(out, " needs {}", needs.join(", "));
        }
        out.push('\n');
    }
    for (old, new) in &plan.replaced {
        let _ = writeln!(
            out,
            "  ({} of {} replaced by {})",
            old.name, old.type_name, new.type_name
        );
    }
    out.push_str("plugins, in boot order:\n");
    for p in &plan.plugins {
        let deps: Vec<String> = p
            .deps
            .iter()
            .map(|d| format!("{}: {}", d.field, d.tool))
            .collect();
        let name = p.qualified_name();
        let _ = writeln!(
            out,
            "  {:<28} {:<40} {{ {} }}",
            name,
            p.location.to_string(),
            deps.join(", ")
        );
        for w in wires.iter().filter(|w| w.plugin == name) {
            let _ = writeln!(out, "      {:<10} {}", w.kind, w.name);
        }
    }
    out
}

/// The dependency graph for Graphviz: tools are boxes, plugins ellipses,
/// each edge labelled with the field that needs it; what a plugin
/// registers hangs off it as plain text on a dashed edge.
fn render_dot(plan: &BootPlan, wires: &[wiring::Wire]) -> String {
    let mut out =
        String::from("digraph microcore {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for t in &plan.tools {
        let _ = writeln!(out, "  \"{}\" [shape=box];", t.name);
        for d in t.deps {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                t.name, d.tool, d.field
            );
        }
    }
    for p in &plan.plugins {
        let name = p.qualified_name();
        let _ = writeln!(out, "  \"{name}\" [shape=ellipse];");
        for d in p.deps {
            let _ = writeln!(
                out,
                "  \"{name}\" -> \"{}\" [label=\"{}\"];",
                d.tool, d.field
            );
        }
        for w in wires.iter().filter(|w| w.plugin == name) {
            if let Some(tool) = &w.tool {
                let via = w.name.replace('"', "\\\"");
                let _ = writeln!(
                    out,
                    "  \"{name}\" -> \"{tool}\" [style=dashed, label=\"{via}\"];"
                );
                continue;
            }
            let node = format!("{} {}", w.kind, w.name).replace('"', "\\\"");
            let _ = writeln!(
                out,
                "  \"{node}\" [shape=plaintext];\n  \"{name}\" -> \"{node}\" [style=dashed];"
            );
        }
    }
    out.push_str("}\n");
    out
}
