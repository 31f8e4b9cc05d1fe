//! The `event_bus` tool (being built).
