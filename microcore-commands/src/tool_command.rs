//! Subcommands tools add to the app's command line (`migrate`, `context`).
//!
//! The command line's own commands (`serve`, `check`, `doctor`, `graph`)
//! are in `lib.rs`; a tool adds one by putting a [`CommandDescriptor`] in
//! [`COMMANDS`], so the kernel knows nothing of commands.

use std::process::ExitCode;

use microcore::{App, Running};

/// A subcommand a tool adds to the app's command line.
///
/// ```
/// use microcore_commands::{COMMANDS, CommandDescriptor};
/// use std::process::ExitCode;
///
/// #[microcore::__private::linkme::distributed_slice(COMMANDS)]
/// #[linkme(crate = microcore::__private::linkme)]
/// static HELLO: CommandDescriptor = CommandDescriptor {
///     name: "hello",
///     about: "Say hello",
///     run: |_app, args| { println!("hello {args:?}"); ExitCode::SUCCESS },
/// };
/// ```
#[derive(Debug)]
pub struct CommandDescriptor {
    /// The subcommand, e.g. `migrate`.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Runs it with the app and the arguments after the name.
    pub run: fn(App, Vec<String>) -> ExitCode,
}

/// Commands contributed by linked tools.
#[linkme::distributed_slice]
pub static COMMANDS: [CommandDescriptor];

/// Boots `app` as a [dry run](App::dry_run) on a runtime of its own, hands
/// the running app to `inspect`, then shuts it down: how `context` and
/// `routes` print what a boot would serve without touching anything real.
/// A boot that fails is printed, and is the `Err` exit code.
///
/// ```
/// let plugins = microcore_commands::inspect(microcore::App::new(vec![], vec![]), |running| {
///     running.registry().plugins().len()
/// });
/// assert_eq!(plugins.ok(), Some(0));
/// ```
pub fn inspect<T>(app: App, inspect: impl FnOnce(&Running) -> T) -> Result<T, ExitCode> {
    quiet_logs();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })?;
    runtime.block_on(async {
        let running = app.dry_run().boot().await.map_err(|e| {
            eprintln!("{e}");
            ExitCode::FAILURE
        })?;
        let seen = inspect(&running);
        running.shutdown().await;
        Ok(seen)
    })
}

/// Turns logging off for the rest of the process unless `RUST_LOG` asks
/// for it: an inspection command (`check`, `routes`, `graph`) prints its
/// answer, and boot lines or warnings about settings it does not use
/// would bury it. Call it before the boot; the log tool then finds a
/// subscriber in place and leaves it.
///
/// ```
/// microcore_commands::quiet_logs();
/// tracing::warn!("not printed, unless RUST_LOG is set");
/// ```
pub fn quiet_logs() {
    if std::env::var_os("RUST_LOG").is_none() {
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    }
}
