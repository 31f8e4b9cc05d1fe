//! `microcore new <dir>`: a project that boots with `cargo run` and serves
//! `/ping`, laid out like microcore's own example app.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, io};
use crate::files::NewFiles;
use crate::manifest::Checkout;
use crate::names;
use crate::templates::{self, render};

/// The checkout this binary was built from: the default `--microcore-path`.
pub(crate) fn default_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Creates the project in `dir` (which may exist, holding none of the
/// files), its app package named `name` or after the folder.
pub(crate) fn run(dir: &Path, name: Option<&str>, microcore: &Path) -> Result<(), Failure> {
    let package = match name {
        Some(name) => name.to_string(),
        None => folder_name(dir)?,
    };
    names::package(&package)?;
    let checkout = Checkout::open(microcore)?;
    let lib = package.replace('-', "_");
    let shown_checkout = checkout.root().display().to_string();

    let mut files = NewFiles::default();
    files.add("Cargo.toml", checkout.root_manifest(&package)?);
    files.add("build.rs", templates::ROOT_BUILD);
    files.add("src/main.rs", render(templates::MAIN, &[("lib", &lib)]));
    files.add(
        "src/lib.rs",
        render(templates::LIB, &[("package", &package)]),
    );
    files.add(
        "README.md",
        render(
            templates::README,
            &[("package", &package), ("microcore", &shown_checkout)],
        ),
    );
    files.add("AGENTS.md", templates::AGENTS);
    files.add(".gitignore", templates::GITIGNORE);
    files.add(
        ".env.example",
        render(templates::ENV_EXAMPLE, &[("package", &package)]),
    );
    files.add(
        "Dockerfile",
        render(
            templates::DOCKERFILE,
            &[
                ("package", &package),
                ("rust_version", &checkout.rust_version()),
            ],
        ),
    );
    files.add("domains/Cargo.toml", checkout.domains_manifest(&package)?);
    files.add("domains/build.rs", templates::DOMAINS_BUILD);
    files.add("domains/lib.rs", templates::DOMAINS_LIB);
    files.add("domains/prelude.rs", templates::DOMAINS_PRELUDE);
    files.add("domains/ping/plugins/ping.rs", templates::PING);
    // The checkout's lock file pins every dependency to the version
    // microcore is tested with (cargo drops the entries this project does
    // not use at its first build).
    let lock = checkout.root().join("Cargo.lock");
    if lock.is_file() {
        files.add(
            "Cargo.lock",
            std::fs::read_to_string(&lock).map_err(|e| io("read", &lock, e))?,
        );
    }
    files.write(dir, dir)?;
    crate::git::first_commit(dir, &package);
    println!(
        "\nnew microcore project '{package}' in {}, using microcore from {shown_checkout}\n\n    cd {}\n    cargo run          # serves http://127.0.0.1:8000/ping\n    cargo test\n    microcore dev      # rebuilds and restarts on every save",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// The folder's own name, which names the app package by default.
fn folder_name(dir: &Path) -> Result<String, Failure> {
    let absolute = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        crate::files::current_dir()?.join(dir)
    };
    // `.` or `..` name the folder they resolve to.
    let resolved = absolute.canonicalize().unwrap_or(absolute);
    resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Failure::usage(format!(
                "{} has no folder name to name the app after: pass --name <name>",
                dir.display()
            ))
        })
}
