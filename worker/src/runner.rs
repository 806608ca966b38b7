//! One pass of the runner ([`Runner::tick`]) and the policy around it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use onegrid_domain::clock::Clock;
use onegrid_domain::jobs::JobState;

/// Schedules fired per pass.
const SCHEDULES_PER_PASS: i64 = 50;

/// A fire later than this is a misfire (its schedule's policy applies).
const MISFIRE_GRACE_SECS: i64 = 300;

use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::integrations::jobs::{self, Job};
use onegrid_store::integrations::schedules::{self, Fired, Handled};
use onegrid_store::{Acting, Db, StoreError};
use uuid::Uuid;

use crate::jobs::REGISTRY;
use crate::webhooks::Sender;

/// What delivering webhooks needs.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// Opens the endpoints' signing secrets.
    pub keys: Arc<onegrid_store::crypto::FieldKeys>,
    pub sender: Sender,
    /// An endpoint failing this long is disabled.
    pub disable_after: Duration,
}

impl Webhooks {
    /// From the deployment's field keys and webhook settings.
    pub fn from_config(config: &onegrid_config::Config) -> Result<Webhooks, String> {
        let keys = onegrid_store::crypto::FieldKeys::new(
            (&config.field_key_id, &config.field_key),
            &config.previous_field_keys,
        );
        Ok(Webhooks {
            keys: Arc::new(keys),
            sender: Sender::new(
                onegrid_domain::netguard::Allowed(config.webhook_allow.clone()),
                config.webhook_timeout,
            )?,
            disable_after: Duration::from_std(config.webhook_disable_after)
                .map_err(|e| format!("ONEGRID_WEBHOOK_DISABLE_AFTER_HOURS: {e}"))?,
        })
    }
}
/// Claims and runs jobs of the deadline queue.
#[derive(Debug, Clone)]
pub struct Runner {
    /// A pool whose sessions are the worker's (`PoolSettings::for_worker`).
    pub db: Db,
    /// Names this process in leases (`host:pid`).
    pub worker_id: String,
    pub clock: Arc<dyn Clock>,
    /// How long a claim holds before the rescuer may hand it back.
    pub lease: Duration,
    /// Jobs claimed per pass.
    pub batch: i32,
    /// Jobs run at once (each in its own transaction; keep it at or below the pool size).
    pub concurrency: usize,
    pub webhooks: Webhooks,
}

/// What became of one claimed job.
enum Ran {
    Completed,
    Snoozed,
    Failed,
    HandedBack,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub rescued: usize,
    /// Schedules fired (or planned) this pass.
    pub fired: Vec<Fired>,
    pub completed: usize,
    pub snoozed: usize,
    pub failed: usize,
    /// Claimed, then handed back unrun because the worker is stopping.
    pub handed_back: usize,
}

impl Pass {
    pub fn ran(&self) -> usize {
        self.completed + self.snoozed + self.failed + self.fired.len()
    }
}

/// The retry backoff: 2 s doubling to at most 10 minutes. Failed attempts
/// and jobs rescued from a dead worker both wait it.
pub const BACKOFF: jobs::Backoff = jobs::Backoff {
    base: Duration::seconds(2),
    cap: Duration::seconds(600),
};

/// Backoff before retry `attempt` (1-based): [`BACKOFF`], with ±25 % jitter
/// (`jitter` in 0..1) so retries do not march together.
pub fn backoff(attempt: i32, jitter: f64) -> Duration {
    let base = BACKOFF
        .base
        .num_seconds()
        .saturating_mul(1_i64 << attempt.clamp(1, 20).saturating_sub(1));
    let capped = base.min(BACKOFF.cap.num_seconds());
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "at most 750 000 ms"
    )]
    Duration::milliseconds((capped as f64 * 1000.0 * factor) as i64)
}

impl Runner {
    /// Rescues expired leases, claims up to `batch` due jobs and runs them;
    /// once `stopping` is set, claimed jobs not yet started are handed back.
    pub async fn tick(&self, stopping: &AtomicBool) -> Result<Pass, StoreError> {
        let now = self.clock.now();
        let mut pass = Pass::default();
        // Single statements run on their own (autocommit) on the worker's
        // connections, which carry app.worker for the session.
        let rescued = self
            .db
            .on_queue(|c| Box::pin(jobs::rescue(c, now, BACKOFF)))
            .await?;
        pass.rescued = rescued.len();
        if pass.rescued > 0 {
            metrics::counter!("onegrid_jobs_rescued_total").increment(pass.rescued as u64);
            tracing::warn!(rescued = pass.rescued, "expired leases handed back");
        }
        if stopping.load(Ordering::SeqCst) {
            return Ok(pass);
        }
        pass.fired = self.fire_schedules(now).await?;
        let (worker, lease, batch) = (self.worker_id.clone(), self.lease, self.batch);
        let claimed = self
            .db
            .on_queue(|c| {
                Box::pin(async move {
                    jobs::claim(c, REGISTRY.queues(), batch, &worker, lease, now).await
                })
            })
            .await?;
        let tokens: Vec<Uuid> = claimed.iter().filter_map(|j| j.lease_token).collect();
        // Up to `concurrency` jobs at once, each in its own transaction, while
        // the leases of those not yet finished are kept alive.
        let running = futures_util::stream::iter(claimed)
            .map(|job| self.process(job, now, stopping))
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<Result<Ran, StoreError>>>();
        let results = tokio::select! {
            results = running => results,
            never = self.keep_leases(&tokens) => match never {},
        };
        for ran in results {
            match ran? {
                Ran::Completed => pass.completed += 1,
                Ran::Snoozed => pass.snoozed += 1,
                Ran::Failed => pass.failed += 1,
                Ran::HandedBack => pass.handed_back += 1,
            }
        }
        Ok(pass)
    }

    /// Extends the pass's leases every third of the lease, for as long as the
    /// pass runs (it is dropped when the pass ends), so no live worker's job
    /// is rescued and run twice. A failed heartbeat is retried at the next beat.
    async fn keep_leases(&self, tokens: &[Uuid]) -> std::convert::Infallible {
        let every = (self.lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_millis(100));
        loop {
            tokio::time::sleep(every).await;
            let beat = async {
                let now = self.clock.now();
                self.db
                    .on_queue(|c| {
                        let (tokens, lease) = (tokens.to_vec(), self.lease);
                        Box::pin(async move { jobs::heartbeat_all(c, &tokens, lease, now).await })
                    })
                    .await
            };
            match beat.await {
                Ok(kept) => tracing::debug!(kept, "leases extended"),
                Err(e) => tracing::warn!(error = %e, "heartbeat failed; leases may lapse"),
            }
        }
    }

    /// Runs one claimed job (or hands it back if the worker is stopping).
    async fn process(
        &self,
        job: Job,
        claimed_at: DateTime<Utc>,
        stopping: &AtomicBool,
    ) -> Result<Ran, StoreError> {
        let lateness = (claimed_at - job.run_at).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!("onegrid_job_start_lateness_seconds", "queue" => job.queue.clone())
            .record(lateness);
        if stopping.load(Ordering::SeqCst) {
            self.hand_back(&job).await?;
            return Ok(Ran::HandedBack);
        }
        metrics::counter!("onegrid_job_attempts_total", "queue" => job.queue.clone()).increment(1);
        match REGISTRY.run(self, &job).await {
            Ok(Outcome::Done(what)) => {
                metrics::counter!("onegrid_jobs_completed_total", "queue" => job.queue.clone(), "outcome" => what)
                    .increment(1);
                Ok(Ran::Completed)
            }
            Ok(Outcome::Later(_)) => Ok(Ran::Snoozed),
            Err(e) => {
                self.record_failure(&job, &e.to_string()).await?;
                Ok(Ran::Failed)
            }
        }
    }

    /// Fires due schedules (one transaction: fires, their jobs, next instants).
    async fn fire_schedules(&self, now: DateTime<Utc>) -> Result<Vec<Fired>, StoreError> {
        let fired = self
            .db
            .acting::<_, StoreError, _>(Acting::Nobody, move |c| {
                Box::pin(async move {
                    schedules::fire_due(c, now, SCHEDULES_PER_PASS, MISFIRE_GRACE_SECS).await
                })
            })
            .await?;
        for f in &fired {
            match f.handled {
                Handled::Fired(outcome) => {
                    if outcome.misfired() {
                        metrics::counter!("onegrid_schedule_misfires_total", "schedule" => f.key.clone(), "outcome" => outcome.as_str())
                            .increment(1);
                        tracing::warn!(schedule = %f.schedule_id, key = %f.key, outcome = outcome.as_str(), "schedule misfired");
                    }
                    if outcome.ran() {
                        metrics::counter!("onegrid_schedule_fires_total", "schedule" => f.key.clone())
                            .increment(1);
                    }
                }
                Handled::Disabled => {
                    metrics::counter!("onegrid_schedule_disabled_total", "schedule" => f.key.clone())
                        .increment(1);
                }
                Handled::Planned => {}
            }
        }
        Ok(fired)
    }

    /// Gives every district its built-in schedules.
    pub async fn ensure_schedules(&self) -> Result<usize, StoreError> {
        self.db
            .acting::<_, StoreError, _>(Acting::Nobody, |c| Box::pin(schedules::ensure_builtin(c)))
            .await
    }

    async fn record_failure(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        let Some(token) = job.lease_token else {
            return Ok(());
        };
        let now = self.clock.now();
        let retry_at: DateTime<Utc> = now + backoff(job.attempt, rand::random::<f64>());
        let (id, error) = (job.id, error.to_owned());
        let state = self
            .db
            .on_queue(|c| {
                Box::pin(async move { jobs::fail(c, id, token, &error, retry_at, now).await })
            })
            .await?;
        if state == Some(JobState::Failed) {
            metrics::counter!("onegrid_jobs_discarded_total", "queue" => job.queue.clone())
                .increment(1);
            tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempt, "job failed for good");
        } else {
            metrics::counter!("onegrid_job_retries_total", "queue" => job.queue.clone())
                .increment(1);
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, %retry_at, "job failed; will retry");
        }
        Ok(())
    }

    /// Returns a claimed job to the queue untouched (stopping).
    async fn hand_back(&self, job: &Job) -> Result<(), StoreError> {
        let Some(token) = job.lease_token else {
            return Ok(());
        };
        let (id, at) = (job.id, job.run_at);
        self.db
            .on_queue(|c| Box::pin(jobs::snooze(c, id, token, at)))
            .await?;
        Ok(())
    }

    /// Publishes queue depth, oldest due age and terminal failures per queue.
    pub async fn record_queue_stats(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let stats = self.db.on_queue(|c| Box::pin(jobs::stats(c, now))).await?;
        for s in stats {
            metrics::gauge!("onegrid_queue_depth", "queue" => s.queue.clone()).set(s.depth as f64);
            metrics::gauge!("onegrid_queue_oldest_seconds", "queue" => s.queue.clone())
                .set(s.oldest_seconds);
            metrics::gauge!("onegrid_queue_failed", "queue" => s.queue).set(s.failed as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        assert_eq!(backoff(1, 0.5), Duration::seconds(2));
        assert_eq!(backoff(2, 0.5), Duration::seconds(4));
        assert_eq!(backoff(4, 0.5), Duration::seconds(16));
        assert_eq!(backoff(30, 0.5), Duration::seconds(600));
        assert_eq!(backoff(1, 0.0), Duration::milliseconds(1500));
        assert_eq!(backoff(1, 1.0), Duration::milliseconds(2500));
        assert_eq!(backoff(0, 0.5), Duration::seconds(2));
    }
}
