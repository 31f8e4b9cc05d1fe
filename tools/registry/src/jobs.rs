//! The job table of `cargo run -- jobs`: every declared job, its schedule,
//! the plugin method it runs and when it runs next.

use microcore_scheduler::JobInfo;

/// The jobs as aligned text columns under a header; times in UTC,
/// RFC 3339 to the second, `-` when there is none.
///
/// ```
/// use microcore_scheduler::{JobInfo, JobKind};
///
/// let text = microcore_registry::jobs::render(&[JobInfo {
///     name: "nightly".into(), kind: JobKind::Cron, schedule: "0 0 3 * * *".into(),
///     plugin: "users.Cleanup".into(), method: "purge".into(),
///     last_run: None, last_status: None, next_run: None, pending: 0,
/// }]);
/// assert_eq!(text.lines().nth(1), Some("nightly  cron  0 0 3 * * *  users.Cleanup  purge   -         -"));
/// ```
pub fn render(jobs: &[JobInfo]) -> String {
    let rows: Vec<[String; 7]> = jobs
        .iter()
        .map(|j| {
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".into(), |t| {
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                })
            };
            let last = match (j.last_run, j.last_status) {
                (Some(at), Some(status)) => format!("{} ({})", time(Some(at)), status.as_str()),
                _ => "-".into(),
            };
            [
                j.name.clone(),
                j.kind.as_str().into(),
                j.schedule.clone(),
                j.plugin.clone(),
                j.method.clone(),
                last,
                time(j.next_run),
            ]
        })
        .collect();
    let cells: Vec<[&str; 7]> = rows
        .iter()
        .map(|r| r.each_ref().map(String::as_str))
        .collect();
    crate::routes::columns(
        [
            "JOB", "KIND", "SCHEDULE", "PLUGIN", "METHOD", "LAST RUN", "NEXT RUN",
        ],
        &cells,
    )
}
