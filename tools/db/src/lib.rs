//! The `db` tool (being built).
