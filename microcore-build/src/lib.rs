//! Architecture checks that read source and SQL, run by a domains crate's
//! `build.rs`: a deployed binary has neither, so what they find is
//! embedded in it as `microcore::lint::BuiltFinding`s, which
//! `cargo run -- check`, the boot log and `GET /system/lint` report.
//!
//! - [`isolation`]: a domain's code uses nothing from another domain
//!   (`crate::users::...` in `domains/notifications/...`).
//! - [`tables`]: a table is created and written by one domain's
//!   migrations only.
//!
//! ```no_run
//! // domains/build.rs
//! let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
//! let generated: String = microcore_build::checks(&root);
//! // ... written into the file the domains crate `include!`s.
//! ```

pub mod emit;
pub mod isolation;
pub mod tables;

use std::path::{Path, PathBuf};

/// What a check found, before it becomes Rust code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `DomainIsolation` or `TableOwnership` (a `microcore::lint::BuiltCheck`).
    pub check: &'static str,
    /// A stable code, e.g. `cross_domain_use`.
    pub code: &'static str,
    /// What is wrong, naming the files.
    pub message: String,
    /// The files involved, the one to change first.
    pub files: Vec<String>,
    /// How to fix it.
    pub help: String,
}

/// Runs every check over the domains crate at `root` (its folders are the
/// domains) and returns Rust items registering each finding, empty when
/// there is none. Files are named `<root folder>/<domain>/...`.
pub fn checks(root: &Path) -> String {
    let shown_root = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let with = |folder: &str| -> Vec<(String, PathBuf)> {
        sorted(root, |p| p.join(folder).is_dir())
            .into_iter()
            .map(|dir| (name_of(&dir), dir))
            .collect()
    };
    // A folder with plugins is a module of the crate; one with only
    // migrations still owns tables.
    let mut found = isolation::check_domains(&shown_root, &with("plugins"));
    found.extend(tables::check_domains(&shown_root, &with("migrations")));
    emit::rust(&found)
}

/// The entries of `dir` that `keep` accepts, sorted (builds are reproducible).
pub(crate) fn sorted(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| keep(p))
        .collect();
    paths.sort();
    paths
}

/// A path's last component.
pub(crate) fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
