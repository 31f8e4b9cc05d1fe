//! A plugin's edges in `AI_CONTEXT.md` beyond its fields: the tools it
//! needs through what it registers (a handler argument such as `AuthUser`
//! needs `auth`), each with the call that made the edge, so an agent sees
//! that a route's extractor ties its plugin to a tool.

use microcore::registry::PluginRecord;

/// `- needs: \`auth\` (argument AuthUser of GET /me, at \`me.rs:9\`)`, or
/// `None` for a plugin whose fields are its only edges.
///
/// ```
/// use microcore::registry::{Need, PluginRecord, PluginStatus};
///
/// let plugin = PluginRecord {
///     name: "users.Me".into(), domain: "users".into(), status: PluginStatus::Ready,
///     error: None, tools: vec!["http".into()], location: "domains/users/plugins/me.rs:5".into(),
///     critical: true,
///     needs: vec![Need { tool: "auth".into(), via: "argument AuthUser of GET /users/me".into(),
///         location: "domains/users/plugins/me.rs:16".into() }],
/// };
/// assert_eq!(
///     microcore_registry::edges::needs(&plugin).unwrap(),
///     "- needs: `auth` (argument AuthUser of GET /users/me, at `domains/users/plugins/me.rs:16`)"
/// );
/// ```
pub fn needs(plugin: &PluginRecord) -> Option<String> {
    if plugin.needs.is_empty() {
        return None;
    }
    let mut needs: Vec<String> = plugin
        .needs
        .iter()
        .map(|n| format!("`{}` ({}, at `{}`)", n.tool, n.via, n.location))
        .collect();
    needs.sort();
    needs.dedup();
    Some(format!("- needs: {}", needs.join("; ")))
}
