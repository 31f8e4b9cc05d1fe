//! Dialect check: a migration shared by both backends (`NNNN_name.sql`,
//! `NNNN_name.down.sql`) must hold SQL that SQLite and PostgreSQL both
//! run. One backend's syntax in it passes on that backend and breaks on
//! the other, often only in production; this names the file, the words,
//! and the pair of files to write instead.
//!
//! The SQL is tokenized as for table ownership (comments and literals
//! skipped), then searched for syntax only one backend has.

use std::path::PathBuf;

use crate::tables::{Token, tokenize};
use crate::{Found, name_of, sorted};

/// Which backend a word belongs to, and what to write on the other one.
struct Marker {
    /// The words, lowercased, in order (`insert`, `or`).
    words: &'static [&'static str],
    /// A function call: the words must be followed by `(`.
    call: bool,
    /// `SQLite` or `PostgreSQL`: the only backend that accepts it.
    only: &'static str,
    /// The form the other backend needs.
    instead: &'static str,
}

const fn m(
    words: &'static [&'static str],
    call: bool,
    only: &'static str,
    instead: &'static str,
) -> Marker {
    Marker {
        words,
        call,
        only,
        instead,
    }
}

const SQLITE: &str = "SQLite";
const POSTGRES: &str = "PostgreSQL";

const MARKERS: &[Marker] = &[
    m(
        &["autoincrement"],
        false,
        SQLITE,
        "`BIGSERIAL PRIMARY KEY` on PostgreSQL",
    ),
    m(
        &["datetime"],
        true,
        SQLITE,
        "`CURRENT_TIMESTAMP` (both) or `now()` on PostgreSQL",
    ),
    m(
        &["strftime"],
        true,
        SQLITE,
        "`to_char(...)` or `EXTRACT(EPOCH FROM now())` on PostgreSQL",
    ),
    m(
        &["julianday"],
        true,
        SQLITE,
        "date arithmetic on PostgreSQL",
    ),
    m(
        &["unixepoch"],
        true,
        SQLITE,
        "`EXTRACT(EPOCH FROM now())` on PostgreSQL",
    ),
    m(
        &["insert", "or"],
        false,
        SQLITE,
        "`INSERT ... ON CONFLICT DO NOTHING/UPDATE` (both)",
    ),
    m(&["pragma"], false, SQLITE, "nothing on PostgreSQL"),
    m(
        &["without", "rowid"],
        false,
        SQLITE,
        "a plain table on PostgreSQL",
    ),
    m(
        &["serial"],
        false,
        POSTGRES,
        "`INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite",
    ),
    m(
        &["bigserial"],
        false,
        POSTGRES,
        "`INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite",
    ),
    m(
        &["smallserial"],
        false,
        POSTGRES,
        "`INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite",
    ),
    m(
        &["identity"],
        false,
        POSTGRES,
        "`INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite",
    ),
    m(&["jsonb"], false, POSTGRES, "`TEXT` on SQLite"),
    m(
        &["timestamptz"],
        false,
        POSTGRES,
        "`TEXT` or `BIGINT` unix seconds on SQLite",
    ),
    m(&["bytea"], false, POSTGRES, "`BLOB` on SQLite"),
    m(
        &["ilike"],
        false,
        POSTGRES,
        "`LIKE` on SQLite (case-insensitive for ASCII)",
    ),
    m(&["now"], true, POSTGRES, "`CURRENT_TIMESTAMP` (both)"),
    m(
        &["create", "extension"],
        false,
        POSTGRES,
        "nothing on SQLite",
    ),
    m(&["create", "schema"], false, POSTGRES, "nothing on SQLite"),
];

/// The one-backend syntax in `sql`, each as (backend that has it, what it
/// wrote, what to write instead), in order of first use.
///
/// ```
/// let found = microcore_build::dialect::one_backend_syntax(
///     "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT); -- SERIAL in a comment",
/// );
/// assert_eq!(found, vec![("SQLite", "AUTOINCREMENT".to_string(), "`BIGSERIAL PRIMARY KEY` on PostgreSQL")]);
/// assert!(microcore_build::dialect::one_backend_syntax("CREATE TABLE t (id BIGINT PRIMARY KEY, at TEXT DEFAULT 'now()')").is_empty());
/// ```
pub fn one_backend_syntax(sql: &str) -> Vec<(&'static str, String, &'static str)> {
    let tokens = tokenize(sql);
    let mut found: Vec<(&'static str, String, &'static str)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let cast = *token == Token::Punct(':') && tokens.get(i + 1) == Some(&Token::Punct(':'));
        if cast && !found.iter().any(|f| f.1 == "::") {
            found.push((POSTGRES, "::".into(), "`CAST(x AS type)` (both)"));
        }
        for marker in MARKERS {
            let hit = marker
                .words
                .iter()
                .enumerate()
                .all(|(j, w)| tokens.get(i + j).is_some_and(|t| t.is(w)))
                && (!marker.call || tokens.get(i + marker.words.len()) == Some(&Token::Punct('(')));
            let shown = marker.words.join(" ").to_uppercase();
            if hit && !found.iter().any(|f| f.1 == shown) {
                found.push((marker.only, shown, marker.instead));
            }
        }
    }
    found
}

/// One finding per shared migration file holding one backend's syntax.
pub(crate) fn check_domains(shown_root: &str, domains: &[(String, PathBuf)]) -> Vec<Found> {
    let mut found = Vec::new();
    for (domain, dir) in domains {
        let shared = sorted(&dir.join("migrations"), |p| {
            let name = name_of(p);
            p.is_file()
                && name.ends_with(".sql")
                && !name.ends_with(".sqlite.sql")
                && !name.ends_with(".postgres.sql")
                && !name.ends_with(".sqlite.down.sql")
                && !name.ends_with(".postgres.down.sql")
        });
        for file in shared {
            let Ok(sql) = std::fs::read_to_string(&file) else {
                continue;
            };
            let syntax = one_backend_syntax(&sql);
            if syntax.is_empty() {
                continue;
            }
            let shown_dir = format!("{shown_root}/{domain}/migrations");
            found.push(finding(&shown_dir, &name_of(&file), &syntax));
        }
    }
    found
}

fn finding(dir: &str, file: &str, syntax: &[(&'static str, String, &'static str)]) -> Found {
    let (stem, down) = match file.strip_suffix(".down.sql") {
        Some(stem) => (stem, ".down"),
        None => (file.trim_end_matches(".sql"), ""),
    };
    // The backend whose syntax it holds, the other one, and each one's suffix.
    let (only, other, this, that) = if syntax[0].0 == SQLITE {
        (SQLITE, POSTGRES, "sqlite", "postgres")
    } else {
        (POSTGRES, SQLITE, "postgres", "sqlite")
    };
    let words: Vec<String> = syntax.iter().map(|(_, w, _)| format!("`{w}`")).collect();
    let instead: Vec<String> = syntax
        .iter()
        .map(|(_, w, i)| format!("`{w}` → {i}"))
        .collect();
    Found {
        check: "MigrationDialect",
        code: "one_backend_sql",
        severity: "Error",
        message: format!(
            "{dir}/{file} runs on both backends but holds {only}-only syntax ({}): it fails on {other}",
            words.join(", ")
        ),
        files: vec![format!("{dir}/{file}")],
        help: format!(
            "rename it to {dir}/{stem}.{this}{down}.sql and add {dir}/{stem}.{that}{down}.sql with {other}'s form ({})",
            instead.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_words_are_found_once_in_order() {
        let found = one_backend_syntax(
            "CREATE TABLE a (id BIGSERIAL PRIMARY KEY, doc JSONB, at TIMESTAMPTZ DEFAULT now());\n\
             CREATE TABLE b (id BIGSERIAL PRIMARY KEY, n INT DEFAULT '1'::int);",
        );
        let words: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(words, ["BIGSERIAL", "JSONB", "TIMESTAMPTZ", "NOW", "::"]);
        assert!(found.iter().all(|f| f.0 == "PostgreSQL"));
    }

    #[test]
    fn portable_sql_strings_comments_and_quoted_names_say_nothing() {
        let sql = "/* AUTOINCREMENT */ CREATE TABLE \"serial\" (id BIGINT PRIMARY KEY, \
                   note TEXT DEFAULT 'datetime(now)', at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, \
                   now_at BIGINT, ok BOOLEAN); -- JSONB";
        assert_eq!(one_backend_syntax(sql), vec![]);
    }

    #[test]
    fn sqlite_functions_need_their_parenthesis() {
        let found = one_backend_syntax("INSERT OR IGNORE INTO t (at) VALUES (datetime('now'))");
        let words: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(words, ["INSERT OR", "DATETIME"]);
        assert!(one_backend_syntax("CREATE TABLE t (datetime TEXT)").is_empty());
    }

    #[test]
    fn the_finding_names_the_file_and_the_pair_to_write() {
        let f = finding(
            "domains/notes/migrations",
            "0001_create_notes.sql",
            &one_backend_syntax("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT)"),
        );
        assert_eq!(
            f.message,
            "domains/notes/migrations/0001_create_notes.sql runs on both backends but holds SQLite-only syntax (`AUTOINCREMENT`): it fails on PostgreSQL"
        );
        assert_eq!(
            f.help,
            "rename it to domains/notes/migrations/0001_create_notes.sqlite.sql and add domains/notes/migrations/0001_create_notes.postgres.sql with PostgreSQL's form (`AUTOINCREMENT` → `BIGSERIAL PRIMARY KEY` on PostgreSQL)"
        );
        let down = finding("d/m", "0002_x.down.sql", &one_backend_syntax("PRAGMA foo"));
        assert!(
            down.help
                .contains("d/m/0002_x.sqlite.down.sql and add d/m/0002_x.postgres.down.sql"),
            "{}",
            down.help
        );
    }
}
