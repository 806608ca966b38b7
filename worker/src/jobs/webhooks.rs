//! Webhooks: an event's fan-out into deliveries, and one attempt of a
//! delivery, sent outside any transaction.

use onegrid_domain::jobs::DeliveryState;
use onegrid_store::Acting;
use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::integrations::job_kinds::{WebhookDelivery, WebhookFanOut};
use onegrid_store::integrations::jobs::{self, Job};
use onegrid_store::integrations::webhooks::{self as hooks, AfterAttempt};

use super::{Run, RunError, finish};
use crate::runner::Runner;

impl Run for WebhookFanOut {
    /// An event's deliveries, one per endpoint that wants it.
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let now = runner.clock.now();
        finish(runner, job, Acting::Nobody, move |c| {
            Box::pin(async move {
                hooks::fan_out(c, self.event_id, now).await?;
                Ok(Outcome::Done("fanned out"))
            })
        })
        .await
    }
}

impl Run for WebhookDelivery {
    /// Reads the delivery, sends it (outside any transaction), then logs the
    /// attempt and completes or reschedules the job in one transaction fenced
    /// on the lease. A worker that lost its lease may have sent a request
    /// whose log is rolled back; receivers tell repeats by `webhook-id` (at
    /// least once, as webhooks are).
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let token = job.lease_token.ok_or(RunError::LeaseLost)?;
        let (id, delivery, now) = (job.id, self.delivery_id, runner.clock.now());
        let out = runner
            .db
            .acting::<_, RunError, _>(Acting::Nobody, move |c| {
                Box::pin(async move { Ok(hooks::outgoing(c, delivery).await?) })
            })
            .await?;
        if out.delivery.state != DeliveryState::Pending || !out.endpoint.enabled {
            let disabled = out.delivery.state == DeliveryState::Pending;
            return finish(runner, job, Acting::Nobody, move |c| {
                Box::pin(async move {
                    if disabled {
                        hooks::abandon(c, &out.delivery, "the endpoint is disabled").await?;
                    }
                    Ok(Outcome::Done("not sent"))
                })
            })
            .await;
        }
        let secrets = hooks::live_secrets(&runner.webhooks.keys, &out.endpoint, now)?;
        let result = runner
            .webhooks
            .sender
            .send(
                &out.endpoint.url,
                &out.event.id.to_string(),
                &secrets,
                hooks::body(&out.event),
                now,
            )
            .await;
        let after_send = runner.clock.now();
        let disable_after = runner.webhooks.disable_after;
        let outcome = runner
            .db
            .acting::<_, RunError, _>(Acting::Nobody, move |c| {
                Box::pin(async move {
                    let after =
                        hooks::record_attempt(c, &out, &result, after_send, disable_after).await?;
                    let (held, outcome) = match after {
                        AfterAttempt::Retry(at) => {
                            (jobs::snooze(c, id, token, at).await?, Outcome::Later(at))
                        }
                        AfterAttempt::Delivered => (
                            jobs::complete(c, id, token, after_send).await?,
                            Outcome::Done("delivered"),
                        ),
                        AfterAttempt::Failed => (
                            jobs::complete(c, id, token, after_send).await?,
                            Outcome::Done("undeliverable"),
                        ),
                    };
                    if held {
                        Ok(outcome)
                    } else {
                        Err(RunError::LeaseLost)
                    }
                })
            })
            .await?;
        metrics::counter!("onegrid_webhook_attempts_total", "result" => match &outcome {
            Outcome::Done("delivered") => "delivered",
            Outcome::Done(_) => "failed",
            Outcome::Later(_) => "retry",
        })
        .increment(1);
        Ok(outcome)
    }
}
