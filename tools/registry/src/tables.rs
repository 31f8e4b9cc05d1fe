//! The app's tables as its migrations leave them, for `AI_CONTEXT.md`:
//! each table with its owning domain and its column definitions, read from
//! the SQLite flavour of the embedded migrations (the default backend), so
//! the text does not depend on where the app runs.

use std::collections::BTreeMap;

use microcore_db::Migration;

/// One table after every migration ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The domain whose migration created it.
    pub domain: String,
    /// Column definitions as written (`email TEXT NOT NULL UNIQUE`), then
    /// table constraints.
    pub columns: Vec<String>,
}

/// Tables by name, replaying `CREATE TABLE`, `ALTER TABLE .. ADD` and
/// `DROP TABLE` in each domain's migration order.
///
/// ```
/// use microcore_db::Migration;
/// use microcore_registry::tables::tables;
///
/// let create = Migration::shared("notes", "0001_create", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", None);
/// let alter = Migration::shared("notes", "0002_archive", "ALTER TABLE notes ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;", None);
/// let found = tables(&[alter, create]);
/// assert_eq!(found["notes"].domain, "notes");
/// assert_eq!(found["notes"].columns, ["id INTEGER PRIMARY KEY", "body TEXT NOT NULL", "archived INTEGER NOT NULL DEFAULT 0"]);
/// ```
pub fn tables(migrations: &[Migration]) -> BTreeMap<String, Table> {
    let mut ordered: Vec<&Migration> = migrations.iter().collect();
    ordered.sort_by_key(|m| (m.domain, m.name));
    let mut found = BTreeMap::new();
    for migration in ordered {
        for statement in statements(migration.up_sqlite) {
            apply(&mut found, migration.domain, &statement);
        }
    }
    found
}

/// The SQL's statements, comments dropped and whitespace folded.
fn statements(sql: &str) -> Vec<String> {
    let text: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    text.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

fn apply(found: &mut BTreeMap<String, Table>, domain: &str, statement: &str) {
    let words: Vec<&str> = statement.split(' ').collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
    let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
    match upper.as_slice() {
        ["CREATE", "TABLE", ..] => {
            let skip = if upper.get(2..5) == Some(&["IF", "NOT", "EXISTS"]) {
                5
            } else {
                2
            };
            let Some(open) = statement.find('(') else {
                return;
            };
            let name = unquote(
                words
                    .get(skip)
                    .unwrap_or(&"")
                    .split('(')
                    .next()
                    .unwrap_or_default(),
            );
            let body = statement[open + 1..].trim_end();
            let body = body.strip_suffix(')').unwrap_or(body);
            found.insert(
                name,
                Table {
                    domain: domain.to_string(),
                    columns: split_top_level(body),
                },
            );
        }
        ["ALTER", "TABLE", _, "ADD", ..] => {
            let skip = if upper.get(4) == Some(&"COLUMN") {
                5
            } else {
                4
            };
            if let Some(table) = found.get_mut(&unquote(words[2])) {
                table.columns.push(words[skip..].join(" "));
            }
        }
        ["DROP", "TABLE", ..] => {
            let skip = if upper.get(2..4) == Some(&["IF", "EXISTS"]) {
                4
            } else {
                2
            };
            if let Some(name) = words.get(skip) {
                found.remove(&unquote(name));
            }
        }
        _ => {}
    }
}

fn unquote(name: &str) -> String {
    name.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_string()
}

/// `a INT, b TEXT DEFAULT '[1,2]', CHECK (a > 0)` split on the commas that
/// are not inside parentheses or quotes.
fn split_top_level(body: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut current = String::new();
    for c in body.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_quoted_commas_and_drops_dropped_tables() {
        let create = Migration::shared(
            "users",
            "0001",
            "-- owner: users\nCREATE TABLE IF NOT EXISTS \"users\" (\n  id INTEGER PRIMARY KEY,\n  roles TEXT NOT NULL DEFAULT '[\"a\",\"b\"]',\n  UNIQUE (id, roles)\n);\nCREATE TABLE tmp (x INT);",
            None,
        );
        let drop = Migration::shared("users", "0002", "DROP TABLE IF EXISTS tmp;", None);
        let found = tables(&[create, drop]);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["users"]);
        assert_eq!(
            found["users"].columns,
            [
                "id INTEGER PRIMARY KEY",
                "roles TEXT NOT NULL DEFAULT '[\"a\",\"b\"]'",
                "UNIQUE (id, roles)"
            ]
        );
    }
}
