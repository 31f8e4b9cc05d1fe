//! Checks that need the app booted: what plugins declare in `on_boot`
//! (events and their payload schemas, ...). Tools contribute lints to
//! [`LINTS`]; `cargo run -- check` boots a dry run of the app (every tool
//! on its [`Tool::DRY_RUN`](microcore::Tool::DRY_RUN) settings) and runs
//! them, and `serve` logs what they find.
//!
//! The architecture lints are here too: plugin naming (over the
//! registered plugins) and what build scripts found in source and SQL
//! ([`BUILT_FINDINGS`]: domain isolation, table ownership). They are the
//! command line's, not the kernel's: the kernel boots, it does not judge.

mod built;
mod naming;

use std::fmt;

use serde::Serialize;

use microcore::Running;
use microcore::registry::PluginRecord;

pub use built::{BUILT_FINDINGS, BuiltCheck, BuiltFinding};

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
    /// The files involved (workspace-relative), the one to change first.
    pub files: Vec<String>,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{level}[{}]: {}", self.code, self.message)?;
        for file in &self.files {
            write!(f, "\n  --> {file}")?;
        }
        write!(f, "\n  = help: {}", self.help)
    }
}

/// A check contributed by a tool crate.
///
/// ```
/// use microcore_commands::lint::{Finding, LintDescriptor, LINTS};
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

/// Every finding of the architecture lints ([`architecture`],
/// [`table_ownership`]) and of every linked lint on `running`, errors first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let running = microcore::App::new(vec![], vec![]).boot().await.unwrap();
/// let findings = microcore_commands::lint::run(&running);
/// assert!(findings.iter().all(|f| f.severity <= microcore_commands::lint::Severity::Error));
/// running.shutdown().await;
/// # }
/// ```
pub fn run(running: &Running) -> Vec<Finding> {
    let mut findings = architecture(&running.registry().plugins());
    findings.extend(table_ownership());
    findings.extend(migration_dialects());
    findings.extend(LINTS.iter().flat_map(|l| (l.run)(running)));
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.message.cmp(&b.message)));
    findings
}

/// One log line per finding, so a serving app says what `check` would.
pub(crate) fn log(running: &Running) {
    for f in run(running) {
        let (code, files) = (f.code, f.files.join(", "));
        let line = format!("lint: {} (help: {})", f.message, f.help);
        match f.severity {
            Severity::Warning => tracing::warn!(code, files, "{line}"),
            Severity::Error => tracing::error!(code, files, "{line}"),
        }
    }
}

/// The file of a registry location (`domains/users/plugins/me.rs:9` →
/// `domains/users/plugins/me.rs`), for [`Finding::files`].
///
/// ```
/// assert_eq!(microcore_commands::lint::file_of("domains/ping/plugins/ping.rs:6"), "domains/ping/plugins/ping.rs");
/// ```
pub fn file_of(location: &str) -> &str {
    match location.rsplit_once(':') {
        Some((file, line)) if line.bytes().all(|b| b.is_ascii_digit()) => file,
        _ => location,
    }
}

/// Architecture violations (`arch_violations` of `/system/lint`): a
/// domain using another domain's code (found at build time) and plugins
/// not named after their files.
pub fn architecture(plugins: &[PluginRecord]) -> Vec<Finding> {
    let mut findings = built::of(BuiltCheck::DomainIsolation);
    findings.extend(naming::check(plugins));
    findings
}

/// Migrations shared by both backends that hold one backend's syntax
/// (`migration_dialects` of `/system/lint`; found at build time).
pub fn migration_dialects() -> Vec<Finding> {
    built::of(BuiltCheck::MigrationDialect)
}

/// Tables that more than one domain's migrations create or write
/// (`table_ownership_warnings` of `/system/lint`; found at build time).
pub fn table_ownership() -> Vec<Finding> {
    built::of(BuiltCheck::TableOwnership)
}
