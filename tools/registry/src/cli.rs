//! `cargo run -- context`: print `AI_CONTEXT.md` for this build, from a
//! dry run of the boot (every tool on its `DRY_RUN` settings: in-memory
//! backends, a throwaway port, no file written), so it works anywhere.

use std::process::ExitCode;

use microcore::App;
use microcore::cli::{COMMANDS, CommandDescriptor};

use crate::Registry;

#[microcore::__private::linkme::distributed_slice(COMMANDS)]
#[linkme(crate = microcore::__private::linkme)]
static CONTEXT: CommandDescriptor = CommandDescriptor {
    name: "context",
    about: "Print AI_CONTEXT.md for this build (a dry run of the boot: in-memory backends, nothing served or written)",
    run,
};

fn run(app: App, _args: Vec<String>) -> ExitCode {
    let mut dry = app;
    let settings: Vec<_> = dry.tools().iter().flat_map(|t| t.dry_run).collect();
    for (name, value) in settings {
        dry = dry.with_var(*name, *value);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let running = match dry.boot().await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let context = running.handle::<Registry>().map(|r| r.context());
        running.shutdown().await;
        match context {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: the registry tool is not set up in this app");
                ExitCode::FAILURE
            }
        }
    })
}
