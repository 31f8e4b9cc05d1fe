//! `<app> migrate status|up|down [--domain d] [--steps n]`: migrations by
//! hand. It boots only the config, log and db tools, with automatic
//! migration off, so `up` and `down` do exactly what was asked.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use microcore::App;
use microcore_commands::{COMMANDS, CommandDescriptor};

use crate::migration::MIGRATIONS;
use crate::migrator::{MigrationStatus, Selection};
use crate::{Db, DbSettings};

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static MIGRATE: CommandDescriptor = CommandDescriptor {
    name: "migrate",
    about: "Show, apply or revert database migrations (status | up | down)",
    run,
};

/// Show, apply or revert the migrations embedded in this binary.
#[derive(Debug, Parser)]
#[command(name = "migrate")]
struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List every migration: applied (with its time) or pending.
    Status {
        /// Only this domain's migrations.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Apply pending migrations, in order.
    Up {
        /// Only this domain's migrations.
        #[arg(long)]
        domain: Option<String>,
        /// Apply at most this many (all pending ones by default).
        #[arg(long)]
        steps: Option<usize>,
    },
    /// Revert the latest applied migrations with their down files.
    Down {
        /// Only this domain's migrations.
        #[arg(long)]
        domain: Option<String>,
        /// Revert this many (1 by default).
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
}

/// Runs the command (the `run` of the `migrate` descriptor).
fn run(app: App, args: Vec<String>) -> ExitCode {
    let args = match Args::try_parse_from(std::iter::once("migrate".to_string()).chain(args)) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match execute(app, args.action).await {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Boots the database, runs the action, and returns what to print.
async fn execute(app: App, action: Action) -> Result<String, String> {
    let app = app
        .retain_tools(|t| ["config", "calls", "log", "db"].contains(&t.name))
        .tools_only()
        .with_var("DB_AUTO_MIGRATE", "false");
    let running = app.boot().await.map_err(|e| e.to_string())?;
    let outcome = async {
        let db: Db = running
            .handle()
            .ok_or("error: no db tool is linked into this binary")?;
        let mut out = String::new();
        let domain = match action {
            Action::Status { domain } => domain,
            Action::Up { domain, steps } => {
                let selection = Selection {
                    domain: domain.clone(),
                    steps,
                };
                let applied = db.migrate_up(&MIGRATIONS, &selection).await;
                let applied = applied.map_err(|e| format!("error: {}", e.chain()))?;
                for m in &applied {
                    let _ = writeln!(out, "applied   {}/{}", m.domain, m.name);
                }
                if applied.is_empty() {
                    out.push_str("nothing to apply\n");
                }
                domain
            }
            Action::Down { domain, steps } => {
                let selection = Selection {
                    domain: domain.clone(),
                    steps: Some(steps),
                };
                let reverted = db.migrate_down(&MIGRATIONS, &selection).await;
                let reverted = reverted.map_err(|e| format!("error: {}", e.chain()))?;
                for m in &reverted {
                    let _ = writeln!(out, "reverted  {}/{}", m.domain, m.name);
                }
                if reverted.is_empty() {
                    out.push_str("nothing to revert\n");
                }
                domain
            }
        };
        let status = db.migration_status(&MIGRATIONS).await;
        let mut status = status.map_err(|e| format!("error: {}", e.chain()))?;
        status.retain(|m| domain.as_deref().is_none_or(|d| d == m.domain));
        if !out.is_empty() {
            out.push('\n');
        }
        let settings = DbSettings::for_url(db_url(&running));
        let _ = writeln!(out, "database: {}", settings.masked_url());
        out.push_str(&render(&status));
        Ok::<_, String>(out)
    }
    .await;
    running.shutdown().await;
    outcome
}

/// The URL the db tool connected to, as the config tool read it.
fn db_url(running: &microcore::Running) -> String {
    running
        .handle::<microcore_config::Config>()
        .and_then(|c| c.raw("DATABASE_URL"))
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| crate::settings::DEFAULT_URL.to_string())
}

/// The status table.
///
/// ```text
/// DOMAIN  MIGRATION          APPLIED AT
/// users   0001_create_users  2026-03-01T10:00:00.123Z
/// users   0002_add_avatar    pending
/// 2 migrations: 1 applied, 1 pending
/// ```
fn render(status: &[MigrationStatus]) -> String {
    let width = |head: &str, f: &dyn Fn(&MigrationStatus) -> usize| {
        status.iter().map(f).chain([head.len()]).max().unwrap_or(0)
    };
    let domain_w = width("DOMAIN", &|m| m.domain.len());
    let name_w = width("MIGRATION", &|m| m.name.len());
    let mut out = format!(
        "{:<domain_w$}  {:<name_w$}  APPLIED AT\n",
        "DOMAIN", "MIGRATION"
    );
    for m in status {
        let _ = writeln!(
            out,
            "{:<domain_w$}  {:<name_w$}  {}",
            m.domain, m.name, m.state
        );
    }
    let pending = status
        .iter()
        .filter(|m| m.state == crate::MigrationState::Pending)
        .count();
    let _ = writeln!(
        out,
        "{} migration{}: {} applied, {pending} pending",
        status.len(),
        if status.len() == 1 { "" } else { "s" },
        status.len() - pending
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MigrationState;

    #[test]
    fn renders_an_aligned_table() {
        let status = vec![
            MigrationStatus {
                domain: "users".into(),
                name: "0001_create_users".into(),
                state: MigrationState::Applied {
                    at: "2026-03-01T10:00:00.123Z".into(),
                },
            },
            MigrationStatus {
                domain: "users".into(),
                name: "0002_add_avatar".into(),
                state: MigrationState::Pending,
            },
        ];
        assert_eq!(
            render(&status),
            "DOMAIN  MIGRATION          APPLIED AT\n\
             users   0001_create_users  2026-03-01T10:00:00.123Z\n\
             users   0002_add_avatar    pending\n\
             2 migrations: 1 applied, 1 pending\n"
        );
    }

    #[test]
    fn parses_the_arguments() {
        let args =
            Args::try_parse_from(["migrate", "down", "--domain", "users", "--steps", "2"]).unwrap();
        assert!(
            matches!(args.action, Action::Down { steps: 2, domain: Some(ref d) } if d == "users")
        );
        assert!(Args::try_parse_from(["migrate", "sideways"]).is_err());
    }
}
