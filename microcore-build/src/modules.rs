//! The module tree of a domains crate: one module per domain folder that
//! has a `plugins/` folder, one per file in it, and the domain's
//! `models.rs`, so a new file or folder needs no `mod` line anywhere.

use std::fmt::Write as _;
use std::path::Path;

use crate::{name_of, sorted};

/// `pub mod <domain> { pub mod models; pub mod plugins { ... } }` for each
/// domain under `root`, by `#[path]` to the files.
pub(crate) fn rust(root: &Path) -> String {
    let mut out = String::new();
    for domain in sorted(root, |p| p.join("plugins").is_dir()) {
        let name = name_of(&domain);
        let _ = writeln!(
            out,
            "/// The `{name}` domain (`domains/{name}/`).\npub mod {name} {{"
        );
        let models = domain.join("models.rs");
        if models.is_file() {
            let _ = writeln!(
                out,
                "    /// What the `{name}` domain's plugins share (`domains/{name}/models.rs`).\n    #[path = {:?}]\n    pub mod models;",
                models.display().to_string()
            );
        }
        let _ = writeln!(
            out,
            "    /// One module per feature file in `domains/{name}/plugins/`.\n    pub mod plugins {{"
        );
        let files = sorted(&domain.join("plugins"), |p| {
            p.is_file() && p.extension().is_some_and(|e| e == "rs")
        });
        for file in files {
            let module = name_of(&file);
            let module = module.trim_end_matches(".rs");
            // A file whose first comment is `//` rather than `//!` still
            // has a doc: a missing_docs warning would point at this
            // generated file, which the user never sees.
            let _ = writeln!(
                out,
                "        /// The feature file `domains/{name}/plugins/{module}.rs`.\n        #[path = {:?}]\n        pub mod {module};",
                file.display().to_string()
            );
        }
        out.push_str("    }\n}\n");
    }
    out
}
