//! Splitting a migration file into statements, to name the one that failed.
//!
//! A file is executed whole (both SQLite and PostgreSQL's simple protocol
//! take several statements at once), so this splitter never decides what
//! runs; it only replays a failed file statement by statement, inside a
//! transaction that is rolled back, to point at the culprit. It knows what
//! hides a `;`: quotes, comments, PostgreSQL dollar quotes, and the
//! `BEGIN … END` body of a trigger.

/// One statement of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    /// The statement, trimmed, without its final `;`.
    pub(crate) sql: &'a str,
    /// 1-based line of its first character in the file.
    pub(crate) line: usize,
}

/// The statements of `sql`, in order, skipping empty ones and comments-only ones.
pub(crate) fn statements(sql: &str) -> Vec<Piece<'_>> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut words: Vec<String> = Vec::new();
    let mut depth: usize = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let backslash_escapes = c == b'\''
                    && i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && word_start(bytes, i - 1);
                i = skip_quoted(bytes, i, c, backslash_escapes);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => i = skip_dollar_quoted(sql, i),
            b';' => {
                if depth == 0 {
                    push(sql, start, i, &mut pieces);
                    start = i + 1;
                    words.clear();
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
                    .map_or(bytes.len(), |n| i + n);
                let word = sql[i..end].to_ascii_uppercase();
                if has_body(&words) {
                    match word.as_str() {
                        "BEGIN" | "CASE" => depth += 1,
                        "END" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                if words.len() < 6 {
                    words.push(word);
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    push(sql, start, bytes.len(), &mut pieces);
    pieces
}

/// `CREATE [OR REPLACE] [TEMP] TRIGGER …` (SQLite) and
/// `… BEGIN ATOMIC` function bodies (PostgreSQL) hold `;` between `BEGIN`
/// and `END`.
fn has_body(words: &[String]) -> bool {
    words.first().is_some_and(|w| w == "CREATE")
        && words
            .iter()
            .skip(1)
            .any(|w| matches!(w.as_str(), "TRIGGER" | "FUNCTION" | "PROCEDURE"))
}

fn word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

/// Adds `sql[start..end]` without its leading comments, so the line
/// points at the statement itself.
fn push<'a>(sql: &'a str, start: usize, end: usize, pieces: &mut Vec<Piece<'a>>) {
    let offset = start + leading_comments(&sql[start..end]);
    let text = sql[offset..end].trim_end();
    if text.is_empty() {
        return;
    }
    let line = sql[..offset].bytes().filter(|b| *b == b'\n').count() + 1;
    pieces.push(Piece { sql: text, line });
}

/// The length of the whitespace and comments `text` starts with.
fn leading_comments(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            c if c.is_ascii_whitespace() => i += 1,
            _ => return i,
        }
    }
    bytes.len()
}

/// Past the closing quote; a doubled quote is an escaped one.
fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if backslash_escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Past the end of a (PostgreSQL-style, nestable) block comment.
fn skip_block_comment(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Past a `$tag$ … $tag$` string; a `$` that opens none (a `$1`
/// parameter) is one character.
fn skip_dollar_quoted(sql: &str, open: usize) -> usize {
    let rest = &sql[open + 1..];
    let tag_len = rest
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(rest.len());
    let is_tag = rest.as_bytes().get(tag_len) == Some(&b'$')
        && !rest[..tag_len].starts_with(|c: char| c.is_ascii_digit());
    if !is_tag {
        return open + 1;
    }
    let delimiter = &sql[open..open + tag_len + 2];
    let body = open + delimiter.len();
    sql[body..]
        .find(delimiter)
        .map_or(sql.len(), |n| body + n + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(sql: &str) -> Vec<&str> {
        statements(sql).into_iter().map(|p| p.sql).collect()
    }

    #[test]
    fn splits_on_semicolons_with_lines() {
        let pieces = statements("CREATE TABLE a (x INT);\n\n-- two\nINSERT INTO a VALUES (1);\n");
        assert_eq!(
            pieces,
            vec![
                Piece {
                    sql: "CREATE TABLE a (x INT)",
                    line: 1
                },
                Piece {
                    sql: "INSERT INTO a VALUES (1)",
                    line: 4
                },
            ]
        );
    }

    #[test]
    fn ignores_semicolons_in_quotes_and_comments() {
        assert_eq!(
            sqls("INSERT INTO a VALUES ('x;''y'); /* a; b */ SELECT \"c;d\" FROM t -- e;f\n;"),
            vec![
                "INSERT INTO a VALUES ('x;''y')",
                "SELECT \"c;d\" FROM t -- e;f"
            ]
        );
        assert_eq!(
            sqls("SELECT E'a\\';b'; SELECT 2"),
            vec!["SELECT E'a\\';b'", "SELECT 2"]
        );
    }

    #[test]
    fn keeps_dollar_quoted_bodies_whole() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\nSELECT $1;";
        assert_eq!(statements(sql).len(), 2);
        assert_eq!(
            sqls("SELECT $$a;b$$; SELECT 1"),
            vec!["SELECT $$a;b$$", "SELECT 1"]
        );
    }

    #[test]
    fn keeps_trigger_bodies_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN n > 0 THEN 1 ELSE 0 END;\n  DELETE FROM c;\nEND;\nSELECT 1;";
        let pieces = sqls(sql);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(pieces[0].ends_with("END"));
    }

    #[test]
    fn skips_empty_and_comment_only_statements() {
        assert!(sqls("  ;; -- nothing\n /* at all */ ;").is_empty());
    }
}
