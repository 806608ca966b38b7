//! The report-in clock of a summons: the reminder before its deadline and
//! the escalation at it, each told to the right holders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::SummonsState;
use uuid::Uuid;

use super::{Summons, log, summons_payload};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{notifications, role_assignments, summonses};

/// What a reminder or deadline job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// Reminded the department's staff, once; how many were told.
    Reminded(usize),
    /// Marked overdue and escalated; (department staff, district admins, street admins) told.
    Overdue,
    /// Reported in (or overdue already): nothing to do.
    Nothing,
}

async fn holders(
    conn: &mut Conn,
    role: &'static str,
    scope: (&'static str, Uuid),
    today: chrono::NaiveDate,
) -> StoreResult<Vec<Uuid>> {
    let q = role_assignments::table
        .filter(role_assignments::role.eq(role))
        .filter(role_assignments::scope_kind.eq(scope.0))
        .filter(role_assignments::valid_from.le(today))
        .filter(
            role_assignments::valid_to
                .is_null()
                .or(role_assignments::valid_to.ge(today)),
        )
        .select(role_assignments::user_id)
        .into_boxed();
    let q = match scope.0 {
        "department" => q.filter(role_assignments::department_id.eq(scope.1)),
        "street" => q.filter(role_assignments::street_id.eq(scope.1)),
        _ => q.filter(role_assignments::district_id.eq(scope.1)),
    };
    let mut users: Vec<Uuid> = q.load(conn).await?;
    users.sort_unstable();
    users.dedup();
    Ok(users)
}

async fn notify(
    conn: &mut Conn,
    s: &Summons,
    to: &[Uuid],
    kind: &'static str,
    title: String,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    let rows: Vec<_> = to
        .iter()
        .map(|u| {
            (
                notifications::id.eq(Uuid::now_v7()),
                notifications::user_id.eq(*u),
                notifications::district_id.eq(s.district_id),
                notifications::street_id.eq(Some(s.street_id)),
                notifications::kind.eq(kind),
                notifications::title.eq(title.clone()),
                notifications::body.eq(serde_json::json!({
                    "summons_id": s.id, "whistle_id": s.whistle_id,
                    "department_id": s.department_id, "deadline_at": s.deadline_at,
                })),
                notifications::created_at.eq(at),
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

/// Half way to the deadline: reminds the department's staff, once, if it
/// has not reported in (worker, scoped to the summons' street).
pub async fn remind(conn: &mut Conn, summons_id: Uuid, at: DateTime<Utc>) -> StoreResult<Fired> {
    let marked: Option<Summons> = diesel::update(
        summonses::table
            .filter(summonses::id.eq(summons_id))
            .filter(summonses::state.eq(SummonsState::Summoned))
            .filter(summonses::reminded_at.is_null()),
    )
    .set(summonses::reminded_at.eq(Some(at)))
    .returning(Summons::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(s) = marked else {
        return Ok(Fired::Nothing);
    };
    let today = onegrid_domain::clock::china_date(at);
    let staff = holders(
        conn,
        "department_staff",
        ("department", s.department_id),
        today,
    )
    .await?;
    let n = notify(
        conn,
        &s,
        &staff,
        "mediation.remind",
        "街道吹哨：请在报到时限前报到".into(),
        at,
    )
    .await?;
    log(conn, &s, "reminded", None, Uuid::nil(), at).await?;
    Ok(Fired::Reminded(n))
}

/// At the deadline: a department that has not reported in is marked overdue
/// and escalated to the district, once; its staff, the district's admins and
/// the street's admins are told, and integrators hear of it.
pub async fn deadline(conn: &mut Conn, summons_id: Uuid, at: DateTime<Utc>) -> StoreResult<Fired> {
    let marked: Option<Summons> = diesel::update(
        summonses::table
            .filter(summonses::id.eq(summons_id))
            .filter(summonses::state.eq(SummonsState::Summoned))
            .filter(summonses::overdue_at.is_null())
            .filter(summonses::deadline_at.le(at)),
    )
    .set((
        summonses::overdue_at.eq(Some(at)),
        summonses::escalated_at.eq(Some(at)),
        summonses::version.eq(summonses::version + 1),
    ))
    .returning(Summons::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(s) = marked else {
        return Ok(Fired::Nothing);
    };
    let today = onegrid_domain::clock::china_date(at);
    let staff = holders(
        conn,
        "department_staff",
        ("department", s.department_id),
        today,
    )
    .await?;
    notify(
        conn,
        &s,
        &staff,
        "mediation.overdue",
        "街道吹哨：报到已超时".into(),
        at,
    )
    .await?;
    let mut admins = holders(conn, "district_admin", ("district", s.district_id), today).await?;
    admins.extend(holders(conn, "street_admin", ("street", s.street_id), today).await?);
    admins.sort_unstable();
    admins.dedup();
    notify(
        conn,
        &s,
        &admins,
        "mediation.escalated",
        "部门未按时报到，已上报区级".into(),
        at,
    )
    .await?;
    log(conn, &s, "overdue", None, Uuid::nil(), at).await?;
    log(conn, &s, "escalated", None, Uuid::nil(), at).await?;
    crate::integrations::webhooks::emit(
        conn,
        s.district_id,
        s.street_id,
        "mediation.report_overdue",
        summons_payload(&s),
        at,
    )
    .await?;
    Ok(Fired::Overdue)
}
