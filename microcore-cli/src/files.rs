//! Writing generated files all-or-nothing: every target is checked before
//! the first is written, so a refused command leaves the project as it was
//! and never overwrites the user's work. Also finds the project a command
//! runs in.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, io};

/// Files to create, relative to a root.
#[derive(Debug, Default)]
pub(crate) struct NewFiles {
    files: Vec<(PathBuf, String)>,
}

impl NewFiles {
    /// Adds `content` at `path` (relative, `/`-separated).
    pub(crate) fn add(&mut self, path: impl Into<PathBuf>, content: impl Into<String>) {
        self.files.push((path.into(), content.into()));
    }

    /// Fails, naming every file that exists already (as
    /// `<shown_under>/<path>`).
    pub(crate) fn refuse_existing(&self, root: &Path, shown_under: &Path) -> Result<(), Failure> {
        let existing: Vec<String> = self
            .files
            .iter()
            .filter(|(path, _)| root.join(path).exists())
            .map(|(path, _)| shown_under.join(path).display().to_string())
            .collect();
        if existing.is_empty() {
            return Ok(());
        }
        Err(Failure::failed(format!(
            "{} already exist{}: nothing was written\n  = help: pick another name, or remove {} first",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" },
            if existing.len() == 1 { "it" } else { "them" }
        )))
    }

    /// Writes every file (after [`Self::refuse_existing`]), creating
    /// folders, and prints each as `created <shown_under>/<path>`.
    pub(crate) fn write(&self, root: &Path, shown_under: &Path) -> Result<(), Failure> {
        self.refuse_existing(root, shown_under)?;
        for (path, content) in &self.files {
            let full = root.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
            }
            std::fs::write(&full, content).map_err(|e| io("write", &full, e))?;
            println!("created {}", shown_under.join(path).display());
        }
        Ok(())
    }
}

/// The project around `start`: the closest folder upward with both a
/// `Cargo.toml` and a `domains/` folder.
pub(crate) fn project_root(start: &Path) -> Result<PathBuf, Failure> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join("Cargo.toml").is_file() && d.join("domains").is_dir() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(Failure::failed(format!(
        "{} is not inside a microcore project (no folder upward has both Cargo.toml and domains/)\n  = help: run `microcore new <dir>` first, then run this inside <dir>",
        start.display()
    )))
}

/// The current directory, as a failure if it cannot be read.
pub(crate) fn current_dir() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .map_err(|e| Failure::failed(format!("cannot read the current directory: {e}")))
}
