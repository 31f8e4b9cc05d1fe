//! Routes that cannot be served together, found before axum sees them
//! (it would panic, naming neither plugin): one method and path registered
//! twice, patterns the router cannot tell apart (`/hello/{who}` beside
//! `/hello/{name}`), and paths it refuses. Each problem names both plugins
//! and both registration calls.
//!
//! Overlaps are found by inserting every path in a `matchit` router, the
//! one axum routes with, so what passes here is what axum accepts.

use std::collections::BTreeMap;

use microcore::diagnostic::{Diagnostic, Span};

use crate::handle::RouteEntry;

/// Every problem of `routes`, in registration order.
pub(crate) fn find(routes: &[RouteEntry]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut methods: BTreeMap<(&str, &str), &RouteEntry> = BTreeMap::new();
    let mut paths: BTreeMap<&str, &RouteEntry> = BTreeMap::new();
    let mut router = matchit::Router::new();
    for route in routes {
        if let Some(why) = refused(&route.path) {
            found.push(invalid(route, why));
            continue;
        }
        if let Some(first) = methods.insert((route.method_name, &route.path), route) {
            found.push(duplicate(first, route));
            continue;
        }
        if paths.contains_key(route.path.as_str()) {
            continue;
        }
        match router.insert(route.path.as_str(), ()) {
            Ok(()) => {
                paths.insert(&route.path, route);
            }
            Err(matchit::InsertError::Conflict { with }) => {
                match paths
                    .get(with.as_str())
                    .copied()
                    .or_else(|| same_shape(&paths, &with))
                {
                    Some(first) => found.push(overlap(first, route)),
                    None => found.push(invalid(route, format!("it overlaps {with}"))),
                }
            }
            Err(e) => found.push(invalid(route, e.to_string())),
        }
    }
    found
}

/// Why axum would refuse `path` outright, if it would.
fn refused(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("a path must start with `/`".into());
    }
    path.split('/')
        .find(|segment| segment.starts_with(':') || segment.starts_with('*'))
        .map(|segment| {
            format!(
                "`{segment}` is the old capture syntax: write `{{{}}}`",
                segment.trim_start_matches([':', '*'])
            )
        })
}

/// The registered path `with` names, when matchit reports it with other
/// parameter names than it was registered with.
fn same_shape<'a>(paths: &BTreeMap<&str, &'a RouteEntry>, with: &str) -> Option<&'a RouteEntry> {
    paths
        .iter()
        .find(|(path, _)| shape(path) == shape(with))
        .map(|(_, route)| *route)
}

/// `path` with every parameter name blanked: `/a/{id}` → `/a/{}`.
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c);
            }
            '}' => {
                in_param = false;
                out.push(c);
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn duplicate(first: &RouteEntry, again: &RouteEntry) -> Diagnostic {
    let (method, path) = (again.method_name, &again.path);
    let message = if first.owner == again.owner {
        format!(
            "{method} {path} is registered twice by plugin '{}'",
            again.owner
        )
    } else {
        format!(
            "{method} {path} is registered by two plugins, '{}' and '{}'",
            first.owner, again.owner
        )
    };
    Diagnostic {
        code: "route_conflict",
        message,
        at: Span::caller(
            again.site,
            format!("plugin '{}' registers {method} {path} here", again.owner),
        ),
        related: vec![Span::caller(
            first.site,
            format!("plugin '{}' registered it first here", first.owner),
        )],
        help: "change the path or the method of one of the two routes".into(),
    }
}

fn overlap(first: &RouteEntry, again: &RouteEntry) -> Diagnostic {
    Diagnostic {
        code: "route_overlap",
        message: format!(
            "{} {} of plugin '{}' overlaps {} {} of plugin '{}': the router cannot tell them apart",
            again.method_name, again.path, again.owner, first.method_name, first.path, first.owner
        ),
        at: Span::caller(
            again.site,
            format!("plugin '{}' registers {} here", again.owner, again.path),
        ),
        related: vec![Span::caller(
            first.site,
            format!(
                "plugin '{}' registered {} first here",
                first.owner, first.path
            ),
        )],
        help: format!(
            "one position of a path holds one parameter name: write `{}` in both routes, or give one of them another path",
            first.path
        ),
    }
}

fn invalid(route: &RouteEntry, why: String) -> Diagnostic {
    Diagnostic {
        code: "route_path_invalid",
        message: format!(
            "{} {} of plugin '{}' cannot be routed: {why}",
            route.method_name, route.path, route.owner
        ),
        at: Span::caller(
            route.site,
            format!("plugin '{}' registers it here", route.owner),
        ),
        related: Vec::new(),
        help: "write paths as `/users/{user_id}`: a leading `/`, parameters in braces".into(),
    }
}
