//! The district's daily fires: each is shared out as one job per street
//! (stale-ledger digests, missing patrol logs), and the check that next
//! year's working calendar is loaded.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::clock::china_date;
use onegrid_store::Acting;
use onegrid_store::cases::calendar_years;
use onegrid_store::cases::deadlines::Outcome;
use onegrid_store::fieldwork::patrols;
use onegrid_store::integrations::job_kinds::{
    CalendarCheck, JobKind, MissingPatrols, StaleDigest, StreetDigest, StreetMissingPatrols,
};
use onegrid_store::integrations::jobs::Job;
use onegrid_store::integrations::schedules;
use onegrid_store::ledgers::digests;

use super::{Run, RunError, district_of, finish, street_of};
use crate::runner::Runner;

/// A district's daily fire for `fire_for`: one `K` job per street.
async fn per_street<K: JobKind>(
    runner: &Runner,
    job: &Job,
    fire_for: DateTime<Utc>,
    share: fn(NaiveDate) -> K,
) -> Result<Outcome, RunError> {
    let district = district_of(job)?;
    let day = china_date(fire_for);
    let now = runner.clock.now();
    finish(runner, job, Acting::Nobody, move |c| {
        Box::pin(async move {
            schedules::per_street(c, district, day, now, share).await?;
            Ok(Outcome::Done("fanned out"))
        })
    })
    .await
}

impl Run for StaleDigest {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        per_street(runner, job, self.fire_for, |day| StreetDigest { day }).await
    }
}

impl Run for MissingPatrols {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        per_street(runner, job, self.fire_for, |day| StreetMissingPatrols {
            day,
        })
        .await
    }
}

impl Run for StreetDigest {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let acting = street_of(job)?;
        let Acting::Street { district, street } = acting else {
            return Err(RunError::BadJob("a street digest names its street".into()));
        };
        let now = runner.clock.now();
        finish(runner, job, acting, move |c| {
            Box::pin(async move {
                digests::street_digest(c, district, street, self.day, now).await?;
                Ok(Outcome::Done("street day"))
            })
        })
        .await
    }
}

impl Run for StreetMissingPatrols {
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let acting = street_of(job)?;
        let Acting::Street { district, street } = acting else {
            return Err(RunError::BadJob("a patrol flag names its street".into()));
        };
        let now = runner.clock.now();
        finish(runner, job, acting, move |c| {
            Box::pin(async move {
                patrols::flag_missing(c, district, street, self.day, now).await?;
                Ok(Outcome::Done("street day"))
            })
        })
        .await
    }
}

impl Run for CalendarCheck {
    /// From 1 December, a district's admins are told once if next year's
    /// calendar is missing.
    async fn run(self, runner: &Runner, job: &Job) -> Result<Outcome, RunError> {
        let district = district_of(job)?;
        let day = china_date(self.fire_for);
        let now = runner.clock.now();
        finish(runner, job, Acting::District(district), move |c| {
            Box::pin(async move {
                let told = calendar_years::warn_if_missing(c, district, day, now).await?;
                if told > 0 {
                    metrics::counter!("onegrid_calendar_warnings_total").increment(1);
                    tracing::warn!(%district, %day, told, "next year's working calendar is not loaded");
                }
                Ok(Outcome::Done("calendar checked"))
            })
        })
        .await
    }
}
