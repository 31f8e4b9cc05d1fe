//! Findings a build script embeds in the binary: the checks that read
//! source or SQL (domain isolation, table ownership) run at build time,
//! because a deployed binary has no source to read; `check`, the boot log
//! and `/system/lint` report what they found.

use super::{Finding, Severity};

/// Which build-time check made a [`BuiltFinding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltCheck {
    /// A domain's code uses another domain's code.
    DomainIsolation,
    /// Two domains' migrations create or write one table.
    TableOwnership,
    /// A migration shared by both backends holds one backend's syntax.
    MigrationDialect,
}

/// One finding of a build-time check, as `microcore-build` writes it into
/// the domains crate.
///
/// ```
/// use microcore_commands::lint::{BuiltCheck, BuiltFinding, Severity, BUILT_FINDINGS};
///
/// #[microcore::__private::linkme::distributed_slice(BUILT_FINDINGS)]
/// #[linkme(crate = microcore::__private::linkme)]
/// static SHARED_TABLE: BuiltFinding = BuiltFinding {
///     check: BuiltCheck::TableOwnership,
///     code: "shared_table",
///     severity: Severity::Warning,
///     message: "table 'users' is written by two domains",
///     files: &["domains/users/migrations/0001_create_users.sql"],
///     help: "let one domain own it",
/// };
/// assert_eq!(microcore_commands::lint::table_ownership()[0].code, "shared_table");
/// ```
#[derive(Debug)]
pub struct BuiltFinding {
    /// The check that found it.
    pub check: BuiltCheck,
    /// A stable code, e.g. `cross_domain_use`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, naming the files involved.
    pub message: &'static str,
    /// The files involved, the one to change first.
    pub files: &'static [&'static str],
    /// How to fix it.
    pub help: &'static str,
}

/// Findings embedded by build scripts of linked crates.
#[linkme::distributed_slice]
pub static BUILT_FINDINGS: [BuiltFinding];

/// The embedded findings of one check, sorted by message.
pub(super) fn of(check: BuiltCheck) -> Vec<Finding> {
    let mut findings: Vec<Finding> = BUILT_FINDINGS
        .iter()
        .filter(|f| f.check == check)
        .map(|f| Finding {
            code: f.code,
            severity: f.severity,
            message: f.message.to_string(),
            files: f.files.iter().map(|f| f.to_string()).collect(),
            help: f.help.to_string(),
        })
        .collect();
    findings.sort_by(|a, b| a.message.cmp(&b.message));
    findings
}
