//! A case clock reaching a stage: the deadline's reminders and escalation.

use onegrid_store::cases::deadlines::{self, Outcome};
use onegrid_store::integrations::job_kinds::SlaDeadline;
use onegrid_store::integrations::jobs::Job;

use super::{Run, RunError, finish, street_of};
use crate::runner::Runner;

impl Run for SlaDeadline {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let now = runner.clock.now();
        finish(runner, job, street_of(job)?, move |c| {
            Box::pin(async move { Ok(deadlines::reach(c, self.clock_id, &self.stage, now).await?) })
        })
        .await
    }
}
