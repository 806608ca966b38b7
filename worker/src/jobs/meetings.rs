//! A community's needs meeting: created for the instant its schedule named,
//! its agenda compiled, the invited staff reminded - once.

use onegrid_store::Acting;
use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::fieldwork::meetings;
use onegrid_store::integrations::job_kinds::PrepareMeeting;
use onegrid_store::integrations::jobs::Job;

use super::{Run, RunError, finish, street_of};
use crate::runner::Runner;

impl Run for PrepareMeeting {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let acting = street_of(job)?;
        let Acting::Street { district, street } = acting else {
            return Err(RunError::BadJob("a meeting names its street".into()));
        };
        let now = runner.clock.now();
        finish(runner, job, acting, move |c| {
            Box::pin(async move {
                meetings::prepare(c, district, street, self.community_id, self.fire_for, now)
                    .await?;
                Ok(Outcome::Done("meeting prepared"))
            })
        })
        .await
    }
}
