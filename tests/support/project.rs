//! A copy of this project to edit and build, for tests that try what a
//! user would do to the source (drop a file in, make a mistake) and then
//! run the resulting binary.
//!
//! These tests run cargo themselves. Under nextest (the project's test
//! command) no outer cargo holds the target-dir lock while tests run, so
//! they share the warm target dir; under plain `cargo test` they use a
//! sibling one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This checkout.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target dir the copies build into.
pub fn target_dir() -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    if std::env::var_os("NEXTEST").is_some() {
        outer
    } else {
        outer.with_extension("nested")
    }
}

/// Copies the project's sources (not `target/` or `.git/`, nor the root's
/// own `tests/` and `docs/`; a crate's `tests/` stays, since one holds a
/// path dependency: the macros' UI-test fixture). With `keep_times`, each
/// file keeps its modification time, so cargo finds the crates the copy did
/// not change already built.
pub fn copy_tree(from: &Path, to: &Path, keep_times: bool) {
    copy_dir(from, to, keep_times, &[".git", "target", "tests", "docs"]);
}

fn copy_dir(from: &Path, to: &Path, keep_times: bool, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if skip.iter().any(|skip| name == *skip) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name), keep_times, &[".git", "target"]);
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
            if keep_times {
                let modified = entry.metadata().unwrap().modified().unwrap();
                let copy = std::fs::File::options()
                    .write(true)
                    .open(to.join(&name))
                    .unwrap();
                copy.set_modified(modified).unwrap();
            }
        }
    }
}

/// Runs cargo in `project`, offline and quiet, on the shared target dir.
pub fn cargo(project: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    super::scrub::scrubbed(Command::new(cargo))
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs")
}

/// Builds the binary `bin` of `project`; its path.
pub fn build(project: &Path, bin: &str) -> String {
    let out = cargo(project, &["build", "--bin", bin]);
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir().join("debug").join(bin).display().to_string()
}

/// A copy of the project in `to` whose app and domains packages are
/// renamed after `name`, so building it never replaces this checkout's
/// `microcore-app` and `domains` artifacts (cargo names a workspace
/// package's artifacts by its name and path inside the workspace, which a
/// plain copy shares); the other crates keep their file times and are not
/// rebuilt. Returns the binary's name (`name`).
pub fn renamed_copy(to: &Path, name: &str) -> String {
    copy_tree(&workspace_root(), to, true);
    let edit = |file: &str, from: &str, into: &str| {
        let path = to.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no `{from}` to rename");
        std::fs::write(&path, text.replace(from, into)).unwrap();
    };
    // The package, its default-run and its binary; the library keeps its
    // name, which src/main.rs uses.
    edit("Cargo.toml", "\"microcore-app\"", &format!("{name:?}"));
    let manifest = to.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        !text.contains("\n[lib]"),
        "Cargo.toml has a [lib] table already"
    );
    std::fs::write(
        &manifest,
        text + "\n[lib]\nname = \"microcore_app\"\npath = \"src/lib.rs\"\n",
    )
    .unwrap();
    let domains = format!("{name}-domains");
    edit(
        "Cargo.toml",
        "domains = { path = \"domains\" }",
        &format!("domains = {{ path = \"domains\", package = {domains:?} }}"),
    );
    edit(
        "domains/Cargo.toml",
        "name = \"domains\"",
        &format!("name = {domains:?}"),
    );
    name.to_string()
}
