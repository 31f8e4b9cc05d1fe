//! Why a command stopped, and its exit status: 2 for input the command
//! cannot take (a bad name, a bad route), 1 for anything else (a file that
//! exists already, no project here, an I/O error).

use std::fmt;
use std::process::ExitCode;

/// A command's failure, shown to the user as `error: <message>`.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input: exit 2, like clap's own usage errors.
    Usage(String),
    /// Anything else: exit 1.
    Failed(String),
}

impl Failure {
    /// Bad input.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// Anything else.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// The process exit status.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Failed(_) => ExitCode::FAILURE,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Failure {}

/// An I/O error on `path`, as a failure naming the path.
pub(crate) fn io(action: &str, path: &std::path::Path, e: std::io::Error) -> Failure {
    Failure::failed(format!("cannot {action} {}: {e}", path.display()))
}
