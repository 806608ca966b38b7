//! The jobs this worker runs: one [`Run`] implementation per kind of job
//! (the kinds and their payload types are `onegrid_store::integrations::job_kinds`),
//! gathered in one [`Registry`]. The runner looks a claimed job's kind up
//! there and hands it its typed payload; nothing matches kinds as strings.

mod cases;
mod daily;
mod mediation;
mod meetings;
mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::LazyLock;

use futures_util::future::BoxFuture;
use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::integrations::job_kinds::{self, JobKind};
use onegrid_store::integrations::jobs::{self, Job};
use onegrid_store::{Acting, Conn, StoreError};

use crate::runner::Runner;

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("the lease was lost before the job finished")]
    LeaseLost,
    #[error("bad job: {0}")]
    BadJob(String),
}

/// How the worker runs one kind of job, given its typed payload.
pub trait Run: JobKind + Sized {
    /// Acts on the job and completes (or snoozes) it, fenced on its lease.
    fn run(
        self,
        runner: &Runner,
        job: &Job,
    ) -> impl Future<Output = Result<Outcome, RunError>> + Send;
}

type Handler = for<'a> fn(&'a Runner, &'a Job) -> BoxFuture<'a, Result<Outcome, RunError>>;

/// The kinds this worker runs, by name.
#[derive(Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
    queues: Vec<&'static str>,
}

fn handle<'a, K: Run>(
    runner: &'a Runner,
    job: &'a Job,
) -> BoxFuture<'a, Result<Outcome, RunError>> {
    Box::pin(async move {
        // The error names the kind and what was wrong, never a value.
        let payload: K = serde_json::from_value(job.payload.clone()).map_err(|e| {
            RunError::BadJob(format!(
                "the payload of {} does not parse ({:?})",
                K::NAME,
                e.classify()
            ))
        })?;
        payload.run(runner, job).await
    })
}

impl Registry {
    /// Adds kind `K`.
    #[must_use]
    pub fn with<K: Run>(mut self) -> Registry {
        self.handlers.insert(K::NAME, handle::<K>);
        if !self.queues.contains(&K::QUEUE) {
            self.queues.push(K::QUEUE);
        }
        self
    }

    /// The queues the registered kinds wait in (each once).
    pub fn queues(&self) -> &[&'static str] {
        &self.queues
    }

    /// Runs `job` with the handler of its kind.
    pub async fn run(&self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        match self.handlers.get(job.kind.as_str()) {
            Some(handler) => handler(runner, job).await,
            None => Err(RunError::BadJob(format!(
                "no runner for job kind {}",
                job.kind
            ))),
        }
    }
}

/// Every kind the worker runs.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    Registry::default()
        .with::<job_kinds::Noop>()
        .with::<job_kinds::SlaDeadline>()
        .with::<job_kinds::StaleDigest>()
        .with::<job_kinds::MissingPatrols>()
        .with::<job_kinds::StreetDigest>()
        .with::<job_kinds::StreetMissingPatrols>()
        .with::<job_kinds::CalendarCheck>()
        .with::<job_kinds::PrepareMeeting>()
        .with::<job_kinds::ReportInReminder>()
        .with::<job_kinds::ReportInDeadline>()
        .with::<job_kinds::WebhookFanOut>()
        .with::<job_kinds::WebhookDelivery>()
});

impl Run for job_kinds::Noop {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        // Nothing to apply: the fenced completion is the whole job.
        let token = job.lease_token.ok_or(RunError::LeaseLost)?;
        let (id, now) = (job.id, runner.clock.now());
        let held = runner
            .db
            .on_queue(|c| Box::pin(jobs::complete(c, id, token, now)))
            .await?;
        if held {
            Ok(Outcome::Done("noop"))
        } else {
            Err(RunError::LeaseLost)
        }
    }
}

/// The district and street a job runs for.
fn street_of(job: &Job) -> Result<Acting, RunError> {
    let (district, street) = job.district_id.zip(job.street_id).ok_or_else(|| {
        RunError::BadJob(format!("a {} job names its district and street", job.kind))
    })?;
    Ok(Acting::Street { district, street })
}

/// The district a job runs for.
fn district_of(job: &Job) -> Result<uuid::Uuid, RunError> {
    job.district_id
        .ok_or_else(|| RunError::BadJob(format!("a {} job names its district", job.kind)))
}

/// Runs `work` acting for `acting`, then completes the job (or snoozes it
/// until the time `work` names) in the same transaction, fenced on the
/// job's lease: a worker that lost the lease rolls everything back.
async fn finish<F>(runner: &Runner, job: &Job, acting: Acting, work: F) -> Result<Outcome, RunError>
where
    F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<Outcome, RunError>> + Send + 'static,
{
    let token = job.lease_token.ok_or(RunError::LeaseLost)?;
    let (id, now) = (job.id, runner.clock.now());
    runner
        .db
        .acting::<_, RunError, _>(acting, move |c| {
            Box::pin(async move {
                let outcome = work(c).await?;
                let held = match &outcome {
                    Outcome::Done(_) => jobs::complete(c, id, token, now).await?,
                    Outcome::Later(at) => jobs::snooze(c, id, token, *at).await?,
                };
                if held {
                    Ok(outcome)
                } else {
                    Err(RunError::LeaseLost)
                }
            })
        })
        .await
}
