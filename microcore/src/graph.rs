//! The wiring check: descriptors in, a boot plan or every problem out.
//!
//! A pure function with no I/O, so it runs the same in `cargo run -- check`,
//! at every boot, and as an ordinary unit test of an app. All problems are
//! collected before returning: fixing wiring should take one run, not one
//! run per mistake.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::descriptor::{Location, PluginDescriptor, ToolDescriptor};

/// The order in which an app boots.
#[derive(Debug, Clone)]
pub struct BootPlan {
    /// Tools, dependencies first; ties broken by name.
    pub tools: Vec<&'static ToolDescriptor>,
    /// Indices into `tools`, grouped by depth: each group only needs the
    /// groups before it, so its tools can set up concurrently.
    pub levels: Vec<Vec<usize>>,
    /// Plugins, by qualified name.
    pub plugins: Vec<&'static PluginDescriptor>,
    /// Built-in tools deliberately replaced: (replaced, replacement).
    pub replaced: Vec<(&'static ToolDescriptor, &'static ToolDescriptor)>,
}

/// Who declared a dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// `plugin 'users.CreateUser'` or `tool 'http'`.
    pub what: String,
    /// The field's place.
    pub location: Location,
    /// The field's name.
    pub field: &'static str,
}

/// One wiring mistake. `Display` renders it for a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WiringError {
    /// A field names a tool that no linked crate provides.
    MissingTool {
        /// Who asked.
        requester: Requester,
        /// The tool asked for.
        tool: &'static str,
        /// The tools that exist.
        available: Vec<&'static str>,
    },
    /// Two tool implementations claim one name and neither says `replaces`.
    DuplicateTool {
        /// The name.
        name: &'static str,
        /// `(type, place)` of each claimant.
        claimants: Vec<(&'static str, Location)>,
    },
    /// Two plugins with one `<domain>.<Struct>` name.
    DuplicatePlugin {
        /// The name.
        name: String,
        /// Each declaration.
        locations: Vec<Location>,
    },
    /// Tools that need each other.
    Cycle {
        /// `(tool, field's place, field, needed tool)`, in cycle order.
        edges: Vec<(&'static str, Location, &'static str, &'static str)>,
    },
}

/// Every mistake of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiringErrors(pub Vec<WiringError>);

impl fmt::Display for WiringErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}\n")?;
        }
        let n = self.0.len();
        write!(
            f,
            "error: the wiring check found {n} problem{}; nothing was started",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for WiringErrors {}

impl fmt::Display for WiringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WiringError::MissingTool {
                requester,
                tool,
                available,
            } => {
                let at = Location {
                    file: requester.location.file,
                    line: requester.location.line,
                };
                writeln!(
                    f,
                    "error: {at}: field '{}' of {} needs tool '{tool}', which no linked crate provides (linked: {})",
                    requester.field,
                    requester.what,
                    available.join(", ")
                )?;
                if let Some(close) = closest(tool, available) {
                    writeln!(
                        f,
                        "  = note: did you mean tool '{close}'? The field's type names tool '{tool}'"
                    )?;
                }
                write!(
                    f,
                    "  = help: add the crate that provides '{tool}' to the app's [dependencies], or remove the field '{}'",
                    requester.field
                )
            }
            WiringError::DuplicateTool { name, claimants } => {
                let list: Vec<String> = claimants
                    .iter()
                    .map(|(ty, at)| format!("`{ty}` ({at})"))
                    .collect();
                writeln!(
                    f,
                    "error: {} tools are named '{name}': {}",
                    claimants.len(),
                    list.join(" and ")
                )?;
                write!(
                    f,
                    "  = help: to replace a built-in tool on purpose, write `#[tool(replaces)]` on your implementation; otherwise give one handle another NAME"
                )
            }
            WiringError::DuplicatePlugin { name, locations } => {
                let list: Vec<String> = locations.iter().map(ToString::to_string).collect();
                writeln!(
                    f,
                    "error: {} plugins are named '{name}': {}",
                    locations.len(),
                    list.join(" and ")
                )?;
                write!(
                    f,
                    "  = help: rename one of the structs (a plugin's name is `<domain>.<StructName>`)"
                )
            }
            WiringError::Cycle { edges } => {
                let names: Vec<String> = edges.iter().map(|e| format!("'{}'", e.0)).collect();
                writeln!(
                    f,
                    "error: the tools {} depend on each other in a cycle:",
                    names.join(", ")
                )?;
                for (tool, at, field, needs) in edges {
                    writeln!(f, "    {tool} -> {needs}   (field '{field}', {at})")?;
                }
                write!(
                    f,
                    "  = help: a tool cannot need itself, even through others: remove one of these fields"
                )
            }
        }
    }
}

/// The name in `available` closest to `wanted`, if it is a likely typo.
fn closest(wanted: &str, available: &[&'static str]) -> Option<&'static str> {
    available
        .iter()
        .map(|a| (edit_distance(wanted, a), *a))
        .filter(|(d, a)| *d > 0 && *d <= 2.max(wanted.len() / 4) && *d < a.len())
        .min()
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Checks the whole graph and orders the boot.
///
/// # Errors
/// Every [`WiringError`] found, in a deterministic order.
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
            errors.push(WiringError::DuplicatePlugin {
                name: pair[0].qualified_name(),
                locations: pair.iter().map(|p| p.location).collect(),
            });
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
            errors.push(WiringError::MissingTool {
                requester: Requester {
                    what: what.clone(),
                    location: Location {
                        file: location.file,
                        line: dep.line,
                    },
                    field: dep.field,
                },
                tool: dep.tool,
                available: available.clone(),
            });
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
    errors: &mut Vec<WiringError>,
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
                errors.push(WiringError::DuplicateTool {
                    name: claimants[0].name,
                    claimants: claimants
                        .iter()
                        .map(|t| (t.type_name, t.location))
                        .collect(),
                });
            }
        }
    }
    (active, replaced)
}

/// Kahn's algorithm over tool names, smallest name first among the ready.
fn topological_order(
    active: &ToolMap,
    errors: &mut Vec<WiringError>,
) -> (Vec<&'static ToolDescriptor>, Vec<Vec<usize>>) {
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
    let mut order = Vec::new();
    while let Some(next) = waiting
        .iter()
        .find(|(_, deps)| deps.iter().all(|d| level_of.contains_key(d)))
        .map(|(n, _)| *n)
    {
        let deps = waiting.remove(next).unwrap_or_default();
        let level = deps.iter().map(|d| level_of[d] + 1).max().unwrap_or(0);
        level_of.insert(next, level);
        order.push(active[next]);
    }
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for (i, t) in order.iter().enumerate() {
        let level = level_of[t.name];
        if levels.len() <= level {
            levels.resize(level + 1, Vec::new());
        }
        levels[level].push(i);
    }
    report_cycles(active, &waiting, errors);
    (order, levels)
}

/// Tools left waiting are on or behind a cycle: report each cycle once.
fn report_cycles(
    active: &ToolMap,
    waiting: &BTreeMap<&str, BTreeSet<&str>>,
    errors: &mut Vec<WiringError>,
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

fn cycle_error(active: &ToolMap, cycle: &[&str]) -> WiringError {
    let edges = cycle
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let tool = active[name];
            let needs = cycle[(i + 1) % cycle.len()];
            let dep = tool.deps.iter().find(|d| d.tool == needs);
            let (field, line) = dep.map_or(("?", tool.location.line), |d| (d.field, d.line));
            let at = Location {
                file: tool.location.file,
                line,
            };
            (tool.name, at, field, active[needs].name)
        })
        .collect();
    WiringError::Cycle { edges }
}
