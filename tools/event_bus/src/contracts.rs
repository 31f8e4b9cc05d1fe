//! Event contracts: does every subscriber get the fields it reads?
//!
//! Publishers declare their payload schema (`bus.publishes::<T>(topic)`),
//! subscribers theirs (`.with_schema()`); domains never share payload
//! types, so this check is what keeps them in step. Run by
//! `cargo run -- check` (through `microcore_commands::lint::LINTS`) and shown at
//! `/system/lint`.

use serde::Serialize;
use serde_json::Value;

use crate::topology::{PayloadSchema, Role, TopicInfo};

/// Topics the bus itself publishes.
const BUS_TOPICS: &[&str] = &[crate::DELIVERY_FAILED];

/// One broken contract, as `/system/lint` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractViolation {
    /// `unpublished_topic`, `missing_field` or `type_mismatch`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The topic.
    pub event: String,
    /// The publishing plugin, with its file (empty when nobody publishes).
    pub publisher: String,
    /// The subscribing plugin, with its file.
    pub consumer: String,
    /// What is wrong.
    pub detail: String,
}

/// Compares every subscriber schema with every publisher schema of its
/// topic; `file_of` turns a plugin name into `name (file:line)`.
///
/// ```
/// use microcore_event_bus::contracts::check_contracts;
/// assert!(check_contracts(&[], |p| p.to_string()).is_empty());
/// ```
pub fn check_contracts(
    topics: &[TopicInfo],
    file_of: impl Fn(&str) -> String,
) -> Vec<ContractViolation> {
    let mut out = Vec::new();
    for topic in topics {
        let of_role = |role| topic.schemas.iter().filter(move |s| s.role == role);
        let publishers: Vec<&PayloadSchema> = of_role(Role::Publisher).collect();
        for consumer in of_role(Role::Subscriber) {
            let subscriber = file_of(&consumer.plugin);
            if publishers.is_empty()
                && topic.last_emitters.is_empty()
                && !BUS_TOPICS.contains(&topic.event.as_str())
            {
                out.push(ContractViolation {
                    code: "unpublished_topic",
                    severity: "warning",
                    event: topic.event.clone(),
                    publisher: String::new(),
                    consumer: subscriber.clone(),
                    detail: format!(
                        "{subscriber} subscribes to '{}', which no plugin declares it publishes (bus.publishes::<T>(\"{}\"))",
                        topic.event, topic.event
                    ),
                });
            }
            for publisher in &publishers {
                out.extend(compare(
                    &topic.event,
                    publisher,
                    consumer,
                    &file_of(&publisher.plugin),
                    &subscriber,
                ));
            }
        }
    }
    out
}

fn compare(
    event: &str,
    publisher: &PayloadSchema,
    consumer: &PayloadSchema,
    publisher_name: &str,
    consumer_name: &str,
) -> Vec<ContractViolation> {
    let offered = &publisher.json_schema["properties"];
    let required = consumer.json_schema["required"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    let violation = |code, severity, detail| ContractViolation {
        code,
        severity,
        event: event.to_string(),
        publisher: publisher_name.to_string(),
        consumer: consumer_name.to_string(),
        detail,
    };
    for field in required.iter().filter_map(Value::as_str) {
        match offered.get(field) {
            None => out.push(violation(
                "missing_field",
                "error",
                format!(
                    "{consumer_name} reads field '{field}' of '{event}' ({}), which {publisher_name} does not publish ({})",
                    consumer.type_name, publisher.type_name
                ),
            )),
            Some(published) => {
                let wanted = &consumer.json_schema["properties"][field]["type"];
                let given = &published["type"];
                if !wanted.is_null() && !given.is_null() && wanted != given {
                    out.push(violation(
                        "type_mismatch",
                        "error",
                        format!(
                            "{consumer_name} reads '{field}' of '{event}' as {wanted}, but {publisher_name} publishes it as {given}"
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// The contract check as a `check` lint.
#[microcore::__private::linkme::distributed_slice(microcore_commands::lint::LINTS)]
#[linkme(crate = microcore::__private::linkme)]
static EVENT_CONTRACTS: microcore_commands::lint::LintDescriptor =
    microcore_commands::lint::LintDescriptor {
        name: "event contracts",
        run: |running| {
            let Some(bus) = running.handle::<crate::EventBus>() else {
                return Vec::new();
            };
            let registry = running.registry().clone();
            let file_of = |plugin: &str| match registry.plugin(plugin) {
                Some(p) => format!("{} ({})", p.name, p.location),
                None => plugin.to_string(),
            };
            check_contracts(&bus.topology(), file_of)
            .into_iter()
            .map(|v| microcore_commands::lint::Finding {
                files: [&v.consumer, &v.publisher]
                    .into_iter()
                    .filter_map(|p| file_in(p))
                    .collect(),
                code: v.code,
                severity: if v.severity == "error" {
                    microcore_commands::lint::Severity::Error
                } else {
                    microcore_commands::lint::Severity::Warning
                },
                message: v.detail,
                help: "make the subscriber's payload type read only fields the publisher's type has, with the same types".into(),
            })
            .collect()
        },
    };

/// `users.RegisterUser (domains/users/plugins/register_user.rs:12)` → the file.
fn file_in(plugin: &str) -> Option<String> {
    let location = plugin.rsplit_once(" (")?.1.strip_suffix(')')?;
    Some(microcore_commands::lint::file_of(location).to_string())
}
