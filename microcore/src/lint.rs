//! Checks that need the app booted: what plugins declare in `on_boot`
//! (events and their payload schemas, ...). Tools contribute lints to
//! [`LINTS`]; `cargo run -- check` boots a dry run of the app (every tool
//! on its [`Tool::DRY_RUN`](crate::Tool::DRY_RUN) settings) and runs them.

use std::fmt;

use serde::Serialize;

use crate::Running;

/// How bad a finding is: errors fail `check`; warnings fail `check --strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; `check --strict` fails on it.
    Warning,
    /// Wrong: `check` fails.
    Error,
}

/// One problem a lint found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code, e.g. `missing_field`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, naming the files involved.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{level}[{}]: {}\n  = help: {}",
            self.code, self.message, self.help
        )
    }
}

/// A check contributed by a tool crate.
///
/// ```
/// use microcore::lint::{Finding, LintDescriptor, LINTS};
///
/// #[microcore::__private::linkme::distributed_slice(LINTS)]
/// #[linkme(crate = microcore::__private::linkme)]
/// static NOTHING_TO_SAY: LintDescriptor = LintDescriptor {
///     name: "nothing",
///     run: |_running| Vec::<Finding>::new(),
/// };
/// ```
#[derive(Debug)]
pub struct LintDescriptor {
    /// A short name.
    pub name: &'static str,
    /// Inspects the booted app.
    pub run: fn(&Running) -> Vec<Finding>,
}

/// Lints contributed by linked crates.
#[linkme::distributed_slice]
pub static LINTS: [LintDescriptor];

impl Running {
    /// Every finding of every linked lint, errors first.
    pub fn lint(&self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = LINTS.iter().flat_map(|l| (l.run)(self)).collect();
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.message.cmp(&b.message)));
        findings
    }
}
