//! Findings as Rust items: one `microcore_commands::lint::BUILT_FINDINGS` entry
//! each, for the domains crate to `include!`.

use std::fmt::Write as _;

use crate::Found;

/// The items registering `found`; empty when there is nothing to say.
///
/// ```
/// assert_eq!(microcore_build::emit::rust(&[]), "");
/// ```
pub fn rust(found: &[Found]) -> String {
    if found.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n// Architecture findings of microcore-build (domain isolation, table ownership, SQL dialects).\n",
    );
    for (i, f) in found.iter().enumerate() {
        let _ = writeln!(
            out,
            "#[::microcore::__private::linkme::distributed_slice(::microcore_commands::lint::BUILT_FINDINGS)]\n\
             #[linkme(crate = ::microcore::__private::linkme)]\n\
             static BUILT_FINDING_{i}: ::microcore_commands::lint::BuiltFinding = ::microcore_commands::lint::BuiltFinding {{\n    \
             check: ::microcore_commands::lint::BuiltCheck::{},\n    code: {:?},\n    \
             severity: ::microcore_commands::lint::Severity::{},\n    message: {:?},\n    \
             files: &{:?},\n    help: {:?},\n}};",
            f.check, f.code, f.severity, f.message, f.files, f.help
        );
    }
    out
}
