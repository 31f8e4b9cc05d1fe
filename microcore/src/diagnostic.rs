//! Diagnostics: a problem in what the plugins registered (two plugins on
//! one route, say), found before anything is served, with every place
//! involved.
//!
//! A [`Diagnostic`] is data first (code, message, file, line, column,
//! help), so `check` can print it for a terminal or as JSON, and renders
//! for a terminal the way rustc does: each place with its source line when
//! the file can be read from the working directory.

use std::fmt;

use serde::Serialize;

/// One place in the source: a file, a line, a column, and what happens there.
///
/// ```
/// use microcore::diagnostic::Span;
///
/// let at = Span::new("/home/me/app/domains/ping/plugins/ping.rs", 14, 19, "registered here");
/// assert_eq!(at.file, "domains/ping/plugins/ping.rs");
/// assert_eq!(at.to_string(), "domains/ping/plugins/ping.rs:14:19");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The file, relative to the workspace.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column; 0 when only the line is known (a declaration, from
    /// `line!()`), shown as `file:line`.
    pub column: u32,
    /// What happens there, e.g. `plugin 'hello.Hello' registers it here`.
    pub label: String,
}

impl Span {
    /// A place as `file!()` or [`std::panic::Location`] give it (absolute
    /// for files the domains crate includes by path; made relative here).
    pub fn new(file: &str, line: u32, column: u32, label: impl Into<String>) -> Self {
        Self {
            file: relative_file(file).to_string(),
            line,
            column,
            label: label.into(),
        }
    }

    /// Where a `#[track_caller]` function was called from.
    ///
    /// ```
    /// let at = microcore::diagnostic::Span::caller(std::panic::Location::caller(), "here");
    /// assert!(at.line > 0);
    /// ```
    pub fn caller(at: &std::panic::Location<'_>, label: impl Into<String>) -> Self {
        Self::new(at.file(), at.line(), at.column(), label)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.column {
            0 => Ok(()),
            column => write!(f, ":{column}"),
        }
    }
}

/// One problem, the place to look first, the other places involved and
/// the fix.
///
/// ```
/// use microcore::diagnostic::{Diagnostic, Span};
///
/// let d = Diagnostic {
///     code: "route_conflict",
///     message: "GET /hello is registered twice".into(),
///     at: Span::new("no/such/file.rs", 9, 19, "plugin 'b.B' registers it here"),
///     related: vec![Span::new("no/such/other.rs", 7, 19, "plugin 'a.A' registered it first")],
///     help: "change the path or method of one of them".into(),
/// };
/// assert_eq!(d.to_string(), "\
/// error[route_conflict]: GET /hello is registered twice
///   --> no/such/file.rs:9:19: plugin 'b.B' registers it here
///   ::: no/such/other.rs:7:19: plugin 'a.A' registered it first
///   = help: change the path or method of one of them");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// A stable code, e.g. `route_conflict`.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The place to change first (`file`, `line`, `column`, `label` in JSON).
    #[serde(flatten)]
    pub at: Span,
    /// The other places involved.
    pub related: Vec<Span>,
    /// The fix.
    pub help: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code, self.message)?;
        show(f, "-->", '^', &self.at)?;
        for span in &self.related {
            show(f, ":::", '-', span)?;
        }
        write!(f, "\n  = help: {}", self.help)
    }
}

/// One place: its position, then its source line with the word at the
/// column underlined, or the label on the position's line when the file
/// cannot be read (a binary run away from its sources).
fn show(f: &mut fmt::Formatter<'_>, arrow: &str, mark: char, span: &Span) -> fmt::Result {
    let source = std::fs::read_to_string(&span.file).ok();
    let line = source
        .as_deref()
        .and_then(|s| s.lines().nth(span.line.saturating_sub(1) as usize));
    let Some(line) = line else {
        return write!(f, "\n  {arrow} {span}: {}", span.label);
    };
    let number = span.line.to_string();
    let pad = " ".repeat(number.len());
    // No column: underline the line's first word.
    let start = match span.column {
        0 => line.len() - line.trim_start().len(),
        column => (column as usize - 1).min(line.len()),
    };
    let word = line[start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(line.len() - start)
        .max(1);
    let indent: String = line[..start]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let underline = mark.to_string().repeat(word);
    write!(
        f,
        "\n{pad}{arrow} {span}\n{pad} |\n{number} | {line}\n{pad} | {indent}{underline} {}\n{pad} |",
        span.label
    )
}

/// `file` relative to the workspace: plugins discovered by the domains
/// crate's build script are compiled through `#[path = "<absolute>"]`, so
/// `file!()` is absolute there; this cuts everything before `domains/`,
/// `tools/`, `tests/` or `src/`.
pub(crate) fn relative_file(file: &str) -> &str {
    if !file.starts_with('/') {
        return file;
    }
    for marker in ["/domains/", "/tools/", "/tests/", "/src/"] {
        if let Some(at) = file.rfind(marker) {
            return &file[at + 1..];
        }
    }
    file
}

/// Every diagnostic of one boot: all are reported together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = "what the plugins registered has";
        list(f, &self.0, found, "nothing was served")
    }
}

/// Every diagnostic, a blank line apart, then the count: `error: {found}
/// 2 problems; {then}` (the wiring check's and the boot's lists read alike).
pub(crate) fn list(
    f: &mut fmt::Formatter<'_>,
    all: &[Diagnostic],
    found: &str,
    then: &str,
) -> fmt::Result {
    for d in all {
        writeln!(f, "{d}\n")?;
    }
    let n = all.len();
    let s = if n == 1 { "" } else { "s" };
    write!(f, "error: {found} {n} problem{s}; {then}")
}

impl std::error::Error for Diagnostics {}
