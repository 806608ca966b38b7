//! SLA clocks: started on the working calendar, with a deadline job per
//! stage (50 %, 75 %, due) rescheduled when a clock pauses or extends.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::{Basis, WorkCalendar};
use onegrid_domain::sla::{Budget, ClockKind, ClockOutcome, schedule};
use uuid::Uuid;

use super::Case;
use super::filing::calendar_error;
use super::setup::minutes_i32;
use crate::db::Conn;
use crate::error::StoreResult;
use crate::integrations::job_kinds::SlaDeadline;
use crate::integrations::jobs::NewJob;
use crate::schema::case_clocks;

/// Starts a clock of `case` at `at` with `budget` and queues its 50 %, 75 %
/// and due jobs; a clock that already exists (same kind, name and cycle) is
/// left alone.
pub(crate) async fn start_clock(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    case: &Case,
    (kind, name, cycle): (ClockKind, &str, i16),
    budget: Budget,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let s = schedule(calendar, budget, at, 0, 0).map_err(calendar_error)?;
    let id = Uuid::now_v7();
    let inserted = diesel::insert_into(case_clocks::table)
        .values((
            case_clocks::street_id.eq(case.street_id),
            case_clocks::id.eq(id),
            case_clocks::case_id.eq(case.id),
            case_clocks::kind.eq(kind),
            case_clocks::name.eq(name),
            case_clocks::cycle.eq(cycle),
            case_clocks::basis.eq(budget.basis.as_str()),
            case_clocks::budget_minutes.eq(minutes_i32(budget.minutes)),
            case_clocks::started_at.eq(at),
            case_clocks::warn_50_at.eq(s.warn_50_at),
            case_clocks::warn_75_at.eq(s.warn_75_at),
            case_clocks::due_at.eq(s.due_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        // The clock's three deadlines, in one statement.
        let batch = stages(&s)
            .into_iter()
            .map(|(stage, run_at)| {
                let deadline = SlaDeadline {
                    clock_id: id,
                    case_id: case.id,
                    stage: stage.to_owned(),
                };
                Ok(NewJob::of(&deadline, run_at)?
                    .unique(sla_job_key(id, stage))
                    .for_tenant(case.district_id, Some(case.street_id)))
            })
            .collect::<StoreResult<Vec<NewJob>>>()?;
        crate::integrations::jobs::enqueue_all(conn, batch).await?;
    }
    Ok(())
}

/// The job key of one stage of one clock: each fires once.
pub fn sla_job_key(clock_id: Uuid, stage: &str) -> String {
    format!("sla:{clock_id}:{stage}")
}

/// The stages of a clock's schedule and their instants.
fn stages(s: &onegrid_domain::sla::Schedule) -> [(&'static str, DateTime<Utc>); 3] {
    [
        ("warn_50", s.warn_50_at),
        ("warn_75", s.warn_75_at),
        ("due", s.due_at),
    ]
}

pub(crate) async fn reschedule(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    c: &CaseClock,
    paused_minutes: i32,
    extended_minutes: i32,
) -> StoreResult<()> {
    let budget = Budget::new(c.basis(), i64::from(c.budget_minutes));
    let s = schedule(
        calendar,
        budget,
        c.started_at,
        i64::from(paused_minutes),
        i64::from(extended_minutes),
    )
    .map_err(calendar_error)?;
    diesel::update(case_clocks::table.find((c.street_id, c.id)))
        .set((
            case_clocks::paused_at.eq(None::<DateTime<Utc>>),
            case_clocks::paused_minutes.eq(paused_minutes),
            case_clocks::extended_minutes.eq(extended_minutes),
            case_clocks::warn_50_at.eq(s.warn_50_at),
            case_clocks::warn_75_at.eq(s.warn_75_at),
            case_clocks::due_at.eq(s.due_at),
        ))
        .execute(conn)
        .await?;
    // The deadline jobs follow (those already fired stay fired).
    for (stage, run_at) in stages(&s) {
        crate::integrations::jobs::reschedule(conn, &sla_job_key(c.id, stage), run_at).await?;
    }
    Ok(())
}

/// A clock of a case.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_clocks)]
pub struct CaseClock {
    /// The case's street (the RLS key).
    pub street_id: Uuid,
    /// The clock's id.
    pub id: Uuid,
    /// The case it times.
    pub case_id: Uuid,
    /// What it times.
    pub kind: ClockKind,
    /// Its name as staff see it (首次响应, 办结, a milestone's name).
    pub name: String,
    /// The handling cycle it belongs to (0, then one per rework).
    pub cycle: i16,
    /// Whether it counts calendar or working minutes (see [`CaseClock::basis`]).
    pub basis: String,
    /// Its budget, in minutes of its basis.
    pub budget_minutes: i32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Since when it is paused (waiting for the resident); `None` while counting.
    pub paused_at: Option<DateTime<Utc>>,
    /// Minutes of its basis spent paused so far; they push the deadline out.
    pub paused_minutes: i32,
    /// Minutes granted by approved extensions.
    pub extended_minutes: i32,
    /// When half its budget is used.
    pub warn_50_at: DateTime<Utc>,
    /// When three quarters of its budget are used.
    pub warn_75_at: DateTime<Utc>,
    /// Its deadline, pauses and extensions included.
    pub due_at: DateTime<Utc>,
    /// When it stopped; `None` while it runs.
    pub stopped_at: Option<DateTime<Utc>>,
    /// How it ended; `None` while it runs.
    pub outcome: Option<ClockOutcome>,
}

impl CaseClock {
    /// The basis it counts on.
    pub fn basis(&self) -> Basis {
        Basis::parse(&self.basis).unwrap_or(Basis::Calendar)
    }
}

/// The clocks of the cases `case_ids`, in one statement.
pub async fn clocks_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<CaseClock>> {
    Ok(case_clocks::table
        .filter(case_clocks::case_id.eq_any(case_ids))
        .select(CaseClock::as_select())
        .order((
            case_clocks::case_id,
            case_clocks::started_at,
            case_clocks::id,
        ))
        .load(conn)
        .await?)
}
