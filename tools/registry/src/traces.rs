//! Traces: which event caused which, rebuilt from the bus's recent
//! envelopes (`/system/traces/flat`, `/system/traces/tree` and the traces
//! stream).
//!
//! Every envelope carries the id of the request or event being handled
//! when it was published (`parent_id`), so the causal tree needs no
//! instrumentation: a node's parent is the node with that id, and a node
//! whose parent is not a known event (an HTTP request id, or nothing) is a
//! root.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use microcore_event_bus::{Envelope, EventBus};
use serde::Serialize;

/// One published event in a trace (CONTRACT.md §2, `/system/traces/flat`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TraceNode {
    /// The event's id.
    pub id: String,
    /// The request or event that caused it.
    pub parent_id: Option<String>,
    /// The topic.
    pub event: String,
    /// The plugin that published it.
    pub emitter: String,
    /// The consumer groups subscribed to the topic.
    pub subscribers: Vec<String>,
    /// The payload's top-level field names, sorted (never the values).
    pub payload_keys: Vec<String>,
    /// When it was published (UTC; RFC 3339 in JSON).
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// The root of its causal chain.
    pub correlation_id: String,
}

/// A node with the events it caused, oldest first (`/system/traces/tree`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TraceTree {
    /// The event itself.
    #[serde(flatten)]
    pub node: TraceNode,
    /// What it caused.
    #[schema(no_recursion)]
    pub children: Vec<TraceTree>,
}

/// One message of `/system/traces/stream`: the whole tree first, then
/// each new node.
///
/// ```
/// let first = microcore_registry::traces::TraceMessage::Snapshot { tree: vec![] };
/// assert_eq!(serde_json::to_string(&first).unwrap(), r#"{"type":"snapshot","tree":[]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceMessage {
    /// The recent events, nested (what `/system/traces/tree` answers).
    Snapshot {
        /// The roots.
        tree: Vec<TraceTree>,
    },
    /// An event just published.
    Node {
        /// The event.
        node: TraceNode,
    },
}

/// Subscriber groups per topic, as the bus knows them now.
pub fn subscribers(bus: &EventBus) -> BTreeMap<String, Vec<String>> {
    bus.topology()
        .into_iter()
        .map(|t| (t.event, t.subscribers))
        .collect()
}

/// The trace node of one envelope.
///
/// ```
/// use microcore_event_bus::Envelope;
/// let e = Envelope::new("user.created", serde_json::json!({"id": 1, "email": "a@b.c"}), "users.RegisterUser");
/// let node = microcore_registry::traces::node(&e, &Default::default());
/// assert_eq!(node.payload_keys, ["email", "id"]);
/// assert_eq!(node.parent_id, None);
/// ```
pub fn node(envelope: &Envelope, subscribers: &BTreeMap<String, Vec<String>>) -> TraceNode {
    TraceNode {
        id: envelope.id.to_string(),
        parent_id: envelope.parent_id.clone(),
        event: envelope.event.clone(),
        emitter: envelope.emitter.clone(),
        subscribers: subscribers
            .get(&envelope.event)
            .cloned()
            .unwrap_or_default(),
        payload_keys: envelope
            .payload
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        timestamp: envelope.timestamp,
        correlation_id: envelope.correlation_id.clone(),
    }
}

/// The bus's recent events (up to 1000) as trace nodes, newest first.
pub fn flat(bus: &EventBus) -> Vec<TraceNode> {
    let subscribers = subscribers(bus);
    bus.recent().iter().map(|e| node(e, &subscribers)).collect()
}

/// `nodes` nested by cause: roots newest first, children oldest first.
///
/// ```
/// use microcore_event_bus::Envelope;
/// use microcore_registry::traces::{node, tree};
///
/// let mut root = Envelope::new("user.created", serde_json::json!({}), "users.RegisterUser");
/// root.parent_id = Some("request-1".into());
/// let mut child = Envelope::new("welcome.notify.sent", serde_json::json!({}), "users.Welcome");
/// child.parent_id = Some(root.id.to_string());
/// let none = Default::default();
/// let forest = tree(&[node(&child, &none), node(&root, &none)]);
/// assert_eq!(forest.len(), 1, "request-1 is not an event: user.created is a root");
/// assert_eq!(forest[0].children[0].node.event, "welcome.notify.sent");
/// ```
pub fn tree(nodes: &[TraceNode]) -> Vec<TraceTree> {
    let known: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&TraceNode>> = HashMap::new();
    let mut roots = Vec::new();
    for n in nodes {
        match n.parent_id.as_deref() {
            Some(parent) if known.contains(parent) && parent != n.id => {
                children.entry(parent).or_default().push(n)
            }
            _ => roots.push(n),
        }
    }
    let by_time = |list: &mut Vec<&TraceNode>, newest_first: bool| {
        list.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        if newest_first {
            list.reverse();
        }
    };
    by_time(&mut roots, true);
    children.values_mut().for_each(|c| by_time(c, false));
    let mut placed = HashSet::new();
    roots
        .into_iter()
        .filter_map(|r| nest(r, &children, &mut placed))
        .collect()
}

/// `placed` keeps a malformed chain (ids reused in a loop) from recursing
/// forever: each node appears once.
fn nest<'a>(
    node: &'a TraceNode,
    children: &HashMap<&str, Vec<&'a TraceNode>>,
    placed: &mut HashSet<&'a str>,
) -> Option<TraceTree> {
    if !placed.insert(node.id.as_str()) {
        return None;
    }
    let kids = children
        .get(node.id.as_str())
        .map_or(&[][..], Vec::as_slice);
    Some(TraceTree {
        node: node.clone(),
        children: kids
            .iter()
            .filter_map(|c| nest(c, children, placed))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(event: &str, parent: Option<&str>, seconds: i64) -> TraceNode {
        let mut e = Envelope::new(event, serde_json::json!({"k": 1}), "tests.P");
        e.parent_id = parent.map(str::to_string);
        e.timestamp = DateTime::<Utc>::UNIX_EPOCH + Duration::from_secs(seconds as u64);
        node(&e, &BTreeMap::new())
    }

    #[test]
    fn nests_chains_and_orders_roots_newest_first() {
        let a = at("a", Some("R1"), 1);
        let b = at("b", Some(&a.id), 2);
        let c = at("c", Some(&b.id), 4);
        let d = at("d", Some(&a.id), 3);
        let e = at("e", None, 5);
        let forest = tree(&[e.clone(), c, d, b, a]);
        assert_eq!(forest.len(), 2);
        assert_eq!(forest[0].node.event, "e");
        let a = &forest[1];
        let kids: Vec<&str> = a.children.iter().map(|k| k.node.event.as_str()).collect();
        assert_eq!(kids, ["b", "d"], "children oldest first");
        assert_eq!(a.children[0].children[0].node.event, "c");
    }

    #[test]
    fn a_self_parented_node_is_a_root_not_a_loop() {
        let mut a = at("a", None, 1);
        a.parent_id = Some(a.id.clone());
        assert_eq!(tree(&[a]).len(), 1);
    }

    #[test]
    fn tree_nodes_serialize_flat_fields_and_children() {
        let json = serde_json::to_value(tree(&[at("a", None, 1)])).unwrap();
        assert_eq!(json[0]["event"], "a");
        assert_eq!(json[0]["payload_keys"], serde_json::json!(["k"]));
        assert_eq!(json[0]["children"], serde_json::json!([]));
    }
}
