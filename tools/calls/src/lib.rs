//! The `calls` tool: where tool handles report each call a plugin makes.
//!
//! The db, state, auth, event bus and scheduler handles time their methods
//! and report each call ([`Call`]) to the [`Calls`] handle they hold as a
//! field, so the need shows in the graph like any other. Whoever wants the
//! calls installs a [`Recorder`] (the registry tool: `/system/metrics`,
//! Prometheus); with none installed a call costs one atomic load and is not
//! timed. This lives outside the kernel, which boots tools and never sees a
//! call.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::{Arc, Mutex};
//! use microcore_calls::{Call, Calls, Recorder};
//!
//! #[derive(Debug, Default)]
//! struct Kept(Mutex<Vec<Call>>);
//! impl Recorder for Kept {
//!     fn call(&self, call: Call) { self.0.lock().unwrap().push(call); }
//! }
//!
//! let calls = Calls::default();
//! let kept = Arc::new(Kept::default());
//! assert!(calls.set_recorder(kept.clone()));
//! let answer: Result<u8, ()> = calls.timed("state", "get", "users.Login", async { Ok(7) }).await;
//! assert_eq!(answer, Ok(7));
//! assert_eq!(kept.0.lock().unwrap()[0].owner, "users.Login");
//! # }
//! ```

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use microcore::prelude::*;

/// One call a plugin (the `owner`) made through a tool handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The tool (`db`).
    pub tool: &'static str,
    /// The handle's method (`query_all`).
    pub method: &'static str,
    /// Who called: `<domain>.<Plugin>`, `tool:<name>` or `app`.
    pub owner: &'static str,
    /// How long it took.
    pub duration: Duration,
    /// Whether it succeeded.
    pub ok: bool,
    /// When it finished (a recorder turns it into wall-clock time only when
    /// asked, which keeps a clock read off every call).
    pub at: Instant,
}

/// Keeps the calls reported to a [`Calls`] handle; the registry tool
/// installs one with [`Calls::set_recorder`]. Called on every tool call:
/// keep it cheap.
pub trait Recorder: Send + Sync + std::fmt::Debug {
    /// A tool call finished.
    fn call(&self, call: Call);
}

/// The `calls` tool's handle: where one app's tool handles report calls.
///
/// Clones share one recorder slot. `Calls::default()` is a fresh slot,
/// recording nothing until a recorder is installed: what a handle built
/// outside an app (a test) holds.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    recorder: Arc<OnceLock<Arc<dyn Recorder>>>,
}

impl ToolHandle for Calls {
    const NAME: &'static str = "calls";
}

#[microcore::tool(guide = "../AI.md")]
impl Calls {
    /// Installs the recorder. Returns `false` if one is installed already
    /// (the first stays).
    pub fn set_recorder(&self, recorder: Arc<dyn Recorder>) -> bool {
        self.recorder.set(recorder).is_ok()
    }

    /// Whether a recorder is installed. Callers may skip timing otherwise.
    pub fn is_recording(&self) -> bool {
        self.recorder.get().is_some()
    }

    /// Reports one call. `owner` is who made it through the handle.
    pub fn record(
        &self,
        tool: &'static str,
        method: &'static str,
        owner: &'static str,
        duration: Duration,
        ok: bool,
    ) {
        if let Some(recorder) = self.recorder.get() {
            let at = Instant::now();
            recorder.call(Call {
                tool,
                method,
                owner,
                duration,
                ok,
                at,
            });
        }
    }

    /// Runs `work` as one call. It is `ok` when `work` returns `Ok`; with
    /// no recorder, `work` only runs.
    pub async fn timed<T, E>(
        &self,
        tool: &'static str,
        method: &'static str,
        owner: &'static str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if !self.is_recording() {
            return work.await;
        }
        let started = Instant::now();
        let outcome = work.await;
        let ok = outcome.is_ok();
        self.record(tool, method, owner, started.elapsed(), ok);
        outcome
    }
}

/// The built-in calls tool: one recorder slot per app.
#[tool]
#[derive(Debug)]
pub struct CallsTool {}

impl Tool for CallsTool {
    type Handle = Calls;

    async fn setup(&self, _: &ToolContext) -> Result<Calls> {
        Ok(Calls::default())
    }
}
