//! `GET /metrics`: the registry's numbers in the Prometheus text format
//! (version 0.0.4), so any Prometheus-compatible scraper reads the app
//! with no exporter beside it.

use std::fmt::Write as _;

use microcore::registry::{Health, PluginRecord, PluginStatus, ToolRecord};

use crate::CallMetrics;
use crate::stats::{BUCKETS, Key, Snapshot};

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole exposition: tool calls and HTTP requests (counters, errors,
/// latency histograms), and whether each tool is up and each plugin ready.
///
/// ```
/// use std::time::Duration;
/// use microcore_calls::{Call, Recorder};
/// let metrics = microcore_registry::CallMetrics::default();
/// metrics.call(Call { tool: "db", method: "query_all", owner: "users.ListUsers",
///     duration: Duration::from_millis(2), ok: true, at: std::time::Instant::now() });
/// let text = microcore_registry::prometheus::render(&metrics, &[], &[]);
/// assert!(text.contains(r#"microcore_tool_calls_total{tool="db",method="query_all"} 1"#));
/// ```
pub fn render(metrics: &CallMetrics, tools: &[ToolRecord], plugins: &[PluginRecord]) -> String {
    let mut out = String::with_capacity(4096);
    let calls = metrics.call_stats();
    let call_labels = |k: &Key| format!("tool=\"{}\",method=\"{}\"", esc(&k.first), esc(&k.second));
    family(
        &mut out,
        "microcore_tool_calls_total",
        "counter",
        "Calls plugins made through tool handles.",
        calls
            .iter()
            .map(|(k, s)| (call_labels(k), s.count.to_string())),
    );
    family(
        &mut out,
        "microcore_tool_call_errors_total",
        "counter",
        "Tool calls that failed.",
        calls
            .iter()
            .map(|(k, s)| (call_labels(k), s.errors.to_string())),
    );
    histogram(
        &mut out,
        "microcore_tool_call_duration_seconds",
        "How long tool calls took.",
        calls.iter().map(|(k, s)| (call_labels(k), s)),
    );

    let routes = metrics.route_stats();
    let route_labels = |k: &Key| {
        format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            esc(&k.first),
            esc(&k.second),
            k.code
        )
    };
    family(
        &mut out,
        "microcore_http_requests_total",
        "counter",
        "HTTP requests answered, by route template and status.",
        routes
            .iter()
            .map(|(k, s)| (route_labels(k), s.count.to_string())),
    );
    histogram(
        &mut out,
        "microcore_http_request_duration_seconds",
        "How long HTTP requests took until the response head.",
        routes.iter().map(|(k, s)| (route_labels(k), s)),
    );

    family(
        &mut out,
        "microcore_tool_up",
        "gauge",
        "1 when the tool is set up and healthy at boot, 0 when it failed.",
        tools.iter().map(|t| {
            let up = u8::from(t.health == Health::Ok);
            (format!("tool=\"{}\"", esc(&t.name)), up.to_string())
        }),
    );
    family(
        &mut out,
        "microcore_plugin_ready",
        "gauge",
        "1 when the plugin is READY, 0 when DEAD, SKIPPED or booting.",
        plugins.iter().map(|p| {
            let ready = u8::from(p.status == PluginStatus::Ready);
            (
                format!("plugin=\"{}\",domain=\"{}\"", esc(&p.name), esc(&p.domain)),
                ready.to_string(),
            )
        }),
    );
    out
}

fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl Iterator<Item = (String, String)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    rows: impl Iterator<Item = (String, &'a Snapshot)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (labels, s) in rows {
        let bounds = BUCKETS.iter().map(|b| b.to_string()).chain(["+Inf".into()]);
        for (le, count) in bounds.zip(&s.cumulative) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", s.sum_seconds);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", s.count);
    }
}

/// A label value as the text format wants it.
fn esc(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use microcore_http::{Hit, RecordHits};

    use super::*;

    #[test]
    fn routes_have_counters_and_cumulative_buckets() {
        let metrics = CallMetrics::default();
        for status in [200, 200, 404] {
            metrics.hit(Hit {
                method: "GET",
                route: "/users/{user_id}",
                status,
                duration: Duration::from_micros(300),
            });
        }
        let text = render(&metrics, &[], &[]);
        assert!(text.contains(
            "microcore_http_requests_total{method=\"GET\",route=\"/users/{user_id}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains("microcore_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/{user_id}\",status=\"200\",le=\"0.00025\"} 0\n"));
        assert!(text.contains("microcore_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/{user_id}\",status=\"200\",le=\"0.0005\"} 2\n"));
        assert!(text.contains("microcore_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/{user_id}\",status=\"404\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("# TYPE microcore_http_request_duration_seconds histogram\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\"b\\c\nd"), r#"a\"b\\c\nd"#);
    }
}
