//! A summons' report-in clock: the reminder half way and the deadline, each
//! acting once, in the summons' street.

use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::integrations::job_kinds::{ReportInDeadline, ReportInReminder};
use onegrid_store::integrations::jobs::Job;
use onegrid_store::mediation::whistles::{self, Fired};

use super::{Run, RunError, finish, street_of};
use crate::runner::Runner;

fn outcome(fired: &Fired) -> Outcome {
    Outcome::Done(match fired {
        Fired::Reminded(_) => "reminded",
        Fired::Overdue => "overdue",
        Fired::Nothing => "reported in",
    })
}

impl Run for ReportInReminder {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let now = runner.clock.now();
        finish(runner, job, street_of(job)?, move |c| {
            Box::pin(async move { Ok(outcome(&whistles::remind(c, self.summons_id, now).await?)) })
        })
        .await
    }
}

impl Run for ReportInDeadline {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let now = runner.clock.now();
        finish(runner, job, street_of(job)?, move |c| {
            Box::pin(
                async move { Ok(outcome(&whistles::deadline(c, self.summons_id, now).await?)) },
            )
        })
        .await
    }
}
