//! The `state` tool (being built).
