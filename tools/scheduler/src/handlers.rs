//! The jobs and handlers declared in this process.
//!
//! A handler is a plugin method, `async fn(self: Arc<Self>, JobRun) ->
//! Result<()>`, erased once here so the loop treats every job alike. Rows
//! in the database name their handler by a key, `<plugin>.<method>` (the
//! method's name read from its type), not by the job: a one-shot job stored
//! by one process is run by whichever replica registered that method, today
//! or after a restart.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use microcore::method::Bound;
use microcore::{Error, Result};

use crate::JobRun;
use crate::cron::Schedule;

/// A handler with its plugin erased.
pub(crate) type Erased = microcore::method::Erased<JobRun, Result<()>>;

/// What a job runs: a plugin method `async fn(self: Arc<Self>, run:
/// JobRun) -> Result<()>`. Nothing to implement: every such method is one.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_scheduler::{JobHandler, JobRun};
///
/// struct Cleanup;
/// impl Cleanup {
///     async fn purge(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
/// }
/// fn is_job<P, A>(_: impl JobHandler<P, A>) {}
/// is_job::<Cleanup, _>(Cleanup::purge);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a job of `{P}`",
    label = "not a job handler",
    note = "a job runs a method of the plugin with this signature: `async fn name(self: Arc<Self>, run: JobRun) -> Result<()>` (`JobRun` from `microcore_scheduler`)"
)]
pub trait JobHandler<P, A>: Send + Sync + 'static {
    /// Runs the method for one fire of the job.
    fn run(&self, plugin: Arc<P>, run: JobRun)
    -> impl Future<Output = Result<()>> + Send + 'static;
}

// Not recommended: the signature above says more than the bound that failed.
#[diagnostic::do_not_recommend]
impl<P, A, F, Fut> JobHandler<P, A> for F
where
    F: Fn(Arc<P>, A) -> Fut + Send + Sync + 'static,
    A: From<JobRun>,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    fn run(
        &self,
        plugin: Arc<P>,
        run: JobRun,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        self(plugin, A::from(run))
    }
}

/// One registered handler.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) run: Erased,
    /// The plugin that registered it (`<domain>.<Plugin>`, `app` in tests).
    pub(crate) owner: &'static str,
    /// The method's name, for the registry (`job` for a closure).
    pub(crate) method: &'static str,
    /// Tells two different functions under one key apart.
    type_id: TypeId,
}

/// One cron job.
#[derive(Debug, Clone)]
pub(crate) struct CronJob {
    pub(crate) name: String,
    pub(crate) expr: String,
    pub(crate) schedule: Schedule,
    pub(crate) handler: String,
    pub(crate) owner: &'static str,
}

/// What this process can run.
#[derive(Default)]
pub(crate) struct Jobs {
    pub(crate) handlers: BTreeMap<String, Registered>,
    pub(crate) crons: Vec<CronJob>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field("crons", &self.crons)
            .finish()
    }
}

/// Erases `handler` of `plugin` and names it: `<owner>.<method>`, or
/// `<owner>.<job>` for a closure.
pub(crate) fn erase<P, F, A>(
    owner: &'static str,
    job: &str,
    plugin: &Arc<P>,
    handler: F,
) -> (String, Registered)
where
    P: Send + Sync + 'static,
    F: JobHandler<P, A> + Clone,
{
    let method = Bound::<P, F>::name();
    let key = format!("{owner}.{}", method.unwrap_or(job));
    let run = Bound::new(plugin, handler).erase(|bound, run| async move {
        let (plugin, handler) = bound.parts();
        handler.run(plugin, run).await
    });
    let registered = Registered {
        run,
        owner,
        method: method.unwrap_or("job"),
        type_id: TypeId::of::<F>(),
    };
    (key, registered)
}

impl Jobs {
    /// Adds a handler; the same function again is fine (several jobs share
    /// one method), another function under the same key is not.
    pub(crate) fn add_handler(&mut self, key: String, handler: Registered) -> Result<()> {
        self.check_handler(&key, &handler)?;
        self.handlers.insert(key, handler);
        Ok(())
    }

    fn check_handler(&self, key: &str, handler: &Registered) -> Result<()> {
        match self.handlers.get(key) {
            Some(known) if known.type_id != handler.type_id => Err(Error::internal(format!(
                "scheduler: two different handlers are both named '{key}'; \
                 give the jobs handlers with different method names, or schedule \
                 through handles of different owners (`scheduler.for_owner(\"...\")`)"
            ))),
            _ => Ok(()),
        }
    }

    /// Adds a cron job and its handler; its name must be new.
    pub(crate) fn add_cron(&mut self, job: CronJob, handler: Registered) -> Result<()> {
        if let Some(known) = self.crons.iter().find(|c| c.name == job.name) {
            return Err(Error::internal(format!(
                "scheduler: cron job '{}' is declared twice (by {} and by {}); \
                 each fire is claimed by the job's name, so names must be unique",
                job.name, known.owner, job.owner
            )));
        }
        self.add_handler(job.handler.clone(), handler)?;
        self.crons.push(job);
        Ok(())
    }

    /// Forgets everything `owner` registered (it died during boot).
    pub(crate) fn withdraw(&mut self, owner: &str) {
        self.handlers.retain(|_, h| h.owner != owner);
        self.crons.retain(|c| c.owner != owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cleanup;
    impl Cleanup {
        async fn purge(self: Arc<Self>, _: JobRun) -> Result<()> {
            Ok(())
        }
        async fn other(self: Arc<Self>, _: JobRun) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn keys_are_owner_and_method() {
        let p = Arc::new(Cleanup);
        let (key, h) = erase("users.Cleanup", "nightly", &p, Cleanup::purge);
        assert_eq!(key, "users.Cleanup.purge");
        assert_eq!(h.method, "purge");
        let (key, h) = erase(
            "users.Cleanup",
            "nightly",
            &p,
            |_: Arc<Cleanup>, _: JobRun| async { Ok(()) },
        );
        assert_eq!(key, "users.Cleanup.nightly");
        assert_eq!(h.method, "job");
    }

    #[test]
    fn one_key_cannot_mean_two_functions() {
        let p = Arc::new(Cleanup);
        let mut jobs = Jobs::default();
        let (key, h) = erase("app", "a", &p, Cleanup::purge);
        jobs.add_handler(key.clone(), h.clone()).unwrap();
        jobs.add_handler(key, h).unwrap();
        let (_, other) = erase("app", "b", &p, Cleanup::other);
        let e = jobs.add_handler("app.purge".into(), other).unwrap_err();
        assert!(e.to_string().contains("'app.purge'"), "{e}");
    }
}
