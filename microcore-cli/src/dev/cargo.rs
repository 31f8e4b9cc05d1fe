//! What `dev` asks cargo: which binary is the app and where it lands
//! (`cargo metadata`), and an incremental debug build of it, its output
//! shown as cargo prints it.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// Variables cargo sets for a crate it runs (`cargo run`, tests), which
/// `dev` must not pass on: build scripts such as ring's declare
/// `rerun-if-env-changed=CARGO_MANIFEST_DIR`, so a build started with them
/// set and one started from a shell would rebuild each other's crates.
const SET_BY_CARGO_FOR_ITS_CRATE: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_PKG_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_BIN_EXE_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// `cargo` (the one that runs us, if any), without what cargo set for us.
pub(crate) fn cargo() -> tokio::process::Command {
    let mut command =
        tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if SET_BY_CARGO_FOR_ITS_CRATE
            .iter()
            .any(|set| name == *set || (set.ends_with('_') && name.starts_with(set)))
        {
            command.env_remove(name);
        }
    }
    command
}

/// The app binary of a project.
#[derive(Debug, Clone)]
pub(crate) struct AppBinary {
    /// The `[[bin]]` name: `cargo build --bin <name>`.
    pub(crate) name: String,
    /// Where the debug build puts it.
    pub(crate) path: PathBuf,
}

/// Finds the root package's binary (its `default-run`, or its only one).
pub(crate) async fn app_binary(root: &Path) -> Result<AppBinary, Failure> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .await
        .map_err(|e| Failure::failed(format!("cannot run `cargo metadata`: {e}")))?;
    if !out.status.success() {
        return Err(Failure::failed(format!(
            "`cargo metadata` failed: is Cargo.toml valid?\n{}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::failed(format!("`cargo metadata` printed no JSON: {e}")))?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| Failure::failed("`cargo metadata` names no target_directory"))?;
    let manifest = root.join("Cargo.toml");
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| same_file(Path::new(m), &manifest))
        })
        .ok_or_else(|| {
            Failure::failed(format!(
                "{} has no [package]: `dev` runs the workspace's root package",
                manifest.display()
            ))
        })?;
    let bins: Vec<&str> = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect();
    let name = match (package["default_run"].as_str(), bins.as_slice()) {
        (Some(default), _) => default,
        (None, [only]) => only,
        (None, []) => {
            return Err(Failure::failed(format!(
                "the package in {} has no binary to run",
                manifest.display()
            )));
        }
        (None, _) => {
            return Err(Failure::failed(format!(
                "the package in {} has several binaries ({}): set `default-run` in its [package]",
                manifest.display(),
                bins.join(", ")
            )));
        }
    };
    Ok(AppBinary {
        name: name.to_string(),
        path: Path::new(target_dir).join("debug").join(name),
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `cargo build --bin <app>`, output to the terminal; whether it succeeded.
pub(crate) async fn build(root: &Path, app: &AppBinary) -> Result<bool, Failure> {
    let status = cargo()
        .args(["build", "--bin", &app.name])
        .current_dir(root)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| Failure::failed(format!("cannot run `cargo build`: {e}")))?;
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cargo_runs_without_what_cargo_set_for_us() {
        // cargo and nextest set these for the tests they run.
        let inherited = std::env::var_os("CARGO_MANIFEST_DIR").is_some();
        let command = super::cargo();
        let removed: Vec<String> = command
            .as_std()
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            removed.iter().any(|n| n == "CARGO_MANIFEST_DIR"),
            inherited,
            "{removed:?}"
        );
        assert!(
            !removed
                .iter()
                .any(|n| n == "CARGO_TARGET_DIR" || n == "PATH")
        );
    }
}
