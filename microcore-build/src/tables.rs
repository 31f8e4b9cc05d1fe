//! Table ownership: a table is created and written by one domain's
//! migrations only (`domains/<domain>/migrations/*.sql`), so each domain
//! can change its tables without breaking another.
//!
//! The SQL is tokenized (comments, string literals and dollar-quoted
//! bodies skipped; quoted identifiers kept), then each statement's head is
//! read: `CREATE/ALTER/DROP TABLE`, `CREATE INDEX ... ON`, `INSERT INTO`,
//! `REPLACE INTO`, `UPDATE`, `DELETE FROM`. A statement starts the file,
//! or follows `;` or a trigger's `BEGIN`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::{Found, name_of, sorted};

/// What a statement does to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// `CREATE TABLE`.
    Create,
    /// `ALTER TABLE`, `CREATE INDEX ... ON`.
    Alter,
    /// `DROP TABLE`.
    Drop,
    /// `INSERT INTO`, `REPLACE INTO`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE FROM`.
    Delete,
}

/// The tables `sql` creates or writes, in order (names of unquoted
/// identifiers lowercased, schema dropped).
///
/// ```
/// use microcore_build::tables::{touched, Verb};
/// assert_eq!(
///     touched("CREATE TABLE IF NOT EXISTS Users (id INT); INSERT INTO public.users VALUES (1);"),
///     [("users".to_string(), Verb::Create), ("users".to_string(), Verb::Insert)]
/// );
/// ```
pub fn touched(sql: &str) -> Vec<(String, Verb)> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    let mut start = true;
    for i in 0..tokens.len() {
        let at_start = start;
        start = matches!(&tokens[i], Token::Punct(';')) || tokens[i].is("begin");
        if at_start {
            statement(&tokens[i..], &mut out);
        }
    }
    out
}

/// One finding per table touched by more than one domain, naming every
/// migration file involved (the other domains' first).
pub(crate) fn check_domains(shown_root: &str, domains: &[(String, PathBuf)]) -> Vec<Found> {
    // table → domain → (file, verbs)
    let mut tables: BTreeMap<String, BTreeMap<String, Vec<(String, Verb)>>> = BTreeMap::new();
    for (domain, dir) in domains {
        let files = sorted(&dir.join("migrations"), |p| {
            p.is_file() && name_of(p).ends_with(".sql")
        });
        for file in files {
            let Ok(sql) = std::fs::read_to_string(&file) else {
                continue;
            };
            let shown = format!("{shown_root}/{domain}/migrations/{}", name_of(&file));
            for (table, verb) in touched(&sql) {
                tables
                    .entry(table)
                    .or_default()
                    .entry(domain.clone())
                    .or_default()
                    .push((shown.clone(), verb));
            }
        }
    }
    tables
        .into_iter()
        .filter(|(_, by_domain)| by_domain.len() > 1)
        .map(|(table, by_domain)| shared(&table, &by_domain))
        .collect()
}

/// The finding for `table`, touched by every domain of `by_domain`.
fn shared(table: &str, by_domain: &BTreeMap<String, Vec<(String, Verb)>>) -> Found {
    let creates = |domain: &String| by_domain[domain].iter().any(|(_, v)| *v == Verb::Create);
    let owners: Vec<&String> = by_domain.keys().filter(|d| creates(d)).collect();
    let others: Vec<&String> = by_domain.keys().filter(|d| !creates(d)).collect();
    let describe = |domain: &String| {
        let mut files: Vec<String> = Vec::new();
        for (file, verb) in &by_domain[domain] {
            let entry = format!("{file} ({})", verb_name(*verb));
            if !files.contains(&entry) {
                files.push(entry);
            }
        }
        format!("domain '{domain}' in {}", files.join(", "))
    };
    let mut files: Vec<String> = Vec::new();
    for domain in others.iter().chain(&owners) {
        for (file, _) in &by_domain[*domain] {
            if !files.contains(file) {
                files.push(file.clone());
            }
        }
    }
    let all: Vec<String> = others.iter().chain(&owners).map(|d| describe(d)).collect();
    let help = match owners.as_slice() {
        [owner] => format!(
            "table '{table}' belongs to '{owner}', whose migrations create it: move the other writes into '{owner}' migrations, or have '{owner}' do them on an event the other domain publishes"
        ),
        _ => format!(
            "let one domain own table '{table}' (create and write it in its migrations only); the others reach its data through events or a tool"
        ),
    };
    Found {
        check: "TableOwnership",
        severity: "Warning",
        code: "shared_table",
        message: format!(
            "table '{table}' is created or written by the migrations of more than one domain: {}",
            all.join("; ")
        ),
        files,
        help,
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Create => "CREATE TABLE",
        Verb::Alter => "ALTER",
        Verb::Drop => "DROP TABLE",
        Verb::Insert => "INSERT",
        Verb::Update => "UPDATE",
        Verb::Delete => "DELETE",
    }
}

/// Reads the head of the statement starting at `t[0]`.
fn statement(t: &[Token], out: &mut Vec<(String, Verb)>) {
    let mut i = 0;
    let skip = |words: &[&str], i: &mut usize| {
        while t.get(*i).is_some_and(|tok| words.iter().any(|w| tok.is(w))) {
            *i += 1;
        }
    };
    let first = |i: usize| t.get(i);
    let Some(head) = first(0) else {
        return;
    };
    i += 1;
    if head.is("create") {
        skip(
            &[
                "or",
                "replace",
                "global",
                "local",
                "temp",
                "temporary",
                "unlogged",
                "unique",
            ],
            &mut i,
        );
        if first(i).is_some_and(|t| t.is("table")) {
            i += 1;
            skip(&["if", "not", "exists"], &mut i);
            push(t, i, Verb::Create, out);
        } else if first(i).is_some_and(|t| t.is("index")) {
            // CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table
            if let Some(on) = t[i..].iter().position(|t| t.is("on")) {
                let mut at = i + on + 1;
                skip(&["only"], &mut at);
                push(t, at, Verb::Alter, out);
            }
        }
    } else if head.is("alter") || head.is("drop") {
        if !first(i).is_some_and(|t| t.is("table")) {
            return;
        }
        i += 1;
        skip(&["if", "exists", "only"], &mut i);
        if head.is("alter") {
            push(t, i, Verb::Alter, out);
            return;
        }
        // DROP TABLE a, b
        loop {
            i = push(t, i, Verb::Drop, out);
            if !matches!(first(i), Some(Token::Punct(','))) {
                return;
            }
            i += 1;
        }
    } else if head.is("insert") || head.is("replace") {
        skip(
            &["or", "replace", "ignore", "abort", "fail", "rollback"],
            &mut i,
        );
        if first(i).is_some_and(|t| t.is("into")) {
            push(t, i + 1, Verb::Insert, out);
        }
    } else if head.is("update") {
        skip(
            &[
                "or", "replace", "ignore", "abort", "fail", "rollback", "only",
            ],
            &mut i,
        );
        push(t, i, Verb::Update, out);
    } else if head.is("delete") && first(i).is_some_and(|t| t.is("from")) {
        i += 1;
        skip(&["only"], &mut i);
        push(t, i, Verb::Delete, out);
    }
}

/// Records the (possibly schema-qualified) table name at `t[i]`; returns
/// the index after it.
fn push(t: &[Token], mut i: usize, verb: Verb, out: &mut Vec<(String, Verb)>) -> usize {
    let mut name = None;
    while let Some(Token::Word(word) | Token::Quoted(word)) = t.get(i) {
        name = Some(word.clone());
        i += 1;
        if !matches!(t.get(i), Some(Token::Punct('.'))) {
            break;
        }
        i += 1;
    }
    if let Some(name) = name {
        out.push((name, verb));
    }
    i
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// An unquoted identifier or keyword, lowercased.
    Word(String),
    /// A quoted identifier, as written: never a keyword.
    Quoted(String),
    /// Any other character that is not a literal (`;`, `,`, `.`, `(`).
    Punct(char),
}

impl Token {
    /// Whether this is the unquoted keyword `word` (given in lowercase).
    pub(crate) fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w == word)
    }
}

pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let until = |from: usize, end: &str| {
        let end: Vec<char> = end.chars().collect();
        (from..chars.len())
            .find(|&j| chars[j..].starts_with(&end))
            .map_or(chars.len(), |j| j + end.len())
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        i = match c {
            _ if c.is_whitespace() => i + 1,
            '-' if next == Some('-') => until(i, "\n"),
            '/' if next == Some('*') => until(i + 2, "*/"),
            '\'' => quoted(&chars, i, '\'').0,
            '"' | '`' => {
                let (end, text) = quoted(&chars, i, c);
                tokens.push(Token::Quoted(text));
                end
            }
            '$' => match dollar_tag(&chars, i) {
                Some(tag) => until(i + tag.chars().count(), &tag),
                None => i + 1,
            },
            _ if c.is_alphanumeric() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$'))
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().collect();
                tokens.push(Token::Word(word.to_lowercase()));
                end
            }
            _ => {
                tokens.push(Token::Punct(c));
                i + 1
            }
        };
    }
    tokens
}

/// A literal or quoted identifier opened at `chars[start]`, closed by
/// `close` (doubled to escape): the index after it, and its text.
fn quoted(chars: &[char], start: usize, close: char) -> (usize, String) {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == close {
            if chars.get(i + 1) == Some(&close) {
                text.push(close);
                i += 2;
                continue;
            }
            return (i + 1, text);
        }
        text.push(chars[i]);
        i += 1;
    }
    (i, text)
}

/// `$tag$` or `$$` opening a PostgreSQL dollar-quoted string at `start`.
fn dollar_tag(chars: &[char], start: usize) -> Option<String> {
    let end =
        (start + 1..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))?;
    (chars[end] == '$' && !chars.get(start + 1).is_some_and(|c| c.is_ascii_digit()))
        .then(|| chars[start..=end].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(sql: &str) -> Vec<String> {
        touched(sql)
            .into_iter()
            .map(|(t, v)| format!("{} {t}", verb_name(v)))
            .collect()
    }

    #[test]
    fn every_kind_of_write_is_read_from_the_statement_head() {
        let sql = "
            CREATE TABLE users (id INT, manager INT REFERENCES users(id) ON DELETE CASCADE ON UPDATE CASCADE);
            create unlogged table if not exists \"Audit\" (id int);
            CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (email);
            ALTER TABLE ONLY public.users ADD COLUMN bio TEXT;
            INSERT OR IGNORE INTO users (id) VALUES (1);
            REPLACE INTO sessions VALUES (1);
            UPDATE users SET bio = 'x' WHERE id = 1;
            DELETE FROM tokens WHERE id IN (SELECT id FROM users);
            DROP TABLE IF EXISTS old_a, old_b;
        ";
        assert_eq!(
            tables(sql),
            [
                "CREATE TABLE users",
                "CREATE TABLE Audit",
                "ALTER users",
                "ALTER users",
                "INSERT users",
                "INSERT sessions",
                "UPDATE users",
                "DELETE tokens",
                "DROP TABLE old_a",
                "DROP TABLE old_b",
            ]
        );
    }

    #[test]
    fn comments_strings_and_function_bodies_are_not_statements() {
        let sql = "
            -- INSERT INTO users VALUES (1);
            /* UPDATE users SET x = 1; */
            INSERT INTO log (line) VALUES ('; DELETE FROM users; it''s');
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN UPDATE users SET x = 1; END; $body$ LANGUAGE plpgsql;
            SELECT * FROM users;
        ";
        assert_eq!(tables(sql), ["INSERT log"]);
    }

    #[test]
    fn a_trigger_body_writes_what_it_names() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1; END;";
        assert_eq!(tables(sql), ["UPDATE b"]);
    }

    #[test]
    fn a_table_shared_by_two_domains_names_every_file_the_writer_first() {
        let by_domain: BTreeMap<String, Vec<(String, Verb)>> = [
            (
                "billing".to_string(),
                vec![(
                    "domains/billing/migrations/0001_seed.sql".to_string(),
                    Verb::Insert,
                )],
            ),
            (
                "users".to_string(),
                vec![
                    (
                        "domains/users/migrations/0001_create_users.sqlite.sql".to_string(),
                        Verb::Create,
                    ),
                    (
                        "domains/users/migrations/0001_create_users.postgres.sql".to_string(),
                        Verb::Create,
                    ),
                ],
            ),
        ]
        .into();
        let found = shared("users", &by_domain);
        assert_eq!(
            found.files,
            [
                "domains/billing/migrations/0001_seed.sql",
                "domains/users/migrations/0001_create_users.sqlite.sql",
                "domains/users/migrations/0001_create_users.postgres.sql",
            ]
        );
        assert!(
            found
                .message
                .contains("domain 'billing' in domains/billing/migrations/0001_seed.sql (INSERT)"),
            "{}",
            found.message
        );
        assert!(found.help.contains("belongs to 'users'"), "{}", found.help);
    }
}
