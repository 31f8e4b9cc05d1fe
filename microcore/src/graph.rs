//! The wiring check: descriptors in, a boot plan or every problem out.
//!
//! A pure function with no I/O, so it runs the same in `cargo run -- check`,
//! at every boot, and as an ordinary unit test of an app. All problems are
//! collected before returning: fixing wiring should take one run, not one
//! run per mistake.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::descriptor::{Dependency, Location, PluginDescriptor, ToolDescriptor};
use crate::diagnostic::{Diagnostic, Span};

/// The order in which an app boots.
#[derive(Debug, Clone)]
pub struct BootPlan {
    /// Tools, dependencies first; ties broken by name.
    pub tools: Vec<&'static ToolDescriptor>,
    /// The same tools grouped by depth: each group only needs the groups
    /// before it, so its tools can set up concurrently.
    pub levels: Vec<Vec<&'static ToolDescriptor>>,
    /// Plugins, by qualified name.
    pub plugins: Vec<&'static PluginDescriptor>,
    /// Built-in tools deliberately replaced: (replaced, replacement).
    pub replaced: Vec<(&'static ToolDescriptor, &'static ToolDescriptor)>,
}

/// Every mistake of one check, each a [`Diagnostic`] (code `missing_tool`,
/// `duplicate_tool`, `duplicate_plugin` or `tool_cycle`) naming the field
/// or declaration to change. `Display` renders them for a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiringErrors(pub Vec<Diagnostic>);

impl fmt::Display for WiringErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = "the wiring check found";
        crate::diagnostic::list(f, &self.0, found, "nothing was started")
    }
}

impl std::error::Error for WiringErrors {}

/// A declaration's place: descriptors know the line, not the column.
fn span(location: Location, label: String) -> Span {
    Span::new(location.file, location.line, 0, label)
}

/// A field names a tool that no linked crate provides.
fn missing_tool(what: &str, field: Span, dep: &Dependency, available: &[&str]) -> Diagnostic {
    let (name, tool) = (dep.field, dep.tool);
    let guess = closest(tool, available).map(|close| {
        format!("the field's type names tool '{tool}': did you mean '{close}'? Otherwise ")
    });
    Diagnostic {
        code: "missing_tool",
        message: format!(
            "field '{name}' of {what} needs tool '{tool}', which no linked crate provides (linked: {})",
            available.join(", ")
        ),
        at: field,
        related: Vec::new(),
        help: format!(
            "{}add the crate that provides '{tool}' to the app's [dependencies], or remove the field '{name}'",
            guess.unwrap_or_default()
        ),
    }
}

/// One problem at several places: the first is where to look first.
fn at_places(code: &'static str, message: String, places: Vec<Span>, help: &str) -> Diagnostic {
    let mut places = places.into_iter();
    Diagnostic {
        code,
        message,
        at: places.next().unwrap_or_else(|| Span::new("", 0, 0, "")),
        related: places.collect(),
        help: help.into(),
    }
}

/// The name in `available` closest to `wanted`, if it is a likely typo
/// (Levenshtein distance from `strsim`, the crate clap and darling suggest
/// with; every app builds it already, through sea-orm's derives).
fn closest<'a>(wanted: &str, available: &[&'a str]) -> Option<&'a str> {
    available
        .iter()
        .map(|a| (strsim::levenshtein(wanted, a), *a))
        .filter(|(d, a)| *d > 0 && *d <= 2.max(wanted.len() / 4) && *d < a.len())
        .min()
        .map(|(_, a)| a)
}

/// Checks the whole graph and orders the boot.
///
/// # Errors
/// Every wiring mistake found, in a deterministic order.
///
/// ```
/// use microcore::graph::check;
/// let plan = check(&[], &[]).unwrap();
/// assert!(plan.tools.is_empty() && plan.plugins.is_empty());
/// ```
pub fn check(
    tools: &[&'static ToolDescriptor],
    plugins: &[&'static PluginDescriptor],
) -> Result<BootPlan, WiringErrors> {
    let mut errors = Vec::new();
    let (active, replaced) = resolve_tool_names(tools, &mut errors);
    let available: Vec<&'static str> = active.keys().copied().collect();

    let mut plugins: Vec<&'static PluginDescriptor> = plugins.to_vec();
    plugins.sort_by_key(|p| (p.qualified_name(), p.location.file, p.location.line));
    for pair in plugins.chunk_by(|a, b| a.qualified_name() == b.qualified_name()) {
        if pair.len() > 1 {
            let name = pair[0].qualified_name();
            let places = pair
                .iter()
                .map(|p| span(p.location, "declared here".into()));
            errors.push(at_places(
                "duplicate_plugin",
                format!("{} plugins are named '{name}'", pair.len()),
                places.collect(),
                "rename one of the structs (a plugin's name is `<domain>.<StructName>`)",
            ));
        }
    }

    let owners = active
        .values()
        .map(|t| (format!("tool '{}'", t.name), t.location, t.deps))
        .chain(plugins.iter().map(|p| {
            (
                format!("plugin '{}'", p.qualified_name()),
                p.location,
                p.deps,
            )
        }));
    for (what, location, deps) in owners {
        for dep in deps.iter().filter(|d| !active.contains_key(d.tool)) {
            let field = Span::new(location.file, dep.line, 0, format!("field '{}'", dep.field));
            errors.push(missing_tool(&what, field, dep, &available));
        }
    }

    let (order, levels) = topological_order(&active, &mut errors);
    if !errors.is_empty() {
        return Err(WiringErrors(errors));
    }
    Ok(BootPlan {
        tools: order,
        levels,
        plugins,
        replaced,
    })
}

type ToolMap = BTreeMap<&'static str, &'static ToolDescriptor>;
type Replacements = Vec<(&'static ToolDescriptor, &'static ToolDescriptor)>;

/// One implementation per tool name; `replaces` lets exactly one win.
fn resolve_tool_names(
    tools: &[&'static ToolDescriptor],
    errors: &mut Vec<Diagnostic>,
) -> (ToolMap, Replacements) {
    let mut by_name: BTreeMap<&str, Vec<&'static ToolDescriptor>> = BTreeMap::new();
    for t in tools {
        by_name.entry(t.name).or_default().push(t);
    }
    let mut active = BTreeMap::new();
    let mut replaced = Vec::new();
    for mut claimants in by_name.into_values() {
        claimants.sort_by_key(|t| (t.location.file, t.location.line));
        let replacing: Vec<_> = claimants.iter().filter(|t| t.replaces).copied().collect();
        match (claimants.len(), replacing.as_slice()) {
            (1, _) => {
                active.insert(claimants[0].name, claimants[0]);
            }
            (2, [winner]) => {
                let loser = claimants.iter().find(|t| !t.replaces).copied();
                replaced.extend(loser.map(|l| (l, *winner)));
                active.insert(winner.name, *winner);
            }
            _ => {
                // Still counted as linked, so its dependents are not also
                // reported as missing it.
                active.insert(claimants[0].name, claimants[0]);
                let types: Vec<String> = claimants
                    .iter()
                    .map(|t| format!("`{}`", t.type_name))
                    .collect();
                let places = claimants
                    .iter()
                    .map(|t| span(t.location, format!("`{}` is named here", t.type_name)));
                errors.push(at_places(
                    "duplicate_tool",
                    format!(
                        "{} tools are named '{}': {}",
                        claimants.len(),
                        claimants[0].name,
                        types.join(" and ")
                    ),
                    places.collect(),
                    "to replace a built-in tool on purpose, write `#[tool(replaces)]` on your implementation; otherwise give one handle another NAME",
                ));
            }
        }
    }
    (active, replaced)
}

/// Kahn's algorithm over tool names, smallest name first among the ready.
fn topological_order(
    active: &ToolMap,
    errors: &mut Vec<Diagnostic>,
) -> (
    Vec<&'static ToolDescriptor>,
    Vec<Vec<&'static ToolDescriptor>>,
) {
    let known_deps = |t: &ToolDescriptor| -> BTreeSet<&'static str> {
        t.deps
            .iter()
            .map(|d| d.tool)
            .filter(|d| active.contains_key(d))
            .collect()
    };
    let mut waiting: BTreeMap<&str, BTreeSet<&str>> =
        active.iter().map(|(n, t)| (*n, known_deps(t))).collect();
    let mut level_of: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut order, mut levels) = (Vec::new(), Vec::<Vec<_>>::new());
    while let Some(next) = waiting
        .iter()
        .find(|(_, deps)| deps.iter().all(|d| level_of.contains_key(d)))
        .map(|(n, _)| *n)
    {
        let deps = waiting.remove(next).unwrap_or_default();
        let level = deps.iter().map(|d| level_of[d] + 1).max().unwrap_or(0);
        level_of.insert(next, level);
        order.push(active[next]);
        // A level is at most one past the deepest so far.
        if level == levels.len() {
            levels.push(Vec::new());
        }
        levels[level].push(active[next]);
    }
    report_cycles(active, &waiting, errors);
    (order, levels)
}

/// Tools left waiting are on or behind a cycle: report each cycle once.
fn report_cycles(
    active: &ToolMap,
    waiting: &BTreeMap<&str, BTreeSet<&str>>,
    errors: &mut Vec<Diagnostic>,
) {
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for start in waiting.keys() {
        // Walk first waiting dependencies from `start` until a name repeats.
        let mut path: Vec<&str> = vec![start];
        loop {
            let here = path[path.len() - 1];
            let Some(next) = waiting[here].iter().find(|d| waiting.contains_key(*d)) else {
                break;
            };
            if let Some(at) = path.iter().position(|p| p == next) {
                let cycle = &path[at..];
                if cycle.iter().all(|n| !reported.contains(n)) {
                    reported.extend(cycle.iter().copied());
                    errors.push(cycle_error(active, cycle));
                }
                break;
            }
            path.push(next);
        }
    }
}

fn cycle_error(active: &ToolMap, cycle: &[&str]) -> Diagnostic {
    let edges = cycle.iter().enumerate().map(|(i, name)| {
        let tool = active[name];
        let needs = cycle[(i + 1) % cycle.len()];
        let dep = tool.deps.iter().find(|d| d.tool == needs);
        let (field, line) = dep.map_or(("?", tool.location.line), |d| (d.field, d.line));
        let label = format!("{} -> {needs} (field '{field}')", tool.name);
        Span::new(tool.location.file, line, 0, label)
    });
    let names: Vec<String> = cycle.iter().map(|n| format!("'{n}'")).collect();
    at_places(
        "tool_cycle",
        format!(
            "the tools {} depend on each other in a cycle",
            names.join(", ")
        ),
        edges.collect(),
        "a tool cannot need itself, even through others: remove one of these fields",
    )
}
