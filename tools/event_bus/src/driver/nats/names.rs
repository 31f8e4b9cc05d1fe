//! How topics and groups become NATS subjects and JetStream names.
//!
//! Subjects split on `.` and treat `*` and `>` as wildcards; stream and
//! consumer names may not contain any of them, nor spaces. Topics are used
//! as they are whenever they are valid subjects (`user.created` is
//! `<prefix>.user.created`, readable with `nats sub`), and encoded
//! otherwise; consumer names keep the readable part of the group and topic
//! and add a stable hash of both, so two groups that sanitise alike never
//! share a durable consumer. The hash is FNV-1a, fixed forever: a durable
//! name must stay the same across releases or groups would start over.

use crate::reply::is_inbox;

/// The names of one prefix's streams and subjects.
#[derive(Debug, Clone)]
pub(super) struct Names {
    prefix: String,
}

impl Names {
    /// `prefix` is already checked (`DriverOptions::check`).
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
        }
    }

    /// The stream holding every topic's events.
    pub(super) fn stream(&self) -> String {
        self.prefix.clone()
    }

    /// The subjects that stream captures.
    pub(super) fn stream_subjects(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The stream holding dead letters (limits retention: kept until replayed).
    pub(super) fn dead_stream(&self) -> String {
        format!("{}_dead_letters", self.prefix)
    }

    pub(super) fn dead_subjects(&self) -> String {
        format!("{}_dead_letters.*", self.prefix)
    }

    pub(super) fn dead_subject(&self, id: &str) -> String {
        format!("{}_dead_letters.{id}", self.prefix)
    }

    /// The subject of `topic`: a stream subject, or for a reply inbox a
    /// core NATS subject no stream captures (replies are for a caller that
    /// is waiting now, not to be kept).
    pub(super) fn subject(&self, topic: &str) -> String {
        if is_inbox(topic) {
            return format!("_INBOX.{}.{}", self.prefix, encode(topic));
        }
        format!("{}.{}", self.prefix, encode(topic))
    }

    /// The durable consumer of `group` on `topic`.
    pub(super) fn consumer(&self, topic: &str, group: &str) -> String {
        let mut hash = Fnv::default();
        hash.write(topic.as_bytes());
        hash.write(&[0]);
        hash.write(group.as_bytes());
        format!(
            "{}-{}-{:016x}",
            readable(group, 48),
            readable(topic, 48),
            hash.0
        )
    }
}

/// A topic as subject tokens: itself when it is a valid subject, else
/// `_x.<hex of its bytes>` (and a valid topic starting with `_x.` is
/// encoded too, so no two topics share a subject).
fn encode(topic: &str) -> String {
    let valid = !topic.is_empty()
        && !topic.starts_with("_x.")
        && topic.split('.').all(|token| {
            !token.is_empty()
                && token
                    .chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && c != '*' && c != '>')
        });
    if valid {
        return topic.to_string();
    }
    let hex: String = topic.bytes().map(|b| format!("{b:02x}")).collect();
    format!("_x.{hex}")
}

/// At most `max` characters of `name`, anything but `[A-Za-z0-9_-]` as `_`.
fn readable(name: &str, max: usize) -> String {
    name.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_readable_subjects_when_they_can_be() {
        let n = Names::new("app");
        assert_eq!(n.subject("user.created"), "app.user.created");
        assert_eq!(n.subject("a b"), "app._x.612062");
        assert_eq!(n.subject("a..b"), "app._x.612e2e62");
        assert_eq!(n.subject("orders.*"), "app._x.6f72646572732e2a");
        assert_eq!(n.subject("_x.61"), "app._x.5f782e3631");
        assert!(n.subject("_inbox.42").starts_with("_INBOX.app."));
    }

    #[test]
    fn consumer_names_are_valid_stable_and_distinct() {
        let n = Names::new("app");
        let name = n.consumer("user.created", "users.Welcome.on_user_created");
        assert_eq!(
            name,
            "users_Welcome_on_user_created-user_created-dda05d6e64e9e816"
        );
        assert!(!name.contains(['.', '*', '>', ' ']));
        assert_ne!(n.consumer("a.b", "g"), n.consumer("a_b", "g"));
        assert_ne!(n.consumer("t", "a b"), n.consumer("t", "a.b"));
    }
}
