//! The loop of one scheduler: wake at the next cron fire or poll, claim
//! what is due, run what was claimed, retry what failed.
//!
//! Each replica runs this loop; none is a leader. They race for every fire
//! in the database ([`crate::store`]) and only the winner runs it, so the
//! number of replicas changes who runs a job, never how often. Runs are
//! spawned, so a slow job delays neither the next fire nor other jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use microcore_trace::cause;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::JobRun;
use crate::handle::Core;
use crate::store::Claim;
use microcore::sync::lock;

/// Old finished cron fires are deleted this often (by every replica; the
/// delete is idempotent).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// At most this many due rows are claimed per poll.
const POLL_BATCH: u32 = 64;

/// Runs until `stop` turns true, then waits for the runs in flight.
pub(crate) async fn run(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    warn_about_orphans(&core).await;
    let mut tasks = JoinSet::new();
    // Per cron job: the time up to which its fires were looked at. A job
    // starts at the moment the loop first sees it, so fires from before
    // (while the app was down) are skipped.
    let mut checked: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut next_poll = Instant::now();
    let mut next_prune = Instant::now() + PRUNE_EVERY;
    loop {
        while tasks.try_join_next().is_some() {}

        let next_fire = fire_crons(&core, &mut checked, &mut tasks).await;
        if Instant::now() >= next_poll {
            poll(&core, &mut tasks).await;
            next_poll = Instant::now() + core.settings.poll;
        }
        if Instant::now() >= next_prune {
            prune(&core).await;
            next_prune = Instant::now() + PRUNE_EVERY;
        }

        let wake_at = next_fire
            .map(|fire| {
                let wait = (fire - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                Instant::now() + wait
            })
            .map_or(next_poll, |at| at.min(next_poll));
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            _ = core.wake.notified() => {}
            _ = tokio::time::sleep_until(wake_at) => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Claims and starts the latest due fire of each cron job; returns when
/// the next fire of any job is.
async fn fire_crons(
    core: &Arc<Core>,
    checked: &mut BTreeMap<String, DateTime<Utc>>,
    tasks: &mut JoinSet<()>,
) -> Option<DateTime<Utc>> {
    let crons = core.jobs().crons.clone();
    checked.retain(|name, _| crons.iter().any(|c| &c.name == name));
    let now = Utc::now();
    let mut next: Option<DateTime<Utc>> = None;
    for job in &crons {
        let since = *checked.entry(job.name.clone()).or_insert(now);
        let mut done = true;
        if let Some((fire, skipped)) = job.schedule.latest_due(since, now) {
            if skipped {
                tracing::warn!(
                    job = %job.name, cron = %job.expr, fire = %fire,
                    "the scheduler ran late: earlier fires of this job are skipped, only the latest runs"
                );
            }
            let claimed = core
                .store
                .claim_fire(
                    &job.name,
                    &job.handler,
                    fire,
                    &core.instance,
                    core.settings.lease,
                )
                .await;
            match report(core, claimed) {
                Some(Some(claim)) => {
                    tasks.spawn(execute(core.clone(), claim));
                }
                Some(None) => {
                    tracing::trace!(job = %job.name, fire = %fire, "fire claimed by another replica");
                }
                // Not claimed: look at this fire again next time round.
                None => done = false,
            }
        }
        if done {
            checked.insert(job.name.clone(), now);
        }
        if let Some(fire) = job.schedule.next_after(now) {
            next = Some(next.map_or(fire, |n| n.min(fire)));
        }
    }
    next
}

/// Claims due one-shot jobs and retries whose handler this process knows.
async fn poll(core: &Arc<Core>, tasks: &mut JoinSet<()>) {
    let known: BTreeSet<String> = core.jobs().handlers.keys().cloned().collect();
    if known.is_empty() {
        return;
    }
    let Some(due) = report(core, core.store.due(Utc::now(), &known, POLL_BATCH).await) else {
        return;
    };
    for row in due {
        let claimed = core
            .store
            .claim(&row, &core.instance, core.settings.lease)
            .await;
        if let Some(Some(claim)) = report(core, claimed) {
            tasks.spawn(execute(core.clone(), claim));
        }
    }
}

async fn prune(core: &Arc<Core>) {
    if let Some(deleted) = report(core, core.store.prune(Utc::now()).await)
        && deleted > 0
    {
        tracing::debug!("{deleted} old cron fire(s) deleted from the job table");
    }
}

/// Keeps the loop's health: one warning when the database starts failing,
/// one line when it answers again.
fn report<T>(core: &Core, outcome: microcore::Result<T>) -> Option<T> {
    let mut trouble = lock(&core.trouble);
    match outcome {
        Ok(value) => {
            if trouble.take().is_some() {
                tracing::info!("scheduler: the job table answers again");
            }
            Some(value)
        }
        Err(e) => {
            let why = e.chain();
            if trouble.is_none() {
                tracing::warn!(
                    "scheduler: cannot reach the job table, jobs wait until it answers: {why}"
                );
            } else {
                tracing::debug!("scheduler: still cannot reach the job table: {why}");
            }
            *trouble = Some(why);
            None
        }
    }
}

/// Jobs waiting for a handler nobody here registered: said once at start,
/// since they will wait until some replica registers it.
async fn warn_about_orphans(core: &Core) {
    let Ok(waiting) = core.store.waiting_handlers().await else {
        return;
    };
    let known: BTreeSet<String> = core.jobs().handlers.keys().cloned().collect();
    for (handler, count) in waiting {
        if !known.contains(&handler) {
            tracing::warn!(
                handler = %handler,
                "{count} stored job(s) wait for handler '{handler}', which no plugin of this process registers; \
                 they run on a replica that does (register it with `scheduler.handler(&self, Self::method)` in `on_boot`)"
            );
        }
    }
}

/// Runs one claimed job: the handler inside the job's causal scope with
/// panics caught, the lease renewed meanwhile, then the outcome written.
async fn execute(core: Arc<Core>, claim: Claim) {
    let me = core.instance.as_str();
    let max = core.settings.max_attempts;
    let handler = core.jobs().handlers.get(&claim.handler).cloned();
    let Some(handler) = handler else {
        // Withdrawn since the claim: give it back untouched.
        let _ = report(&core, core.store.release(&claim.id, me).await);
        return;
    };
    if claim.attempt > max {
        let why = format!(
            "gave up after {max} attempt(s): the last one was not finished by its scheduler within its lease"
        );
        tracing::error!(job = %claim.name, scheduled = %claim.scheduled, "job failed: {why}");
        let _ = report(&core, core.store.fail(&claim.id, me, &why).await);
        return;
    }

    let run = JobRun {
        name: claim.name.clone(),
        scheduled: claim.scheduled,
        attempt: claim.attempt,
        kind: claim.kind,
    };
    tracing::debug!(job = %claim.name, scheduled = %claim.scheduled, attempt = claim.attempt, "job starts");
    let started = std::time::Instant::now();
    let cause_id: Arc<str> = format!("job:{}", claim.id).into();
    let work = AssertUnwindSafe(cause::scope(cause_id, (handler.run)(run))).catch_unwind();
    tokio::pin!(work);
    let every = core.settings.lease / 3;
    let mut renew = tokio::time::interval_at(Instant::now() + every, every);
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = renew.tick() => {
                if let Some(false) = report(&core, core.store.renew(&claim.id, me, core.settings.lease).await) {
                    tracing::warn!(job = %claim.name, "the claim on this run was lost (its lease ran out): another replica may run it too");
                }
            }
        }
    };
    let outcome = match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.chain()),
        Err(panic) => Err(format!("panicked: {}", microcore::panic::message(&*panic))),
    };
    if let Some(calls) = core.calls.get() {
        calls.record(
            "scheduler",
            handler.method,
            handler.owner,
            started.elapsed(),
            outcome.is_ok(),
        );
    }

    let written = match outcome {
        Ok(()) => {
            tracing::debug!(job = %claim.name, scheduled = %claim.scheduled, "job done");
            core.store.done(&claim.id, me).await
        }
        Err(why) if claim.attempt < max => {
            let wait = core.settings.backoff_after(claim.attempt);
            let due = Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or_default();
            tracing::warn!(
                job = %claim.name, scheduled = %claim.scheduled, attempt = claim.attempt,
                "job failed, attempt {} of {max} in {:.1} s: {why}", claim.attempt + 1, wait.as_secs_f32()
            );
            core.store.retry(&claim.id, me, due, &why).await
        }
        Err(why) => {
            tracing::error!(
                job = %claim.name, scheduled = %claim.scheduled, attempts = claim.attempt,
                "job failed on all {} attempt(s), marked failed: {why}", claim.attempt
            );
            core.store.fail(&claim.id, me, &why).await
        }
    };
    // Not written: the claim stays `running` until its lease runs out, and
    // then the job runs again (at least once, never lost).
    let _ = report(&core, written);
}
