//! Shared by the root tests and the CLI's tests (included by path), which
//! both run cargo themselves.

use std::process::Command;

/// `command` without the variables cargo set for this test (ring's build
/// script reruns when `CARGO_MANIFEST_DIR` & co. differ, so a nested cargo
/// that inherits them rebuilds what every shell build rebuilds back).
pub fn scrubbed(mut command: Command) -> Command {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || name.starts_with("CARGO_BIN_")
            || name.starts_with("CARGO_CRATE_")
            || [
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name)
        {
            command.env_remove(name);
        }
    }
    command
}
