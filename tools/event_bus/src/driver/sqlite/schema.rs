//! The tables of the SQLite driver, and every statement it runs.
//!
//! Kept in one place so the storage format can be read (and inspected with
//! the `sqlite3` shell) without reading the driver: a message is stored
//! once; each consumer group that existed when it was published gets one
//! delivery row, deleted when acknowledged; dead letters keep their own
//! copy of the envelope so the message row can go.

/// Creates the tables (idempotent).
pub(super) const CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bus_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        topic TEXT NOT NULL,
        envelope TEXT NOT NULL,
        published_at INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS bus_groups (
        topic TEXT NOT NULL,
        grp TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (topic, grp)
    )",
    "CREATE TABLE IF NOT EXISTS bus_deliveries (
        seq INTEGER NOT NULL,
        topic TEXT NOT NULL,
        grp TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        available_at INTEGER NOT NULL,
        claimed_by TEXT,
        PRIMARY KEY (topic, grp, seq)
    )",
    "CREATE INDEX IF NOT EXISTS bus_deliveries_by_seq ON bus_deliveries (seq)",
    "CREATE INDEX IF NOT EXISTS bus_deliveries_claimed ON bus_deliveries (claimed_by) WHERE claimed_by IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS bus_dead_letters (
        id TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        grp TEXT NOT NULL,
        envelope TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        failed_at INTEGER NOT NULL
    )",
];

/// After a restart nothing is in flight: claims of the dead process are
/// released, so those deliveries come again (at-least-once).
pub(super) const RELEASE_ALL: &str =
    "UPDATE bus_deliveries SET claimed_by = NULL WHERE claimed_by IS NOT NULL";

/// Reply inboxes belong to one process's lifetime: at the next start
/// nobody waits on them any more.
pub(super) const FORGET_INBOXES: &[&str] = &[
    r"DELETE FROM bus_deliveries WHERE topic LIKE '\_inbox.%' ESCAPE '\'",
    r"DELETE FROM bus_groups WHERE topic LIKE '\_inbox.%' ESCAPE '\'",
    r"DELETE FROM bus_messages WHERE topic LIKE '\_inbox.%' ESCAPE '\'",
];

/// Stores a message only if some group will receive it. Binds: id, topic,
/// envelope, now.
pub(super) const INSERT_MESSAGE: &str =
    "INSERT INTO bus_messages (id, topic, envelope, published_at)
     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM bus_groups WHERE topic = ?2)
     RETURNING seq";

/// One delivery per group of the topic. Binds: seq, now, topic.
pub(super) const FAN_OUT: &str =
    "INSERT INTO bus_deliveries (seq, topic, grp, attempts, available_at)
     SELECT ?1, topic, grp, 0, ?2 FROM bus_groups WHERE topic = ?3";

/// Binds: topic, group, now.
pub(super) const JOIN: &str =
    "INSERT OR IGNORE INTO bus_groups (topic, grp, created_at) VALUES (?1, ?2, ?3)";

/// Claims the oldest ready deliveries of a group. Binds: token, topic,
/// group, now, limit.
pub(super) const CLAIM: &str = "UPDATE bus_deliveries SET claimed_by = ?1, attempts = attempts + 1
     WHERE rowid IN (
        SELECT rowid FROM bus_deliveries
        WHERE topic = ?2 AND grp = ?3 AND claimed_by IS NULL AND available_at <= ?4
        ORDER BY seq LIMIT ?5)";

/// What a token holds, in order. Binds: token.
pub(super) const CLAIMED: &str = "SELECT d.seq, d.attempts, m.envelope
     FROM bus_deliveries d JOIN bus_messages m ON m.seq = d.seq
     WHERE d.claimed_by = ?1 ORDER BY d.seq";

/// When the next delivery of a group becomes ready. Binds: topic, group.
pub(super) const NEXT_DUE: &str = "SELECT MIN(available_at) FROM bus_deliveries
     WHERE topic = ?1 AND grp = ?2 AND claimed_by IS NULL";

/// Binds: topic, group, seq.
pub(super) const DELETE_DELIVERY: &str =
    "DELETE FROM bus_deliveries WHERE topic = ?1 AND grp = ?2 AND seq = ?3";

/// Drops a message no group still needs. Binds: seq.
pub(super) const COLLECT_MESSAGE: &str = "DELETE FROM bus_messages
     WHERE seq = ?1 AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE seq = ?1)";

/// Puts a delivery back for later. Binds: topic, group, seq, available_at.
pub(super) const RETRY: &str = "UPDATE bus_deliveries SET claimed_by = NULL, available_at = ?4
     WHERE topic = ?1 AND grp = ?2 AND seq = ?3";

/// Copies the message into the dead letters. Binds: id, group, reason,
/// attempts, now, seq.
pub(super) const BURY: &str =
    "INSERT INTO bus_dead_letters (id, topic, grp, envelope, reason, attempts, failed_at)
     SELECT ?1, topic, ?2, envelope, ?3, ?4, ?5 FROM bus_messages WHERE seq = ?6";

/// A consumer went away: what it claimed but did not finish is ready
/// again, and that claim does not count as an attempt. Binds: token.
pub(super) const RELEASE: &str = "UPDATE bus_deliveries
     SET claimed_by = NULL, attempts = MAX(attempts - 1, 0) WHERE claimed_by = ?1";

/// Every dead letter, oldest first.
pub(super) const DEAD_LETTERS: &str = "SELECT id, grp, envelope, reason, attempts, failed_at FROM bus_dead_letters ORDER BY failed_at, rowid";

/// Binds: id.
pub(super) const DEAD_LETTER: &str =
    "SELECT topic, grp, envelope FROM bus_dead_letters WHERE id = ?1";

/// A replayed message, delivered to one group. Binds: id, topic, envelope, now.
pub(super) const INSERT_REPLAYED: &str =
    "INSERT INTO bus_messages (id, topic, envelope, published_at)
     VALUES (?1, ?2, ?3, ?4) RETURNING seq";

/// Binds: seq, topic, group, now.
pub(super) const DELIVER_TO: &str =
    "INSERT OR IGNORE INTO bus_deliveries (seq, topic, grp, attempts, available_at)
     VALUES (?1, ?2, ?3, 0, ?4)";

/// Binds: id.
pub(super) const FORGET_DEAD_LETTER: &str = "DELETE FROM bus_dead_letters WHERE id = ?1";
