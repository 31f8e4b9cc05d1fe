//! Tables for the terminal and for `docs/benchmarks.md`, and the update of
//! that file: each sub-command rewrites only its own blocks, between
//! `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so the prose around
//! them (method, analysis) is kept and a partial run leaves the other
//! sections' last results in place.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths::workspace_root;

/// A markdown table, padded so it also reads well in a terminal.
#[derive(Debug, Default)]
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub(crate) fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (missing cells are empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as markdown.
    pub(crate) fn render(&self) -> String {
        let columns = self.headers.len();
        let cell = |row: &[String], i: usize| row.get(i).cloned().unwrap_or_default();
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| cell(r, i).chars().count())
                    .chain([self.headers[i].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, cells: Vec<String>| {
            out.push('|');
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(out, " {c:<w$} |", w = widths[i]);
            }
            out.push('\n');
        };
        line(&mut out, self.headers.clone());
        line(&mut out, widths.iter().map(|w| "-".repeat(*w)).collect());
        for r in &self.rows {
            line(&mut out, (0..columns).map(|i| cell(r, i)).collect());
        }
        out
    }
}

/// The file the results go to.
pub(crate) fn doc_path() -> PathBuf {
    workspace_root().join("docs/benchmarks.md")
}

/// Replaces block `name` of `docs/benchmarks.md` with `content` (or
/// appends the block when the file lacks it).
pub(crate) fn update_block(name: &str, content: &str) -> Result<(), String> {
    update_block_in(&doc_path(), name, content)
}

/// Replaces block `name` of the Markdown file at `path`.
pub(crate) fn update_block_in(path: &Path, name: &str, content: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let updated = replace_block(&text, name, content);
    write_atomically(path, &updated)
}

/// docs/reliability.md, where the soak with faults reports.
pub(crate) fn reliability_path() -> PathBuf {
    crate::paths::workspace_root()
        .join("docs")
        .join("reliability.md")
}

fn replace_block(text: &str, name: &str, content: &str) -> String {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let body = format!("{open}\n{}\n{close}", content.trim_end());
    match (text.find(&open), text.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{body}{}", &text[..start], &text[end + close.len()..])
        }
        _ => format!("{}\n\n{body}\n", text.trim_end()),
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// One line saying when, on which commit and with which command a block
/// was measured.
pub(crate) fn provenance(command: &str) -> String {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // The harness rewrites docs/benchmarks.md block by block: its own
    // edits are not a change to what was measured.
    let dirty = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)docs/benchmarks.md",
    ])
    .is_some_and(|s| !s.trim().is_empty());
    format!(
        "_Measured {} on commit `{commit}`{} with `{command}`._",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    )
}

/// The machine, as the results depend on it.
pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = run(&["uname", "-r"]).unwrap_or_else(|| "unknown".into());
    let rustc = run(&["rustc", "--version"]).unwrap_or_else(|| "unknown".into());
    let valgrind = run(&["valgrind", "--version"]).unwrap_or_else(|| "not installed".into());
    format!(
        "| | |\n|---|---|\n| CPUs (`nproc`) | {cpus} |\n| CPU model | {model} |\n| memory | {memory_gib:.1} GiB |\n| kernel | Linux {kernel} |\n| rustc | {rustc} |\n| valgrind | {valgrind} |\n"
    )
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn run(argv: &[&str]) -> Option<String> {
    let out = Command::new(argv[0]).args(&argv[1..]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `x` as a ratio of `base` (`1.03×`), or `n/a`.
pub(crate) fn ratio(x: f64, base: f64) -> String {
    if base > 0.0 && x.is_finite() {
        format!("{:.2}×", x / base)
    } else {
        "n/a".into()
    }
}

/// `met` / `NOT met`, for the target columns.
pub(crate) fn verdict(met: bool) -> String {
    if met { "met" } else { "**NOT met**" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_replaced_in_place_and_appended_when_missing() {
        let text = "# B\n\nintro\n<!-- bench:x -->\nold\n<!-- /bench:x -->\nafter\n";
        let new = replace_block(text, "x", "new\n");
        assert_eq!(
            new,
            "# B\n\nintro\n<!-- bench:x -->\nnew\n<!-- /bench:x -->\nafter\n"
        );
        let appended = replace_block("# B\n", "y", "hello");
        assert!(appended.ends_with("<!-- bench:y -->\nhello\n<!-- /bench:y -->\n"));
    }

    #[test]
    fn tables_are_padded_markdown() {
        let mut t = Table::new(&["name", "value"]);
        t.row(vec!["a".into(), "12345".into()]);
        assert_eq!(
            t.render(),
            "| name | value |\n| ---- | ----- |\n| a    | 12345 |\n"
        );
    }

    #[test]
    fn ratios_and_verdicts() {
        assert_eq!(ratio(103.0, 100.0), "1.03×");
        assert_eq!(ratio(1.0, 0.0), "n/a");
        assert_eq!(verdict(true), "met");
    }
}
