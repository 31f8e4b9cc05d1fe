//! The files `dev` reacts to, and when: a save is usually a burst of
//! events (truncate, write, rename, an editor's swap file), so changes are
//! gathered until the tree has been quiet for a moment, then reported as
//! one batch.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::Instant;

use crate::failure::Failure;

/// Quiet time that ends a burst.
const QUIET: Duration = Duration::from_millis(150);
/// A burst longer than this is cut (a `git checkout` of many files).
const LONGEST_BURST: Duration = Duration::from_secs(2);
/// Folders watched recursively, when they exist.
const FOLDERS: &[&str] = &["domains", "tools", "src"];
/// Files at the project root that matter.
const ROOT_FILES: &[&str] = &["Cargo.toml", ".env", "build.rs"];

/// A stream of batches of changed paths under a project.
#[derive(Debug)]
pub(crate) struct Changes {
    watcher: RecommendedWatcher,
    events: UnboundedReceiver<PathBuf>,
    root: PathBuf,
    watched: BTreeSet<PathBuf>,
}

impl Changes {
    /// Starts watching `root`.
    pub(crate) fn start(root: &Path) -> Result<Self, Failure> {
        let (tx, events) = unbounded_channel();
        let filter_root = root.to_path_buf();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if !is_a_change(&event.kind) {
                return;
            }
            for path in event.paths {
                if matters(&filter_root, &path) {
                    let _ = tx.send(path);
                }
            }
        })
        .map_err(|e| Failure::failed(format!("cannot watch files: {e}")))?;
        let mut changes = Self {
            watcher,
            events,
            root: root.to_path_buf(),
            watched: BTreeSet::new(),
        };
        changes
            .watcher
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| Failure::failed(format!("cannot watch {}: {e}", root.display())))?;
        changes.watch_folders()?;
        Ok(changes)
    }

    /// Watches each of [`FOLDERS`] that exists and is not watched yet
    /// (`tools/` appears with the first `add tool`).
    fn watch_folders(&mut self) -> Result<(), Failure> {
        for folder in FOLDERS {
            let dir = self.root.join(folder);
            if dir.is_dir() && !self.watched.contains(&dir) {
                self.watcher
                    .watch(&dir, RecursiveMode::Recursive)
                    .map_err(|e| Failure::failed(format!("cannot watch {}: {e}", dir.display())))?;
                self.watched.insert(dir);
            }
        }
        Ok(())
    }

    /// The next batch: waits for a change, then until [`QUIET`] passes
    /// with none. Paths are relative to the root, sorted.
    /// A migration that holds no statement yet is left out: see
    /// [`is_unwritten_migration`].
    pub(crate) async fn next(&mut self) -> Result<Vec<PathBuf>, Failure> {
        loop {
            let Some(first) = self.events.recv().await else {
                return Err(Failure::failed("the file watcher stopped"));
            };
            let mut batch = BTreeSet::from([first]);
            let cut = Instant::now() + LONGEST_BURST;
            while Instant::now() < cut {
                match tokio::time::timeout(QUIET, self.events.recv()).await {
                    Ok(Some(path)) => {
                        batch.insert(path);
                    }
                    _ => break,
                }
            }
            self.watch_folders()?;
            let (unwritten, changed): (Vec<PathBuf>, Vec<PathBuf>) = batch
                .into_iter()
                .map(|p| {
                    p.strip_prefix(&self.root)
                        .map(Path::to_path_buf)
                        .unwrap_or(p)
                })
                .partition(|p| is_unwritten_migration(&self.root.join(p)));
            for path in &unwritten {
                eprintln!(
                    "[dev] {} holds no SQL yet: the app is rebuilt once it does (an applied migration may not change)",
                    path.display()
                );
            }
            if !changed.is_empty() {
                return Ok(changed);
            }
        }
    }
}

/// Creations, writes, renames and removals; not reads (cargo opens every
/// source while building, which must not trigger the next build).
fn is_a_change(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Remove(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// A migration file with only comments: `add migration` writes one, and
/// building then would apply it empty and record it as done, after which
/// the SQL the user writes into it is refused as a changed migration.
fn is_unwritten_migration(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "sql")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "migrations")
        && std::fs::read_to_string(path).is_ok_and(|sql| {
            sql.lines().all(|line| {
                let line = line.trim();
                line.is_empty() || line.starts_with("--")
            })
        })
}

/// Whether a path under `root` is part of the app's source.
fn matters(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let parts: Vec<&str> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [] => false,
        [file] => ROOT_FILES.contains(file) || FOLDERS.contains(file),
        [folder, rest @ ..] => {
            FOLDERS.contains(folder)
                && !rest.contains(&"target")
                && rest.last().is_some_and(|name| !is_editor_noise(name))
                && !rest.iter().any(|part| part.starts_with('.'))
        }
    }
}

/// Swap files, backups and probes editors write beside the real file.
fn is_editor_noise(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || [".swp", ".swx", ".swo", ".tmp", ".bak"]
            .iter()
            .any(|ext| name.ends_with(ext))
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_matter_and_editor_noise_and_outputs_do_not() {
        let root = Path::new("/p");
        for yes in [
            "/p/domains/ping/plugins/ping.rs",
            "/p/domains/notes/migrations/0001_x.sql",
            "/p/tools/mailer/src/lib.rs",
            "/p/src/main.rs",
            "/p/Cargo.toml",
            "/p/.env",
            "/p/tools",
        ] {
            assert!(matters(root, Path::new(yes)), "{yes}");
        }
        for no in [
            "/p/Cargo.lock",
            "/p/microcore.db",
            "/p/microcore.db-wal",
            "/p/target/debug/app",
            "/p/domains/ping/plugins/.ping.rs.swp",
            "/p/domains/ping/plugins/ping.rs~",
            "/p/domains/ping/plugins/4913",
            "/p/tools/mailer/target/x",
            "/elsewhere/Cargo.toml",
        ] {
            assert!(!matters(root, Path::new(no)), "{no}");
        }
    }

    #[test]
    fn a_migration_without_sql_yet_waits() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = dir.path().join("notes/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        let file = migrations.join("0001_create_notes.sql");
        std::fs::write(&file, "-- create_notes\n--\n\n").unwrap();
        assert!(is_unwritten_migration(&file));
        std::fs::write(&file, "-- create_notes\nCREATE TABLE notes (id INTEGER);\n").unwrap();
        assert!(!is_unwritten_migration(&file));
        let plugin = dir.path().join("notes/plugins/x.rs");
        assert!(!is_unwritten_migration(&plugin));
    }

    #[test]
    fn reads_are_not_changes() {
        assert!(!is_a_change(&EventKind::Access(AccessKind::Open(
            notify::event::AccessMode::Any
        ))));
        assert!(is_a_change(&EventKind::Modify(
            notify::event::ModifyKind::Any
        )));
    }
}
