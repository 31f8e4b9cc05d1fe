//! Instructions per request, counted by valgrind's callgrind.
//!
//! Method: the server runs under `valgrind --tool=callgrind` (all threads
//! counted together). One keep-alive connection is opened and warmed up
//! (every route, so lazy statics, pool connections and caches are in
//! place); then for each route `callgrind_control --zero` resets the
//! counters, a fixed number of requests is sent one after the other on
//! that connection, and `callgrind_control --dump` writes the counts. Each
//! dump therefore holds exactly the instructions the process executed
//! while serving those requests — boot, warm-up, connection set-up and
//! shutdown excluded — including background work during the window
//! (tokio's idle wake-ups, the pool's maintenance), which the server pays
//! for anyway. A last window opens fresh connections, one `/ping` each:
//! minus the `/ping` cost, that is what accepting a connection costs.
//! Instruction counts do not depend on the machine's load, which is why
//! they are the number to compare on a shared box; throughput is the
//! wall-clock check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::client::{Conn, Get};
use crate::load;
use crate::server::Server;

/// Fresh connections opened to count the cost of accepting one.
const CONNECTIONS: usize = 50;

/// The name of the connection set-up row.
pub(crate) const CONNECTION_ROUTE: &str = "new connection (accept + first request − a `/ping`)";

/// One route's count.
#[derive(Debug, Clone)]
pub(crate) struct Count {
    /// The route's name in the tables.
    pub(crate) route: String,
    /// Instructions per request.
    pub(crate) per_request: f64,
    /// The callgrind dump, for `callgrind_annotate`.
    pub(crate) dump: PathBuf,
}

/// Counts `requests` requests of each of `routes` on `server`, after
/// `warmup` requests cycling through all of them.
pub(crate) async fn count(
    server: &Server,
    routes: &[(String, Get)],
    warmup: usize,
    requests: usize,
    out_dir: &Path,
) -> Result<Vec<Count>, String> {
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    let label: String = server
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let base = out_dir.join(format!("callgrind.{label}"));
    let wrapped = server.wrapped(vec![
        "valgrind".into(),
        "--tool=callgrind".into(),
        format!("--callgrind-out-file={}.%p", base.display()),
    ]);
    eprintln!("  {} under callgrind: booting…", server.name);
    let running = wrapped.start(Duration::from_secs(600)).await?;
    let all: Vec<Get> = routes.iter().map(|(_, g)| g.clone()).collect();
    let mut conn = Conn::open(running.addr)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", running.addr))?;
    load::repeat(&mut conn, &all, warmup).await?;
    let mut counts = Vec::new();
    for (route, get) in routes {
        control(running.pid, "--zero")?;
        load::repeat(&mut conn, std::slice::from_ref(get), requests).await?;
        control(running.pid, &format!("--dump={route}"))?;
        let dump = latest_dump(&base, running.pid)?;
        let total = totals(&dump)?;
        eprintln!(
            "  {} {route}: {total} instructions / {requests} requests",
            server.name
        );
        counts.push(Count {
            route: route.clone(),
            per_request: total as f64 / requests as f64,
            dump,
        });
    }
    drop(conn);
    // Connection set-up: fresh connections, one `/ping` each, minus the
    // cost of a `/ping` on an open connection.
    let ping = counts.first().map_or(0.0, |c| c.per_request);
    control(running.pid, "--zero")?;
    for _ in 0..CONNECTIONS {
        load::sequential(running.addr, &all[..1], 1).await?;
    }
    control(running.pid, "--dump=connections")?;
    let dump = latest_dump(&base, running.pid)?;
    let total = totals(&dump)?;
    counts.push(Count {
        route: CONNECTION_ROUTE.into(),
        per_request: total as f64 / CONNECTIONS as f64 - ping,
        dump,
    });
    if let Err(e) = running.stop(Duration::from_secs(120)).await {
        eprintln!(
            "  {} under callgrind did not stop cleanly: {e}",
            server.name
        );
    }
    Ok(counts)
}

fn control(pid: u32, action: &str) -> Result<(), String> {
    let out = Command::new("callgrind_control")
        .args([action, &pid.to_string()])
        .output()
        .map_err(|e| format!("cannot run callgrind_control: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "callgrind_control {action} {pid} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The newest numbered dump `<base>.<pid>.<n>`.
fn latest_dump(base: &Path, pid: u32) -> Result<PathBuf, String> {
    let dir = base.parent().unwrap_or(Path::new("."));
    let prefix = format!(
        "{}.{pid}.",
        base.file_name().unwrap_or_default().to_string_lossy()
    );
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n: u32 = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, e.path()))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p)
        .ok_or_else(|| format!("no callgrind dump {prefix}* in {}", dir.display()))
}

/// The dump's total instruction count (`totals:` or `summary:` line).
fn totals(dump: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(dump).map_err(|e| e.to_string())?;
    parse_totals(&text).ok_or_else(|| format!("no totals in {}", dump.display()))
}

fn parse_totals(text: &str) -> Option<u64> {
    let line = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    line("totals:").or_else(|| line("summary:"))
}

/// Instructions by function (self cost), read from the dump itself:
/// the `callgrind_annotate` of valgrind 3.19 prints inclusive costs even
/// with `--inclusive=no` on these dumps.
pub(crate) fn by_function(dump: &Path) -> Result<HashMap<String, u64>, String> {
    let text = std::fs::read_to_string(dump)
        .map_err(|e| format!("cannot read {}: {e}", dump.display()))?;
    Ok(self_costs(&text))
}

/// Self cost by function of a callgrind dump (format: valgrind's
/// "Callgrind Format Specification"). Names are compressed as `(id) name`
/// the first time and `(id)` after; a cost line right after `calls=` is
/// the inclusive cost of that call, charged to the callee, not to self.
fn self_costs(text: &str) -> HashMap<String, u64> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut costs: HashMap<String, u64> = HashMap::new();
    let mut current = String::new();
    let mut call_cost_next = false;
    for line in text.lines() {
        if let Some((key, value)) = line.split_once('=')
            && (key == "fn" || key == "cfn")
        {
            let name = match value.strip_prefix('(').and_then(|v| v.split_once(')')) {
                Some((id, rest)) => {
                    let rest = rest.trim_start();
                    if !rest.is_empty() {
                        names.insert(id, rest);
                    }
                    names.get(id).copied().unwrap_or(value)
                }
                None => value,
            };
            if key == "fn" {
                current = normalize(name);
            }
            continue;
        }
        if line.starts_with("calls=") {
            call_cost_next = true;
            continue;
        }
        let starts_cost = line
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '*'));
        if !starts_cost {
            continue;
        }
        if std::mem::take(&mut call_cost_next) {
            continue;
        }
        if let Some(cost) = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u64>().ok())
        {
            *costs.entry(current.clone()).or_insert(0) += cost;
        }
    }
    costs
}

/// Drops the legacy-mangling hash (`::h0123456789abcdef`), which differs
/// between two binaries for the same function.
fn normalize(function: &str) -> String {
    match function.rsplit_once("::h") {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => function.to_string(),
    }
}

/// The functions whose per-request cost differs most between `app` and
/// `baseline` dumps (app minus baseline, in instructions per request),
/// largest first.
pub(crate) fn differences(
    app: &Count,
    baseline: &Count,
    requests: usize,
) -> Result<Vec<(String, f64, f64)>, String> {
    let a = by_function(&app.dump)?;
    let b = by_function(&baseline.dump)?;
    let n = requests as f64;
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    names.dedup();
    let mut diffs: Vec<(String, f64, f64)> = names
        .into_iter()
        .map(|name| {
            let per = |m: &HashMap<String, u64>| m.get(name).copied().unwrap_or(0) as f64 / n;
            (name.clone(), per(&a), per(&b))
        })
        .filter(|(_, x, y)| (x - y).abs() >= 1.0)
        .collect();
    diffs.sort_by(|x, y| (y.1 - y.2).abs().total_cmp(&(x.1 - x.2).abs()));
    Ok(diffs)
}

/// The crate a function belongs to, for the per-crate summary: the first
/// path in its name that is not `core`, `alloc` or `std`; the C
/// allocator and `mem*` routines get a group of their own.
pub(crate) fn crate_of(function: &str) -> String {
    const ALLOCATOR: [&str; 12] = [
        "malloc",
        "free",
        "_int_",
        "realloc",
        "calloc",
        "unlink_chunk",
        "malloc_consolidate",
        "__rust_alloc",
        "__rdl_alloc",
        "__rust_dealloc",
        "__rdl_dealloc",
        "tcache",
    ];
    if function.starts_with("__rustc::")
        || ALLOCATOR
            .iter()
            .any(|a| function.starts_with(a) || function.contains(&format!("::{a}")))
    {
        return "allocator (glibc malloc)".into();
    }
    if ["__mem", "mem", "__str", "str"]
        .iter()
        .any(|p| function.starts_with(p))
    {
        return "libc mem*/str*".into();
    }
    if function.starts_with("core::ptr::drop_in_place") {
        return "drop glue".into();
    }
    // The first segment of each path: a word followed by `::` and not
    // preceded by one.
    let mut start = None;
    for (i, c) in function.char_indices() {
        let ident = c.is_ascii_alphanumeric() || c == '_';
        match (ident, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                let word = &function[from..i];
                let first_segment = !function[..from].ends_with("::");
                if first_segment
                    && function[i..].starts_with("::")
                    && !matches!(word, "core" | "alloc" | "std" | "_")
                    && word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                {
                    return word.to_string();
                }
                start = None;
            }
            _ => {}
        }
    }
    "other (core, std, unnamed)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_come_from_the_totals_line() {
        assert_eq!(
            parse_totals("events: Ir\nsummary: 42\n\ntotals: 40\n"),
            Some(40)
        );
        assert_eq!(parse_totals("summary: 42\n"), Some(42));
        assert_eq!(parse_totals("nothing"), None);
    }

    #[test]
    fn functions_are_grouped_by_crate() {
        assert_eq!(
            crate_of("<T as tower::util::boxed_clone_sync::CloneService<R>>::clone_box'2"),
            "tower"
        );
        assert_eq!(
            crate_of("<tower_http::cors::ResponseFuture<F> as core::future::future::Future>::poll"),
            "tower_http"
        );
        assert_eq!(crate_of("_int_free"), "allocator (glibc malloc)");
        assert_eq!(crate_of("__rustc::__rdl_alloc"), "allocator (glibc malloc)");
        assert_eq!(crate_of("__memcpy_avx_unaligned_erms"), "libc mem*/str*");
        assert_eq!(
            crate_of("core::ptr::drop_in_place<axum::Router>"),
            "drop glue"
        );
        assert_eq!(crate_of("core::fmt::write"), "other (core, std, unnamed)");
    }

    #[test]
    fn self_costs_leave_out_the_cost_of_calls() {
        let text = "\
events: Ir
fl=(1) src/main.rs
fn=(1) main::h0123456789abcdef
10 5
+1 3
cfl=(1)
cfn=(2) work
calls=1 20
11 100
fn=(2)
20 100
fn=(1)
12 2
summary: 210
totals: 210
";
        let costs = self_costs(text);
        assert_eq!(costs["main"], 10);
        assert_eq!(costs["work"], 100);
        assert_eq!(costs.values().sum::<u64>(), 110);
    }
}
