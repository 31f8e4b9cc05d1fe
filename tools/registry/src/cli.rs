//! `cargo run -- context` and `cargo run -- routes`: what this build would
//! serve, from a dry run of the boot (every tool on its `DRY_RUN` settings:
//! in-memory backends, no port bound, no file written), so they work
//! anywhere.

use std::process::ExitCode;

use microcore::App;
use microcore_commands::{COMMANDS, CommandDescriptor, inspect};

use crate::Registry;

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static CONTEXT: CommandDescriptor = CommandDescriptor {
    name: "context",
    about: "Print AI_CONTEXT.md for this build (a dry run of the boot: in-memory backends, nothing served or written)",
    run: context,
};

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static AGENTS: CommandDescriptor = CommandDescriptor {
    name: "agents",
    about: "Print AGENTS.md: how to build, test and add a plugin, and the rules (the file `microcore new` writes)",
    run: agents,
};

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static ROUTES: CommandDescriptor = CommandDescriptor {
    name: "routes",
    about: "List every route: method, path, plugin, file, auth (`--json` for JSON)",
    run: routes,
};

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static JOBS: CommandDescriptor = CommandDescriptor {
    name: "jobs",
    about: "List every scheduled job: schedule, plugin, method, next run (`--json` for JSON)",
    run: jobs,
};

fn context(app: App, _args: Vec<String>) -> ExitCode {
    with_registry(app, |registry| {
        print!("{}", registry.context());
        ExitCode::SUCCESS
    })
}

fn agents(_app: App, args: Vec<String>) -> ExitCode {
    if !args.is_empty() {
        eprintln!("error: `agents` takes no arguments, got {args:?}");
        return ExitCode::from(2);
    }
    print!("{}", crate::agents::render());
    ExitCode::SUCCESS
}

fn routes(app: App, args: Vec<String>) -> ExitCode {
    let Some(json) = json_flag("routes", &args) else {
        return ExitCode::from(2);
    };
    with_registry(app, |registry| {
        let table = crate::routes::table(registry);
        print_table(json, &table, crate::routes::render)
    })
}

fn jobs(app: App, args: Vec<String>) -> ExitCode {
    let Some(json) = json_flag("jobs", &args) else {
        return ExitCode::from(2);
    };
    // A dry run: the jobs as declared, the next fire computed, no table read.
    with_registry(app, |registry| {
        print_table(json, &registry.declared_jobs(), crate::jobs::render)
    })
}

/// `Some(true)` for `--json`, `Some(false)` for nothing; `None` (after
/// saying why) for anything else.
fn json_flag(command: &str, args: &[String]) -> Option<bool> {
    match args {
        [] => Some(false),
        [flag] if flag == "--json" => Some(true),
        _ => {
            eprintln!("error: `{command}` takes no arguments but `--json`, got {args:?}");
            None
        }
    }
}

fn print_table<R: serde::Serialize>(
    json: bool,
    rows: &[R],
    render: impl FnOnce(&[R]) -> String,
) -> ExitCode {
    if !json {
        print!("{}", render(rows));
        return ExitCode::SUCCESS;
    }
    match serde_json::to_string_pretty(rows) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `f` on the registry of a dry-run boot of `app`.
fn with_registry(app: App, f: impl FnOnce(&Registry) -> ExitCode) -> ExitCode {
    let outcome = inspect(app, |running| running.handle::<Registry>().map(|r| f(&r)));
    match outcome {
        Ok(Some(code)) => code,
        Ok(None) => {
            eprintln!("error: the registry tool is not set up in this app");
            ExitCode::FAILURE
        }
        Err(code) => code,
    }
}
