//! What a case clock's deadline does when the worker reaches it: at 50 % the
//! assignee is reminded, at 75 % the assignee and the community's grid chiefs
//! are warned, at 100 % the case escalates one level up the ladder (grid →
//! community → street → departments) and that level's admins are told.
//! Each stage acts once per clock: its alert row is the guard and the record.
//! Paused clocks wait, stopped clocks and closed cases do nothing.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::cases::{self, Case, CaseClock};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult, Violation};
use crate::schema::{
    case_clock_alerts, case_clocks, cases as cases_t, notifications, role_assignments,
};

/// What became of a deadline job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acted (or had nothing left to do): complete the job.
    Done(&'static str),
    /// Not yet: the deadline moved or the clock is paused; run again then.
    Later(DateTime<Utc>),
}

/// How long a job for a paused clock waits before looking again (resuming
/// the clock reschedules it sooner).
const PAUSED_RECHECK: i64 = 6;

/// Acts on one stage (`warn_50`, `warn_75` or `due`) of one clock at `now`.
pub async fn reach(
    conn: &mut Conn,
    clock_id: Uuid,
    stage: &str,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let clock: CaseClock = case_clocks::table
        .filter(case_clocks::id.eq(clock_id))
        .select(CaseClock::as_select())
        .first(conn)
        .await?;
    if clock.stopped_at.is_some() {
        return Ok(Outcome::Done("clock stopped"));
    }
    if clock.paused_at.is_some() {
        return Ok(Outcome::Later(now + Duration::hours(PAUSED_RECHECK)));
    }
    let instant = match stage {
        "warn_50" => clock.warn_50_at,
        "warn_75" => clock.warn_75_at,
        "due" => clock.due_at,
        other => return Err(StoreError::Check(format!("unknown deadline stage {other}"))),
    };
    if instant > now {
        return Ok(Outcome::Later(instant));
    }
    let case = cases::get_case(conn, clock.case_id).await?;
    if !case.status.is_open() {
        return Ok(Outcome::Done("case not open"));
    }
    let fired: i64 = case_clock_alerts::table
        .filter(case_clock_alerts::street_id.eq(clock.street_id))
        .filter(case_clock_alerts::clock_id.eq(clock.id))
        .filter(case_clock_alerts::stage.eq(stage))
        .count()
        .get_result(conn)
        .await?;
    if fired > 0 {
        return Ok(Outcome::Done("already fired"));
    }
    let today = onegrid_domain::clock::china_date(now);
    let (recipients, escalated_to) = match stage {
        "warn_50" => (case.assignee_user_id.into_iter().collect(), None),
        "warn_75" => {
            let mut to: Vec<Uuid> = case.assignee_user_id.into_iter().collect();
            to.extend(
                holders(
                    conn,
                    "grid_chief",
                    Level::Community(case.community_id),
                    today,
                )
                .await?,
            );
            (to, None)
        }
        _ => escalate(conn, &case, &clock, now, today).await?,
    };
    let mut recipients = recipients;
    recipients.sort_unstable();
    recipients.dedup();
    let notified = notify(conn, &case, &clock, stage, &recipients, now).await?;
    // The record, and the guard: a second run of the same stage (after a
    // rescue) conflicts here and its transaction, effects included, rolls back.
    let recorded = diesel::insert_into(case_clock_alerts::table)
        .values((
            case_clock_alerts::street_id.eq(clock.street_id),
            case_clock_alerts::clock_id.eq(clock.id),
            case_clock_alerts::stage.eq(stage),
            case_clock_alerts::case_id.eq(case.id),
            case_clock_alerts::fired_at.eq(now),
            case_clock_alerts::escalated_to.eq(escalated_to),
            case_clock_alerts::notified.eq(i32::try_from(notified).unwrap_or(i32::MAX)),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if recorded == 0 {
        return Err(StoreError::Violation(Violation::unique(
            "case_clock_alerts_pkey",
        )));
    }
    Ok(Outcome::Done(stage_name(stage)))
}

fn stage_name(stage: &str) -> &'static str {
    match stage {
        "warn_50" => "reminded",
        "warn_75" => "warned",
        _ => "escalated",
    }
}

/// Where a role is held, for finding whom to tell.
enum Level {
    Community(Uuid),
    Street(Uuid),
}

/// Users holding `role` at `level` today.
async fn holders(
    conn: &mut Conn,
    role: &str,
    level: Level,
    today: NaiveDate,
) -> StoreResult<Vec<Uuid>> {
    let q = role_assignments::table
        .filter(role_assignments::role.eq(role))
        .filter(role_assignments::valid_from.le(today))
        .filter(
            role_assignments::valid_to
                .is_null()
                .or(role_assignments::valid_to.ge(today)),
        )
        .select(role_assignments::user_id)
        .into_boxed();
    let q = match level {
        Level::Community(c) => q
            .filter(role_assignments::scope_kind.eq("community"))
            .filter(role_assignments::community_id.eq(c)),
        Level::Street(s) => q
            .filter(role_assignments::scope_kind.eq("street"))
            .filter(role_assignments::street_id.eq(s)),
    };
    Ok(q.load(conn).await?)
}

/// Moves the case one level up, if it is still where the clock found it,
/// records the step as a system event, and names whom to tell.
async fn escalate(
    conn: &mut Conn,
    case: &Case,
    clock: &CaseClock,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> StoreResult<(Vec<Uuid>, Option<i16>)> {
    // One level up from wherever the case is now (another clock may have
    // just moved it); the alert row makes this happen once per clock.
    let moved: Option<Case> = diesel::update(
        cases_t::table
            .filter(cases_t::street_id.eq(case.street_id))
            .filter(cases_t::id.eq(case.id))
            .filter(cases_t::escalation_level.lt(3)),
    )
    .set((
        cases_t::escalation_level.eq(cases_t::escalation_level + 1),
        cases_t::version.eq(cases_t::version + 1),
        cases_t::updated_at.eq(now),
    ))
    .returning(Case::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(moved) = moved else {
        // Already with the departments, the top of the ladder.
        return Ok((case.assignee_user_id.into_iter().collect(), None));
    };
    let level = moved.escalation_level;
    let status = moved.status;
    cases::append_event(
        conn,
        &moved,
        cases::NewEvent {
            step: "escalate",
            from: Some(status),
            to: status,
            actor: cases::Actor {
                id: Uuid::nil(),
                kind: "system",
            },
            reason: Some(format!("{} 超时", clock.name)),
            data: serde_json::json!({"level": level, "clock_id": clock.id, "clock": clock.kind}),
            at: now,
        },
    )
    .await?;
    let mut to: Vec<Uuid> = case.assignee_user_id.into_iter().collect();
    match level {
        1 => to.extend(
            holders(
                conn,
                "community_admin",
                Level::Community(case.community_id),
                today,
            )
            .await?,
        ),
        _ => to.extend(holders(conn, "street_admin", Level::Street(case.street_id), today).await?),
    }
    Ok((to, Some(level)))
}

async fn notify(
    conn: &mut Conn,
    case: &Case,
    clock: &CaseClock,
    stage: &str,
    to: &[Uuid],
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let title = match stage {
        "warn_50" => format!("案件{}：{}已过半", case.number, clock.name),
        "warn_75" => format!("案件{}：{}已过75%", case.number, clock.name),
        _ => format!("案件{}：{}已超时，已上报", case.number, clock.name),
    };
    let rows: Vec<_> = to
        .iter()
        .map(|user| {
            (
                notifications::id.eq(Uuid::now_v7()),
                notifications::user_id.eq(*user),
                notifications::district_id.eq(case.district_id),
                notifications::street_id.eq(Some(case.street_id)),
                notifications::kind.eq(format!("case.{stage}")),
                notifications::title.eq(title.clone()),
                notifications::body.eq(serde_json::json!({
                    "case_id": case.id, "number": case.number, "clock": clock.kind,
                    "due_at": clock.due_at, "stage": stage,
                })),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(notifications::table)
        .values(rows)
        .execute(conn)
        .await?)
}
