//! The route table of `cargo run -- routes`: every route of a live plugin,
//! with the call that registered it and who may call it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::Registry;

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteRow {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path template: `/users/{user_id}`.
    pub path: String,
    /// The plugin serving it: `users.GetUser`.
    pub plugin: &'static str,
    /// The file and line of the call that registered it (`.get(...)`).
    pub file: String,
    /// Who may call it (`bearer`, `optional bearer`, `SYSTEM_ROUTES`);
    /// `-`: anyone.
    pub auth: &'static str,
}

/// The rows, sorted by path then method.
///
/// ```
/// let kernel = microcore::registry::AppRegistry::new();
/// let registry = microcore_registry::Registry::new(kernel, microcore_http::Http::detached());
/// assert!(microcore_registry::routes::table(&registry).is_empty());
/// ```
pub fn table(registry: &Registry) -> Vec<RouteRow> {
    registry
        .routes()
        .into_iter()
        .map(|r| RouteRow {
            file: r.site,
            method: r.method,
            path: r.path,
            plugin: r.plugin,
            auth: r.auth.unwrap_or("-"),
        })
        .collect()
}

/// The rows as aligned text columns under a header.
///
/// ```
/// use microcore_registry::routes::{RouteRow, render};
///
/// let text = render(&[RouteRow {
///     method: "GET",
///     path: "/ping".into(),
///     plugin: "ping.Ping",
///     file: "domains/ping/plugins/ping.rs:8".into(),
///     auth: "-",
/// }]);
/// assert_eq!(text.lines().nth(1), Some("GET     /ping  ping.Ping  domains/ping/plugins/ping.rs:8  -"));
/// ```
pub fn render(rows: &[RouteRow]) -> String {
    let cells: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| [r.method, &r.path, r.plugin, &r.file, r.auth])
        .collect();
    columns(["METHOD", "PATH", "PLUGIN", "FILE", "AUTH"], &cells)
}

/// Rows of cells as aligned text columns under `header`.
pub(crate) fn columns<const N: usize>(header: [&str; N], cells: &[[&str; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(cells) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
