//! Embeds every `<domain>/migrations/*.sql` file of a domains crate in the
//! binary: one `microcore_db::migration_entry!` per migration.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{name_of, sorted};

/// The six files a migration `<stem>` can have: up and down, each shared by
/// both backends or one per backend.
const SLOTS: [&str; 6] = [
    ".sql",
    ".sqlite.sql",
    ".postgres.sql",
    ".down.sql",
    ".sqlite.down.sql",
    ".postgres.down.sql",
];

/// One `microcore_db::migration_entry!` per migration of every domain, by
/// domain then name, with the SQL embedded by `include_str!`; a misnamed or
/// unpaired file becomes a `compile_error!` naming it and the fix.
pub(crate) fn rust(root: &Path) -> String {
    let crate_dir = name_of(root);
    let mut out = String::new();
    let mut errors = Vec::new();
    for domain in sorted(root, Path::is_dir) {
        let dir = domain.join("migrations");
        if !dir.is_dir() {
            continue;
        }
        let name = name_of(&domain);
        let shown_dir = format!("{crate_dir}/{name}/migrations");
        let mut found: BTreeMap<String, [Option<PathBuf>; 6]> = BTreeMap::new();
        let files = sorted(&dir, |p| p.is_file() && name_of(p).ends_with(".sql"));
        for file in files {
            let file_name = name_of(&file);
            match migration_slot(&file_name) {
                Some((stem, slot)) => found.entry(stem).or_default()[slot] = Some(file),
                None => errors.push(format!(
                    "{shown_dir}/{file_name}: a migration file is named <NNNN>_<name>.sql (both backends), <NNNN>_<name>.sqlite.sql + <NNNN>_<name>.postgres.sql (one per backend), or the same with .down before .sql to revert it, e.g. 0001_create_users.sql"
                )),
            }
        }
        for (stem, slots) in found {
            match migration_entry(&name, &stem, &shown_dir, &slots) {
                Ok(entry) => out.push_str(&entry),
                Err(e) => errors.push(e),
            }
        }
    }
    for e in errors {
        let _ = writeln!(out, "compile_error!({e:?});");
    }
    if out.is_empty() {
        return out;
    }
    format!("\n// Migrations: domains/<domain>/migrations/*.sql, embedded.\n{out}")
}

/// `0001_create_users.sqlite.down.sql` → (`0001_create_users`, slot of `.sqlite.down.sql`).
fn migration_slot(file_name: &str) -> Option<(String, usize)> {
    // Longest suffix first, so `.sqlite.sql` is not read as `.sql`.
    let mut by_length: Vec<(usize, &str)> = SLOTS.iter().copied().enumerate().collect();
    by_length.sort_by_key(|(_, suffix)| std::cmp::Reverse(suffix.len()));
    let (slot, stem) = by_length
        .into_iter()
        .find_map(|(slot, suffix)| file_name.strip_suffix(suffix).map(|stem| (slot, stem)))?;
    let (number, rest) = stem.split_once('_')?;
    let valid = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| (stem.to_string(), slot))
}

fn migration_entry(
    domain: &str,
    stem: &str,
    shown_dir: &str,
    slots: &[Option<PathBuf>; 6],
) -> Result<String, String> {
    let [
        shared,
        sqlite,
        postgres,
        shared_down,
        sqlite_down,
        postgres_down,
    ] = slots;
    let at = |suffix: &str| format!("{shown_dir}/{stem}{suffix}");
    let (up_sqlite, up_postgres, file) = match (shared, sqlite, postgres) {
        (Some(up), None, None) => (up, up, at(".sql")),
        (None, Some(sqlite), Some(postgres)) => (sqlite, postgres, at(".<backend>.sql")),
        (Some(_), _, _) => {
            return Err(format!(
                "{} and {} both exist\n  = help: keep {} if its SQL works on both backends, or only the per-backend files",
                at(".sql"),
                at(if sqlite.is_some() {
                    ".sqlite.sql"
                } else {
                    ".postgres.sql"
                }),
                at(".sql")
            ));
        }
        (None, Some(_), None) => {
            return Err(format!(
                "{} has no PostgreSQL twin\n  = help: add {}, or rename it to {} if its SQL works on both backends",
                at(".sqlite.sql"),
                at(".postgres.sql"),
                at(".sql")
            ));
        }
        (None, None, Some(_)) => {
            return Err(format!(
                "{} has no SQLite twin\n  = help: add {}, or rename it to {} if its SQL works on both backends",
                at(".postgres.sql"),
                at(".sqlite.sql"),
                at(".sql")
            ));
        }
        (None, None, None) => {
            return Err(format!(
                "{stem}: down files without an up file in {shown_dir}\n  = help: add {}",
                at(".sql")
            ));
        }
    };
    let embed = |path: &PathBuf| format!("include_str!({:?})", path.display().to_string());
    // A backend's own down file wins over the shared one.
    let down = |path: &Option<PathBuf>| {
        path.as_ref()
            .or(shared_down.as_ref())
            .map_or_else(|| "None".to_string(), |p| format!("Some({})", embed(p)))
    };
    Ok(format!(
        "::microcore_db::migration_entry! {{\n    domain: {domain:?},\n    name: {stem:?},\n    file: {file:?},\n    up_sqlite: {},\n    up_postgres: {},\n    down_sqlite: {},\n    down_postgres: {},\n}}\n",
        embed(up_sqlite),
        embed(up_postgres),
        down(sqlite_down),
        down(postgres_down),
    ))
}
