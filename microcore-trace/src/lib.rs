//! What caused the work in progress, and the trace it belongs to.
//!
//! The http tool, the event bus and the scheduler run each request, event
//! handler and job inside a [`cause`] scope and pass a trace context along
//! ([`telemetry`]); the log tool reads both. They live here, beside the
//! kernel rather than in it, because the kernel boots tools and never
//! serves a request: only the tools that carry work from one place to the
//! next need them, and none of them depends on another for it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use microcore_trace::cause;
//! let seen = cause::request("req-1".into(), async { cause::request_id() }).await;
//! assert_eq!(seen.as_deref(), Some("req-1"));
//! # }
//! ```

pub mod cause;
pub mod telemetry;
