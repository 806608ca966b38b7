//! The guarded step: a case's state change with its event, and what the
//! step does to the clocks (start, pause, extend, stop).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::WorkCalendar;
use onegrid_domain::cases::{ClockEffect, State};
use onegrid_domain::catalogue::Milestone;
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::sla::{ClockKind, ClockOutcome, REWORK};
use uuid::Uuid;

use super::clocks::{CaseClock, reschedule, start_clock};
use super::events::{NewEvent, append_event};
use super::setup::minutes_i32;
use super::{Actor, Case};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::schema::{case_clocks, case_ratings, case_routes, cases};

/// What a step changes on the case row besides its state.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = cases)]
pub struct CaseChanges {
    /// The person it is assigned to (`Some(None)` clears it).
    pub assignee_user_id: Option<Option<Uuid>>,
    /// The department it is routed to (`Some(None)` clears it).
    pub assignee_department_id: Option<Option<Uuid>>,
    /// How many levels up it has been escalated (0: the grid).
    pub escalation_level: Option<i16>,
    /// The handling cycle, counted up by each rework after a bad rating.
    pub rework_cycle: Option<i16>,
    /// When it was resolved (`Some(None)` when reopened).
    pub resolved_at: Option<Option<DateTime<Utc>>>,
    /// When it was closed (`Some(None)` when reopened).
    pub closed_at: Option<Option<DateTime<Utc>>>,
    /// The mode of service, as a booking or a step sets it.
    pub service_mode: Option<Option<ServiceMode>>,
}

/// A step to record: the state it leads to, the row's other changes, its
/// event and its clock effects.
#[derive(Debug, Clone)]
pub struct StepWrite<'a> {
    /// The state the step leads to.
    pub after: State,
    /// What else changes on the case row.
    pub changes: CaseChanges,
    /// The step's entry in the case history.
    pub event: NewEvent,
    /// What the step does to the case's clocks.
    pub effects: &'a [ClockEffect],
    /// Minutes of an approved extension (for [`ClockEffect::Extend`]).
    pub extension_minutes: i64,
    /// The district's working calendar, for clocks started or rescheduled.
    pub calendar: &'a WorkCalendar,
    /// Milestones to start (for [`ClockEffect::StartMilestones`]).
    pub milestones: &'a [Milestone],
    /// A rating of the cycle being closed: score and comment.
    pub rating: Option<(i16, Option<String>)>,
}

/// A write that records an event without moving the case through its
/// lifecycle (a booking, a milestone reached): the version still moves, so
/// `If-Match` guards it like a step.
pub fn note<'a>(
    case: &Case,
    step: &'static str,
    actor: Actor,
    data: serde_json::Value,
    at: DateTime<Utc>,
    calendar: &'a WorkCalendar,
) -> StepWrite<'a> {
    StepWrite {
        after: case.state(),
        changes: CaseChanges::default(),
        event: NewEvent {
            step,
            from: Some(case.status),
            to: case.status,
            actor,
            reason: None,
            data,
            at,
        },
        effects: &[],
        extension_minutes: 0,
        calendar,
        milestones: &[],
        rating: None,
    }
}

/// Applies a step to the case the caller read at `version`: exactly one of
/// several concurrent steps on the same version wins, the others get
/// [`StoreError::VersionMismatch`].
pub async fn record_step(
    conn: &mut Conn,
    case: &Case,
    version: i32,
    step: StepWrite<'_>,
) -> StoreResult<Case> {
    let at = step.event.at;
    let updated: Option<Case> = diesel::update(
        cases::table
            .filter(cases::street_id.eq(case.street_id))
            .filter(cases::id.eq(case.id))
            .filter(cases::version.eq(version)),
    )
    .set((
        step.changes.clone(),
        cases::status.eq(step.after.status),
        cases::paused.eq(step.after.paused),
        cases::extension_requested.eq(step.after.extension_requested),
        cases::park_requested.eq(step.after.park_requested),
        cases::version.eq(cases::version + 1),
        cases::updated_at.eq(at),
    ))
    .returning(Case::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(updated) = updated else {
        let current: i32 = cases::table
            .filter(cases::id.eq(case.id))
            .select(cases::version)
            .first(conn)
            .await?;
        return Err(StoreError::VersionMismatch { current });
    };
    if let Some(Some(department)) = step.changes.assignee_department_id {
        diesel::insert_into(case_routes::table)
            .values((
                case_routes::street_id.eq(case.street_id),
                case_routes::case_id.eq(case.id),
                case_routes::department_id.eq(department),
                case_routes::routed_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    if let Some((score, comment)) = &step.rating {
        diesel::insert_into(case_ratings::table)
            .values((
                case_ratings::street_id.eq(case.street_id),
                case_ratings::case_id.eq(case.id),
                case_ratings::cycle.eq(case.rework_cycle),
                case_ratings::score.eq(*score),
                case_ratings::comment.eq(comment),
                case_ratings::rated_by.eq(step.event.actor.id),
                case_ratings::rated_by_kind.eq(step.event.actor.kind),
                case_ratings::rated_at.eq(at),
            ))
            .execute(conn)
            .await?;
    }
    append_event(conn, &updated, step.event.clone()).await?;
    for effect in step.effects {
        apply_effect(conn, &updated, *effect, &step, at).await?;
    }
    Ok(updated)
}

async fn apply_effect(
    conn: &mut Conn,
    case: &Case,
    effect: ClockEffect,
    step: &StepWrite<'_>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let cal = step.calendar;
    match effect {
        ClockEffect::StopResponse => stop_clocks(conn, case, Some(ClockKind::Response), at)
            .await
            .map(drop),
        ClockEffect::StopAll => stop_clocks(conn, case, None, at).await.map(drop),
        ClockEffect::PauseAll => {
            diesel::update(running(case).filter(case_clocks::paused_at.is_null()))
                .set(case_clocks::paused_at.eq(at))
                .execute(conn)
                .await?;
            Ok(())
        }
        ClockEffect::ResumeAll => {
            let paused: Vec<CaseClock> = running(case)
                .filter(case_clocks::paused_at.is_not_null())
                .select(CaseClock::as_select())
                .load(conn)
                .await?;
            for c in paused {
                let since = c.paused_at.unwrap_or(at);
                let more = cal.elapsed(c.basis(), since, at);
                reschedule(
                    conn,
                    cal,
                    &c,
                    c.paused_minutes + minutes_i32(more),
                    c.extended_minutes,
                )
                .await?;
            }
            Ok(())
        }
        ClockEffect::Extend => {
            let target: Option<CaseClock> = running(case)
                .filter(case_clocks::kind.eq_any([ClockKind::Resolution, ClockKind::Rework]))
                .select(CaseClock::as_select())
                .order(case_clocks::started_at.desc())
                .first(conn)
                .await
                .optional()?;
            if let Some(c) = target {
                let extended = c.extended_minutes + minutes_i32(step.extension_minutes);
                reschedule(conn, cal, &c, c.paused_minutes, extended).await?;
            }
            Ok(())
        }
        ClockEffect::StartMilestones => {
            for m in step.milestones {
                start_clock(
                    conn,
                    cal,
                    case,
                    (ClockKind::Milestone, &m.name, 0),
                    m.budget(),
                    at,
                )
                .await?;
            }
            Ok(())
        }
        ClockEffect::StartRework => {
            let cycle = case.rework_cycle;
            start_clock(
                conn,
                cal,
                case,
                (ClockKind::Rework, "返工", cycle),
                REWORK,
                at,
            )
            .await
        }
    }
}

type RunningClocks = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<case_clocks::table, diesel::dsl::Eq<case_clocks::street_id, Uuid>>,
        diesel::dsl::Eq<case_clocks::case_id, Uuid>,
    >,
    diesel::dsl::IsNull<case_clocks::stopped_at>,
>;

fn running(case: &Case) -> RunningClocks {
    case_clocks::table
        .filter(case_clocks::street_id.eq(case.street_id))
        .filter(case_clocks::case_id.eq(case.id))
        .filter(case_clocks::stopped_at.is_null())
}

/// Stops running clocks (all, or those of `kind`), recording whether each met
/// its deadline. A paused clock is judged against its deadline as if resumed now.
async fn stop_clocks(
    conn: &mut Conn,
    case: &Case,
    kind: Option<ClockKind>,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    stop_matching(conn, case, kind, None, at).await
}

/// Completes one staged milestone: its clock stops, met or breached.
/// Returns false if no such milestone clock is running.
pub async fn complete_milestone(
    conn: &mut Conn,
    case: &Case,
    name: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(stop_matching(conn, case, Some(ClockKind::Milestone), Some(name), at).await? > 0)
}

async fn stop_matching(
    conn: &mut Conn,
    case: &Case,
    kind: Option<ClockKind>,
    name: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    let mut q = running(case).select(CaseClock::as_select()).into_boxed();
    if let Some(kind) = kind {
        q = q.filter(case_clocks::kind.eq(kind));
    }
    if let Some(name) = name {
        q = q.filter(case_clocks::name.eq(name));
    }
    let clocks: Vec<CaseClock> = q.load(conn).await?;
    let stopped = clocks.len();
    for c in clocks {
        let outcome = ClockOutcome::judged(at, c.due_at, c.paused_at);
        diesel::update(case_clocks::table.find((c.street_id, c.id)))
            .set((
                case_clocks::stopped_at.eq(at),
                case_clocks::outcome.eq(outcome),
                case_clocks::paused_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
    }
    Ok(stopped)
}
