//! The `auth` tool (being built).
