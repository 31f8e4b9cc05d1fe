//! `check --format json`: every problem `check` finds (wiring, the dry
//! boot, the lints) as one JSON document, for an editor or an agent to
//! read instead of scraping the terminal text. The schema is in
//! `docs/check-json.md`; `microcore check --format json` adds the
//! compiler's errors in the same shape.

use serde::{Deserialize, Serialize};

use crate::lint::{Finding, Severity};
use microcore::BootError;
use microcore::diagnostic::{Diagnostic, Span};
use microcore::graph::WiringErrors;

/// The version of the document's schema: bumped when a field changes
/// meaning or goes away (a new field does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// The whole document `check --format json` prints.
///
/// ```
/// use microcore_commands::report::{Entry, Report};
///
/// let report = Report::new(vec![Entry::error("config", "BOOT_TIMEOUT_SECS is not a number", "set it to a number of seconds")]);
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["errors"], 1);
/// assert_eq!(json["diagnostics"][0]["file"], serde_json::Value::Null);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// Every problem, errors first.
    pub diagnostics: Vec<Entry>,
    /// How many are errors (`check` exits 1 when any).
    pub errors: usize,
    /// How many are warnings (`check --strict` exits 1 when any).
    pub warnings: usize,
}

impl Report {
    /// A report of `diagnostics`, errors first, counted.
    pub fn new(mut diagnostics: Vec<Entry>) -> Self {
        diagnostics.sort_by_key(|d| d.severity != "error");
        let errors = diagnostics.iter().filter(|d| d.severity == "error").count();
        Self {
            version: SCHEMA_VERSION,
            warnings: diagnostics.len() - errors,
            errors,
            diagnostics,
        }
    }

    /// Whether `check` fails on it: an error, or with `strict` a warning.
    pub fn fails(&self, strict: bool) -> bool {
        self.errors > 0 || (strict && self.warnings > 0)
    }
}

/// One problem: a stable code, what is wrong, where, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// A stable code: `route_conflict`, `missing_tool`, `E0308`, ...
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The file to change, relative to the workspace; `null` when the
    /// problem has no place in the source (a setting).
    pub file: Option<String>,
    /// 1-based line in `file`, when known.
    pub line: Option<u32>,
    /// 1-based column in `file`, when known.
    pub column: Option<u32>,
    /// The fix; `null` when there is nothing more to say than `message`.
    pub help: Option<String>,
    /// The other places involved.
    pub related: Vec<Place>,
    /// Who found it: `wiring`, `boot`, `lint` or `rustc`.
    pub origin: String,
}

/// Another place a problem involves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The file, relative to the workspace.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What happens there.
    pub label: String,
}

impl Entry {
    /// An error with no place in the source.
    pub fn error(code: &str, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            severity: "error".into(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
            help: Some(help.into()),
            related: Vec::new(),
            origin: "boot".into(),
        }
    }

    /// `file:line` (a registry location) as this entry's place.
    fn at(mut self, location: &str) -> Self {
        let (file, line) = split_location(location);
        self.file = Some(file.to_string());
        self.line = line;
        self
    }
}

/// `domains/users/plugins/me.rs:9` → (`domains/users/plugins/me.rs`, 9).
fn split_location(location: &str) -> (&str, Option<u32>) {
    match location.rsplit_once(':') {
        Some((file, line)) => match line.parse() {
            Ok(line) => (file, Some(line)),
            Err(_) => (location, None),
        },
        None => (location, None),
    }
}

fn place(span: &Span) -> Place {
    Place {
        file: span.file.clone(),
        line: Some(span.line),
        column: column(span),
        label: span.label.clone(),
    }
}

/// A span's column, `None` when only its line is known.
fn column(span: &Span) -> Option<u32> {
    (span.column > 0).then_some(span.column)
}

/// A collision (or another problem) in what the plugins registered.
pub fn diagnostic(d: &Diagnostic) -> Entry {
    Entry {
        code: d.code.to_string(),
        severity: "error".into(),
        message: d.message.clone(),
        file: Some(d.at.file.clone()),
        line: Some(d.at.line),
        column: column(&d.at),
        help: Some(d.help.clone()),
        related: d.related.iter().map(place).collect(),
        origin: "boot".into(),
    }
}

/// A lint's finding: its first file is the place.
pub fn finding(f: &Finding) -> Entry {
    let mut files = f.files.iter();
    let (file, line) = files
        .next()
        .map(|f| split_location(f))
        .map_or((None, None), |(f, l)| (Some(f.to_string()), l));
    Entry {
        code: f.code.to_string(),
        severity: match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
        .into(),
        message: f.message.clone(),
        file,
        line,
        column: None,
        help: Some(f.help.clone()),
        related: files
            .map(|f| {
                let (file, line) = split_location(f);
                Place {
                    file: file.to_string(),
                    line,
                    column: None,
                    label: "also involved".into(),
                }
            })
            .collect(),
        origin: "lint".into(),
    }
}

/// Every wiring mistake, each at the field or declaration to change.
pub fn wiring(errors: &WiringErrors) -> Vec<Entry> {
    let wiring = |d| Entry {
        origin: "wiring".into(),
        ..diagnostic(d)
    };
    errors.0.iter().map(wiring).collect()
}

/// A boot that stopped: each of its problems.
pub fn boot_error(e: &BootError) -> Vec<Entry> {
    match e {
        BootError::Wiring(errors) => wiring(errors),
        BootError::Rejected(diagnostics) => diagnostics.0.iter().map(diagnostic).collect(),
        BootError::Config(message) => vec![Entry::error(
            "config",
            message.clone(),
            "fix the variable named in the message (docs/configuration.md)",
        )],
        BootError::Tool {
            tool,
            location,
            message,
        } => vec![
            Entry::error(
                "tool_failed",
                format!("tool '{tool}' failed to start: {message}"),
                "fix the tool's settings or service named in the message (`cargo run -- doctor` checks them against the real configuration)",
            )
            .at(location),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collision_keeps_both_places_and_errors_come_first() {
        let d = Diagnostic {
            code: "route_conflict",
            message: "GET /a is registered twice".into(),
            at: Span::new("domains/b/plugins/b.rs", 9, 19, "here"),
            related: vec![Span::new("domains/a/plugins/a.rs", 7, 19, "first")],
            help: "change one path".into(),
        };
        let warning = finding(&Finding {
            code: "naming",
            severity: Severity::Warning,
            message: "name".into(),
            files: vec!["domains/a/plugins/a.rs:3".into()],
            help: "rename".into(),
        });
        let report = Report::new(vec![warning, diagnostic(&d)]);
        assert_eq!((report.errors, report.warnings), (1, 1));
        let first = &report.diagnostics[0];
        assert_eq!(first.code, "route_conflict");
        assert_eq!((first.line, first.column), (Some(9), Some(19)));
        assert_eq!(first.related[0].file, "domains/a/plugins/a.rs");
        assert_eq!(report.diagnostics[1].line, Some(3));
    }
}
