//! `microcore`: the developer's command line.
//!
//! - `microcore new <dir>` creates a project that boots with `cargo run`;
//! - `microcore add domain|plugin|tool|migration ...` writes new files from
//!   templates that compile as generated, each with a test, refusing to
//!   overwrite anything;
//! - `microcore dev` rebuilds and restarts the app on every change while
//!   keeping its listening socket open;
//! - `microcore check [--format json]` builds the app and runs its checks,
//!   compile errors and wiring problems alike in one JSON document.
//!
//! Install it with `cargo install --path cli`; see `docs/cli.md`.

// The doc comments of the commands are their `--help` text, where
// `domains/<name>/` is the usual way to write a placeholder: not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod add;
mod check;
mod dev;
mod failure;
mod files;
mod git;
mod manifest;
mod names;
mod new;
mod plugin_file;
mod rustfmt;
mod table_file;
mod templates;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// The microcore command line: scaffold a project, add features, develop
/// with hot reload.
#[derive(Debug, Parser)]
#[command(name = "microcore", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a project: a workspace whose root package is the app, a
    /// domains crate with a `ping` domain, a README. `cargo run` serves /ping.
    New {
        /// The folder to create (it may exist if it holds none of the files).
        dir: PathBuf,
        /// The app's package name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// The microcore checkout to depend on by path (default: the one
        /// this `microcore` was built from).
        #[arg(long, value_name = "PATH")]
        microcore_path: Option<PathBuf>,
    },
    /// Add a domain, a plugin, a tool or a migration to the project around
    /// the current directory.
    Add {
        #[command(subcommand)]
        what: Add,
    },
    /// Build, run and rebuild the app on every change to domains/, tools/,
    /// src/, Cargo.toml or .env, on one listening socket (HTTP_HOST,
    /// HTTP_PORT; default 127.0.0.1:8000) that stays open across restarts.
    Dev,
    /// Build the app, then run its `check` (wiring, a dry boot, the
    /// lints). With `--format json`, one JSON document on stdout holds every
    /// diagnostic, compile errors included (docs/check-json.md); exits 1 on
    /// an error.
    Check {
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
        /// `text` (cargo's and the app's own output) or `json`.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Add {
    /// A domain folder: domains/<name>/models.rs and an empty plugins/.
    Domain {
        /// snake_case, e.g. `billing`.
        name: String,
    },
    /// A plugin file, domains/<domain>/plugins/<name>.rs, with a unit test
    /// (the domain folder is created if it is new).
    Plugin {
        /// The domain folder, e.g. `notes`.
        domain: String,
        /// The file name, snake_case; the struct is its UpperCamelCase.
        name: String,
        /// Serve a route: a method and a path, e.g. "GET /notes/{note_id}".
        #[arg(long, value_name = "\"METHOD /path\"")]
        route: Option<String>,
        /// Subscribe to a topic, e.g. `note.created`, with its own payload type.
        #[arg(long, value_name = "TOPIC")]
        event: Option<String>,
        /// With --route: serve it from a table of the domain with typed
        /// queries (portable to PostgreSQL), adding the table's migration
        /// and its entity in models.rs when missing, e.g. `notes`.
        #[arg(long, value_name = "TABLE")]
        table: Option<String>,
    },
    /// A tool crate, tools/<name>, with a handle and a `#[tool]`, linked
    /// into the app and usable from plugins.
    Tool {
        /// snake_case, e.g. `mailer`.
        name: String,
    },
    /// The next migration of a domain: domains/<domain>/migrations/NNNN_<name>.sql.
    Migration {
        /// The domain folder.
        domain: String,
        /// snake_case, e.g. `create_notes`.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::New {
            dir,
            name,
            microcore_path,
        } => new::run(
            &dir,
            name.as_deref(),
            &microcore_path.unwrap_or_else(new::default_checkout),
        ),
        Command::Add { what } => {
            let root = files::project_root(&files::current_dir()?)?;
            match what {
                Add::Domain { name } => add::domain(&root, &name),
                Add::Plugin {
                    domain,
                    name,
                    route,
                    event,
                    table,
                } => add::plugin(
                    &root,
                    &domain,
                    &name,
                    route.as_deref(),
                    event.as_deref(),
                    table.as_deref(),
                ),
                Add::Tool { name } => add::tool(&root, &name),
                Add::Migration { domain, name } => add::migration(&root, &domain, &name),
            }
        }
        Command::Dev => dev::run(),
        Command::Check { strict, format } => {
            let root = files::project_root(&files::current_dir()?)?;
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(check::run(&root, format == Format::Json, strict))
        }
    }
}
