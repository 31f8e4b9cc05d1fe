//! Subcommands tools add to the app's command line (`migrate`, `context`).
//!
//! The command line itself (`serve`, `check`, `doctor`, `graph`) is the
//! `microcore-commands` crate; the kernel only keeps this slice, so a tool
//! can contribute a command without depending on it.

use std::process::ExitCode;

use crate::App;

/// A subcommand a tool adds to the app's command line.
///
/// ```
/// use microcore::cli::{COMMANDS, CommandDescriptor};
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
