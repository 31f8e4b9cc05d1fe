//! The first commit of a new project, as `cargo new` would make it: only
//! when git is installed and the folder is not already inside a
//! repository.

use std::path::Path;
use std::process::Command;

/// `git init`, then one commit of every file in `dir`. Says why on stderr
/// and goes on when it cannot: the project itself is already written.
pub(crate) fn first_commit(dir: &Path, package: &str) {
    let git = |args: &[&str]| Command::new("git").args(args).current_dir(dir).output();
    match git(&["rev-parse", "--is-inside-work-tree"]) {
        Err(_) => return,                          // git is not installed
        Ok(out) if out.status.success() => return, // a repository already holds it
        Ok(_) => {}
    }
    // A machine with no git identity still gets its commit.
    let identity = match git(&["config", "user.email"]) {
        Ok(out) if out.status.success() => vec![],
        _ => vec![
            "-c",
            "user.name=microcore new",
            "-c",
            "user.email=microcore@localhost",
        ],
    };
    let message = format!("New microcore app {package}");
    let mut commit = identity;
    commit.extend(["commit", "--quiet", "--message", &message]);
    for args in [&["init", "--quiet"][..], &["add", "--all"], &commit] {
        match git(args) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!(
                    "warning: `git {}` failed, the project has no first commit: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return;
            }
            Err(e) => {
                eprintln!("warning: git did not run, the project has no first commit: {e}");
                return;
            }
        }
    }
}
