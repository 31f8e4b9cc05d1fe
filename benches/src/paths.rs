//! Where things are: the workspace, the shared target dir, and the
//! harness's own directory (binaries it measures, working directories of
//! the servers, the generated 100-plugin project), kept outside the clone
//! and stable between runs so rebuilds are incremental.

use std::path::{Path, PathBuf};

/// The workspace root (this crate's parent).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// `CARGO_TARGET_DIR`, or the target dir this binary was built into
/// (`<target>/release/microcore-bench`).
pub(crate) fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `MICROCORE_BENCH_DIR`, or `bench/` beside the target dir.
pub(crate) fn bench_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MICROCORE_BENCH_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let target = target_dir();
    target
        .parent()
        .map_or_else(|| target.join("bench"), |p| p.join("bench"))
}

/// A fresh, empty working directory for one server.
pub(crate) fn fresh_workdir(name: &str) -> Result<PathBuf, String> {
    let dir = bench_dir().join("work").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Copies release binary `name` out of the shared target dir, so another
/// build that reuses the name (the 100-plugin project builds its own
/// `microcore-app`) cannot swap it while it is measured.
pub(crate) fn snapshot_binary(name: &str, as_name: &str) -> Result<PathBuf, String> {
    let built = target_dir().join("release").join(name);
    if !built.is_file() {
        return Err(format!(
            "{} is missing: run `scripts/bench`, which builds it in release first",
            built.display()
        ));
    }
    let bin_dir = bench_dir().join("bin");
    std::fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    let copy = bin_dir.join(as_name);
    // Copy to a temporary name then rename: a running copy is never torn.
    let tmp = bin_dir.join(format!(".{as_name}.tmp"));
    std::fs::copy(&built, &tmp).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    std::fs::rename(&tmp, &copy).map_err(|e| format!("cannot place {}: {e}", copy.display()))?;
    Ok(copy)
}
