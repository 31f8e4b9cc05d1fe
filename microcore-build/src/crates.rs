//! A microcore crate the domains crate uses without depending on it.
//!
//! Left to rustc, the mistake lands on the `use` line with "use of
//! unresolved module or unlinked crate `microcore_scheduler`" and a hint to
//! run `cargo add microcore_scheduler`, a package that does not exist (the
//! package is `microcore-scheduler`, and it is a path crate). This check
//! names the file that uses the crate and the exact line to add to
//! `Cargo.toml`, written the way that manifest already declares `microcore`
//! (through the workspace, by path, or by version), as a `compile_error!`
//! beside rustc's own error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One microcore crate the source names and `[dependencies]` lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingCrate {
    /// The package, e.g. `microcore-scheduler`.
    pub package: String,
    /// The first place naming it, `<file>:<line>` relative to the crate.
    pub used_at: String,
    /// The line to add under `[dependencies]`.
    pub line: String,
}

/// Every microcore crate that the `.rs` files of the crate at `root` name
/// (outside comments and `build.rs`) and its `manifest` does not list;
/// `workspace` is the folder and `Cargo.toml` of the workspace holding
/// the crate, when there is one.
///
/// ```
/// use microcore_build::crates::missing;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("prelude.rs"), "pub use microcore_scheduler::Scheduler;\n").unwrap();
/// let manifest = "[dependencies]\nmicrocore = { path = \"../microcore/microcore\" }\n";
/// let found = missing(dir.path(), manifest, None);
/// assert_eq!(found[0].used_at, "prelude.rs:1");
/// assert_eq!(found[0].line, r#"microcore-scheduler = { path = "../microcore/tools/scheduler" }"#);
/// ```
pub fn missing(root: &Path, manifest: &str, workspace: Option<(&Path, &str)>) -> Vec<MissingCrate> {
    let manifest: toml::Table = manifest.parse().unwrap_or_default();
    // The workspace's paths are relative to its folder: this many `..` from here.
    let up = workspace.map_or(0, |(dir, _)| {
        root.strip_prefix(dir).map_or(0, |r| r.components().count())
    });
    let up = "../".repeat(up);
    let workspace: toml::Table = workspace
        .and_then(|(_, w)| w.parse().ok())
        .unwrap_or_default();
    let listed = |package: &str| {
        ["dependencies", "build-dependencies", "dev-dependencies"]
            .iter()
            .any(|table| manifest.get(*table).and_then(|t| t.get(package)).is_some())
    };
    let mut found: Vec<MissingCrate> = Vec::new();
    for (file, source) in sources(root) {
        for (line, krate) in crate_names(&source) {
            let package = krate.replace('_', "-");
            if listed(&package) || found.iter().any(|m| m.package == package) {
                continue;
            }
            found.push(MissingCrate {
                line: dependency_line(&package, &manifest, (&workspace, &up)),
                used_at: format!("{file}:{line}"),
                package,
            });
        }
    }
    found
}

/// One `compile_error!` per missing crate of the domains crate at `root`
/// (whose folder is shown as `shown_root`), empty when none is missing.
pub(crate) fn rust(root: &Path, shown_root: &str) -> String {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let workspace = workspace_manifest(root);
    let workspace = workspace
        .as_ref()
        .map(|(dir, text)| (dir.as_path(), text.as_str()));
    let mut out = String::new();
    for m in missing(root, &manifest, workspace) {
        let message = message(&m, shown_root);
        let _ = writeln!(out, "::core::compile_error!({message:?});");
    }
    out
}

/// What the build reports for `m`.
pub fn message(m: &MissingCrate, shown_root: &str) -> String {
    format!(
        "{shown_root}/{} uses the crate `{}`, but {shown_root}/Cargo.toml does not depend on it\n  \
         = help: add this line under [dependencies] in {shown_root}/Cargo.toml:\n          {}",
        m.used_at,
        m.package.replace('-', "_"),
        m.line
    )
}

/// The `.rs` files of the crate, relative to `root`, sorted; the build
/// script is left out (its crates are build-dependencies).
fn sources(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for path in crate::sorted(&dir, |_| true) {
            let name = crate::name_of(&path);
            if path.is_dir() && name != "target" && !name.starts_with('.') {
                dirs.push(path);
            } else if name.ends_with(".rs") && path != root.join("build.rs") {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let shown = relative.to_string_lossy().replace('\\', "/");
                files.extend(std::fs::read_to_string(&path).ok().map(|s| (shown, s)));
            }
        }
    }
    files.sort();
    files
}

/// The `microcore_*` crates `source` names, with their 1-based line, in
/// order; comments are skipped (a doc may name a crate the code does not use).
fn crate_names(source: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("microcore_") {
            let before = code.len() - rest.len() + at;
            let ident = &rest[at..];
            let end = ident
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(ident.len());
            let starts_word = code[..before]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if starts_word && ident[end..].starts_with("::") {
                names.push((i + 1, &ident[..end]));
            }
            rest = &ident[end..];
        }
    }
    names
}

/// `package`'s line for `[dependencies]`, in the form `microcore` has there.
fn dependency_line(
    package: &str,
    manifest: &toml::Table,
    (workspace, up): (&toml::Table, &str),
) -> String {
    let kernel = manifest
        .get("dependencies")
        .and_then(|d| d.get("microcore"));
    let members = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"));
    let inherited = kernel
        .and_then(|k| k.get("workspace"))
        .and_then(|w| w.as_bool());
    let (spec, relative_to) = match (inherited, members) {
        (Some(true), Some(members)) if members.get(package).is_some() => {
            return format!("{package}.workspace = true");
        }
        (Some(true), Some(members)) => (members.get("microcore"), up),
        _ => (kernel, ""),
    };
    let path = spec.and_then(|s| s.get("path")).and_then(|p| p.as_str());
    let version = spec.and_then(|s| s.as_str().or_else(|| s.get("version")?.as_str()));
    match (path, version) {
        (Some(path), _) => {
            let checkout = Path::new(path).parent().unwrap_or(Path::new(""));
            let folder = checkout.join(folder_of(package));
            let folder = Path::new(relative_to).join(folder);
            let folder = folder.to_string_lossy().replace('\\', "/");
            format!("{package} = {{ path = {folder:?} }}")
        }
        (None, Some(version)) => format!("{package} = {version:?}"),
        (None, None) => format!("{package} = {:?}", env!("CARGO_PKG_VERSION")),
    }
}

/// Where `package` sits in a microcore checkout: `tools/<tool>/` for a
/// tool crate (`microcore-event-bus` → `tools/event_bus`), the checkout's
/// root for the framework's own crates.
fn folder_of(package: &str) -> PathBuf {
    const ROOT_CRATES: &[&str] = &["microcore-commands", "microcore-trace", "microcore-build"];
    if ROOT_CRATES.contains(&package) {
        return PathBuf::from(package);
    }
    let tool = package.trim_start_matches("microcore-").replace('-', "_");
    Path::new("tools").join(tool)
}

/// The folder and `Cargo.toml` of the workspace holding the crate at
/// `root`, if any.
fn workspace_manifest(root: &Path) -> Option<(PathBuf, String)> {
    root.ancestors().skip(1).find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        text.contains("[workspace]")
            .then(|| (dir.to_path_buf(), text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A domains crate whose prelude uses the scheduler, with `manifest`.
    fn crate_with(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let prelude = "//! Uses microcore_log:: in a comment only.\n\
                       pub use microcore::prelude::*;\n\
                       pub use microcore_config::Config;\n\
                       pub use microcore_scheduler::{JobRun, Scheduler};\n";
        std::fs::write(dir.path().join("prelude.rs"), prelude).unwrap();
        std::fs::create_dir_all(dir.path().join("jobs/plugins")).unwrap();
        let plugin = "use microcore_event_bus::EventBus;\n";
        std::fs::write(dir.path().join("jobs/plugins/nightly.rs"), plugin).unwrap();
        std::fs::write(
            dir.path().join("build.rs"),
            "fn main() { microcore_build::domains(); }\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        dir
    }

    fn messages(dir: &Path, manifest: &str, workspace: Option<(&Path, &str)>) -> String {
        let found = missing(dir, manifest, workspace);
        let shown: Vec<String> = found.iter().map(|m| message(m, "domains")).collect();
        shown.join("\n\n")
    }

    #[test]
    fn a_generated_app_gets_the_path_line() {
        let manifest = "[dependencies]\n\
                        microcore = { path = \"/opt/microcore/microcore\" }\n\
                        microcore-config = { path = \"/opt/microcore/tools/config\" }\n";
        let dir = crate_with(manifest);
        insta::assert_snapshot!(messages(dir.path(), manifest, None));
    }

    #[test]
    fn a_workspace_member_gets_the_workspace_line_or_the_path_from_here() {
        let manifest =
            "[dependencies]\nmicrocore.workspace = true\nmicrocore-config.workspace = true\n";
        let dir = crate_with(manifest);
        let root = dir.path().parent().unwrap();
        let workspace = "[workspace]\n[workspace.dependencies]\n\
                         microcore = { path = \"microcore\" }\n\
                         microcore-scheduler = { path = \"tools/scheduler\" }\n";
        let found = missing(dir.path(), manifest, Some((root, workspace)));
        let lines: Vec<&str> = found.iter().map(|m| m.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "microcore-event-bus = { path = \"../tools/event_bus\" }",
                "microcore-scheduler.workspace = true",
            ]
        );
    }

    #[test]
    fn a_versioned_kernel_gets_the_version_line_and_nothing_listed_is_reported() {
        let manifest = "[dependencies]\nmicrocore = \"0.3\"\nmicrocore-config = \"0.3\"\n\
                        microcore-event-bus = \"0.3\"\n";
        let dir = crate_with(manifest);
        let found = missing(dir.path(), manifest, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, "microcore-scheduler = \"0.3\"");
        assert_eq!(found[0].used_at, "prelude.rs:4");
    }
}
