//! 街道吹哨, 部门报到: the street summons departments of the district's
//! mediation panel on a dispute or a case; each summons has a report-in
//! deadline (minutes for emergencies, hours otherwise), a reminder half way
//! and an overdue mark at the deadline, both set once by the worker; the
//! department reports in, goes on site, records actions and finishes; the
//! street rates each department afterwards.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{SummonsState, SummonsStep, WhistleReason, Windows, report_in};
use onegrid_domain::permissions::Area;
use onegrid_domain::permissions::Target;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::integrations::jobs::{self, NewJob};
use crate::page::{Page, PageRequest};
use crate::schema::{
    departments, mediation_settings, notifications, role_assignments, summons_actions, summonses,
    whistles,
};

/// The queue of report-in reminders and deadlines.
pub const MEDIATION_QUEUE: &str = "mediation";
/// Half way to a report-in deadline.
pub const REMIND: &str = "mediation.remind";
/// A report-in deadline.
pub const DEADLINE: &str = "mediation.deadline";

/// The panel's default departments (nine of the ten defaults; the district edits it).
pub const DEFAULT_PANEL: [&str; 9] = [
    "police",
    "justice",
    "urban_management",
    "market_regulation",
    "health",
    "water",
    "power",
    "heating",
    "gas",
];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mediation_settings)]
pub struct Settings {
    pub district_id: Uuid,
    pub emergency_minutes: i32,
    pub other_hours: i32,
    pub panel: Vec<Uuid>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Settings {
    pub fn windows(&self) -> Windows {
        Windows {
            emergency_minutes: i64::from(self.emergency_minutes),
            other_hours: i64::from(self.other_hours),
        }
    }
}

/// The district's settings, created with the defaults on first use.
pub async fn settings(conn: &mut Conn, district: Uuid) -> StoreResult<Settings> {
    let panel: Vec<Uuid> = departments::table
        .filter(departments::district_id.eq(district))
        .filter(departments::code.eq_any(DEFAULT_PANEL))
        .select(departments::id)
        .order(departments::code)
        .load(conn)
        .await?;
    diesel::insert_into(mediation_settings::table)
        .values((
            mediation_settings::district_id.eq(district),
            mediation_settings::panel.eq(panel),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(mediation_settings::table
        .find(district)
        .select(Settings::as_select())
        .first(conn)
        .await?)
}

/// Replaces the settings at `version`; `None` if the version moved.
pub async fn update_settings(
    conn: &mut Conn,
    district: Uuid,
    version: i32,
    emergency_minutes: i32,
    other_hours: i32,
    panel: Vec<Uuid>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Settings>> {
    Ok(diesel::update(
        mediation_settings::table
            .find(district)
            .filter(mediation_settings::version.eq(version)),
    )
    .set((
        mediation_settings::emergency_minutes.eq(emergency_minutes),
        mediation_settings::other_hours.eq(other_hours),
        mediation_settings::panel.eq(panel),
        mediation_settings::version.eq(mediation_settings::version + 1),
        mediation_settings::updated_at.eq(at),
    ))
    .returning(Settings::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = whistles)]
pub struct Whistle {
    pub street_id: Uuid,
    pub id: Uuid,
    pub district_id: Uuid,
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: String,
    pub summary: String,
    pub status: String,
    pub department_ids: Vec<Uuid>,
    pub blown_by: Uuid,
    pub blown_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl Whistle {
    pub fn target(&self) -> Target {
        Target::street(self.district_id, self.street_id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = summonses)]
pub struct Summons {
    pub street_id: Uuid,
    pub id: Uuid,
    pub whistle_id: Uuid,
    pub district_id: Uuid,
    pub department_id: Uuid,
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: String,
    pub summoned_at: DateTime<Utc>,
    pub remind_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub state: String,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_by: Option<Uuid>,
    pub on_site_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub rated_by: Option<Uuid>,
    pub rated_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl Summons {
    /// The department's node: its staff reach it, and the street's admins.
    pub fn target(&self) -> Target {
        Target {
            department: Some(self.department_id),
            ..Target::street(self.district_id, self.street_id)
        }
    }

    pub fn state(&self) -> SummonsState {
        SummonsState::parse(&self.state).unwrap_or(SummonsState::Summoned)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = summons_actions)]
pub struct Action {
    pub street_id: Uuid,
    pub id: Uuid,
    pub summons_id: Uuid,
    pub step: String,
    pub note: Option<String>,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// A whistle to blow.
#[derive(Debug, Clone)]
pub struct NewWhistle {
    pub district_id: Uuid,
    pub street_id: Uuid,
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: WhistleReason,
    pub summary: String,
    pub departments: Vec<Uuid>,
    pub blown_by: Uuid,
}

fn summons_payload(s: &Summons) -> serde_json::Value {
    serde_json::json!({
        "summons": {
            "id": s.id, "whistle_id": s.whistle_id, "department_id": s.department_id,
            "street_id": s.street_id, "dispute_id": s.dispute_id, "case_id": s.case_id,
            "reason": s.reason, "state": s.state, "summoned_at": s.summoned_at,
            "deadline_at": s.deadline_at, "reported_at": s.reported_at,
            "overdue_at": s.overdue_at, "version": s.version,
        }
    })
}

async fn log(
    conn: &mut Conn,
    s: &Summons,
    step: &'static str,
    note: Option<String>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::insert_into(summons_actions::table)
        .values((
            summons_actions::street_id.eq(s.street_id),
            summons_actions::id.eq(Uuid::now_v7()),
            summons_actions::summons_id.eq(s.id),
            summons_actions::step.eq(step),
            summons_actions::note.eq(note),
            summons_actions::actor_id.eq(actor),
            summons_actions::at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Blows the whistle: the whistle, one summons per department with its
/// deadline, the worker's reminder and deadline jobs, and a webhook event
/// per summons. A whistled case is not routed to the departments: they
/// work the summons (the case stays with its handler).
pub async fn blow(
    conn: &mut Conn,
    n: NewWhistle,
    windows: Windows,
    at: DateTime<Utc>,
) -> StoreResult<(Whistle, Vec<Summons>)> {
    let whistle: Whistle = diesel::insert_into(whistles::table)
        .values((
            whistles::street_id.eq(n.street_id),
            whistles::id.eq(Uuid::now_v7()),
            whistles::district_id.eq(n.district_id),
            whistles::dispute_id.eq(n.dispute_id),
            whistles::case_id.eq(n.case_id),
            whistles::reason.eq(n.reason.as_str()),
            whistles::summary.eq(n.summary),
            whistles::status.eq("open"),
            whistles::department_ids.eq(&n.departments),
            whistles::blown_by.eq(n.blown_by),
            whistles::blown_at.eq(at),
        ))
        .returning(Whistle::as_returning())
        .get_result(conn)
        .await?;
    if let Some(dispute) = n.dispute_id {
        // The departments now see the dispute (and only those whistled to).
        diesel::sql_query(
            "UPDATE disputes SET summoned = ARRAY(SELECT DISTINCT unnest(summoned || $3) ORDER BY 1)
             WHERE street_id = $1 AND id = $2",
        )
        .bind::<diesel::sql_types::Uuid, _>(n.street_id)
        .bind::<diesel::sql_types::Uuid, _>(dispute)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&n.departments)
        .execute(conn)
        .await?;
    }
    let (deadline, remind) = report_in(n.reason, at, windows);
    let mut out = Vec::with_capacity(n.departments.len());
    for department in n.departments {
        let s: Summons = diesel::insert_into(summonses::table)
            .values((
                summonses::street_id.eq(n.street_id),
                summonses::id.eq(Uuid::now_v7()),
                summonses::whistle_id.eq(whistle.id),
                summonses::district_id.eq(n.district_id),
                summonses::department_id.eq(department),
                summonses::dispute_id.eq(n.dispute_id),
                summonses::case_id.eq(n.case_id),
                summonses::reason.eq(n.reason.as_str()),
                summonses::summoned_at.eq(at),
                summonses::remind_at.eq(remind),
                summonses::deadline_at.eq(deadline),
                summonses::state.eq(SummonsState::Summoned.as_str()),
            ))
            .returning(Summons::as_returning())
            .get_result(conn)
            .await?;
        for (kind, run_at) in [(REMIND, remind), (DEADLINE, deadline)] {
            jobs::enqueue(
                conn,
                NewJob {
                    queue: MEDIATION_QUEUE,
                    kind,
                    unique_key: Some(format!("{kind}:{}", s.id)),
                    district_id: Some(n.district_id),
                    street_id: Some(n.street_id),
                    payload: serde_json::json!({"summons_id": s.id}),
                    run_at,
                    max_attempts: 10,
                },
            )
            .await?;
        }
        crate::integrations::webhooks::emit(
            conn,
            n.district_id,
            n.street_id,
            "mediation.summoned",
            summons_payload(&s),
            at,
        )
        .await?;
        out.push(s);
    }
    Ok((whistle, out))
}

pub async fn get_whistle(conn: &mut Conn, id: Uuid) -> StoreResult<Whistle> {
    Ok(whistles::table
        .filter(whistles::id.eq(id))
        .select(Whistle::as_select())
        .first(conn)
        .await?)
}

/// Whistles by id (those visible to the caller).
pub async fn get_whistles(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<Whistle>> {
    Ok(whistles::table
        .filter(whistles::id.eq_any(ids))
        .select(Whistle::as_select())
        .load(conn)
        .await?)
}

/// Whistles visible to the caller, newest first.
pub async fn list_whistles(
    conn: &mut Conn,
    status: Option<String>,
    page: &PageRequest,
) -> StoreResult<Page<Whistle>> {
    let mut q = whistles::table
        .select(Whistle::as_select())
        .order(whistles::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(whistles::status.eq(s));
    }
    if let Some(after) = page.after {
        q = q.filter(whistles::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |w| w.id))
}

pub async fn summonses_of(conn: &mut Conn, w: &Whistle) -> StoreResult<Vec<Summons>> {
    Ok(summonses::table
        .filter(summonses::street_id.eq(w.street_id))
        .filter(summonses::whistle_id.eq(w.id))
        .select(Summons::as_select())
        .order(summonses::id)
        .load(conn)
        .await?)
}

/// Closes an open whistle at `version`; `None` if it moved or is closed.
pub async fn close_whistle(
    conn: &mut Conn,
    w: &Whistle,
    version: i32,
    at: DateTime<Utc>,
) -> StoreResult<Option<Whistle>> {
    Ok(diesel::update(
        whistles::table
            .filter(whistles::street_id.eq(w.street_id))
            .filter(whistles::id.eq(w.id))
            .filter(whistles::version.eq(version))
            .filter(whistles::status.eq("open")),
    )
    .set((
        whistles::status.eq("closed"),
        whistles::closed_at.eq(Some(at)),
        whistles::version.eq(whistles::version + 1),
    ))
    .returning(Whistle::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn get_summons(conn: &mut Conn, id: Uuid) -> StoreResult<Summons> {
    Ok(summonses::table
        .filter(summonses::id.eq(id))
        .select(Summons::as_select())
        .first(conn)
        .await?)
}

/// Filters of the summons list (a department's inbox).
#[derive(Debug, Clone, Default)]
pub struct SummonsFilter {
    /// Where the caller may read summonses: its streets, or its departments'.
    pub area: Area,
    pub state: Option<String>,
    pub department_id: Option<Uuid>,
    pub overdue: Option<bool>,
}

/// Summonses visible to the caller (department staff: their departments',
/// across the district), most urgent first: by deadline, then id.
pub async fn list_summonses(
    conn: &mut Conn,
    f: &SummonsFilter,
    page: &PageRequest,
) -> StoreResult<Page<Summons>> {
    let mut q = summonses::table
        .select(Summons::as_select())
        .order(summonses::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if !f.area.everywhere {
        q = q.filter(
            summonses::street_id
                .eq_any(f.area.streets.clone())
                .or(summonses::department_id.eq_any(f.area.departments.clone())),
        );
    }
    if let Some(s) = &f.state {
        q = q.filter(summonses::state.eq(s.clone()));
    }
    if let Some(d) = f.department_id {
        q = q.filter(summonses::department_id.eq(d));
    }
    match f.overdue {
        Some(true) => q = q.filter(summonses::overdue_at.is_not_null()),
        Some(false) => q = q.filter(summonses::overdue_at.is_null()),
        None => {}
    }
    if let Some(after) = page.after {
        q = q.filter(summonses::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |s| s.id))
}

pub async fn actions(conn: &mut Conn, s: &Summons) -> StoreResult<Vec<Action>> {
    Ok(summons_actions::table
        .filter(summons_actions::street_id.eq(s.street_id))
        .filter(summons_actions::summons_id.eq(s.id))
        .select(Action::as_select())
        .order(summons_actions::id)
        .load(conn)
        .await?)
}

/// Takes a department's step on a summons. The update is guarded on the
/// state the step starts from, so of two concurrent report-ins exactly one
/// wins; `None`: the step is not allowed from the current state.
pub async fn step(
    conn: &mut Conn,
    s: &Summons,
    step: SummonsStep,
    note: Option<String>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Option<Summons>> {
    let from = s.state();
    let Some(to) = step.apply(from) else {
        return Ok(None);
    };
    let target = summonses::table
        .filter(summonses::street_id.eq(s.street_id))
        .filter(summonses::id.eq(s.id))
        .filter(summonses::state.eq(from.as_str()));
    let bump = (
        summonses::state.eq(to.as_str()),
        summonses::version.eq(summonses::version + 1),
    );
    let updated: Option<Summons> = match step {
        SummonsStep::ReportIn => {
            diesel::update(target)
                .set((
                    bump,
                    summonses::reported_at.eq(Some(at)),
                    summonses::reported_by.eq(Some(actor)),
                ))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::OnSite => {
            diesel::update(target)
                .set((bump, summonses::on_site_at.eq(Some(at))))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::Done => {
            diesel::update(target)
                .set((bump, summonses::done_at.eq(Some(at))))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::Action => {
            diesel::update(target)
                .set(bump)
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
    }
    .optional()?;
    let Some(updated) = updated else {
        return Ok(None);
    };
    log(conn, &updated, step.as_str(), note, actor, at).await?;
    if step == SummonsStep::ReportIn {
        crate::integrations::webhooks::emit(
            conn,
            updated.district_id,
            updated.street_id,
            "mediation.reported_in",
            summons_payload(&updated),
            at,
        )
        .await?;
    }
    Ok(Some(updated))
}

/// The street's rating of a department's response (once; 10/8/6/3/0).
pub async fn rate(
    conn: &mut Conn,
    s: &Summons,
    score: i16,
    comment: Option<String>,
    by: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Option<Summons>> {
    let updated: Option<Summons> = diesel::update(
        summonses::table
            .filter(summonses::street_id.eq(s.street_id))
            .filter(summonses::id.eq(s.id))
            .filter(summonses::rated_at.is_null()),
    )
    .set((
        summonses::rating.eq(Some(score)),
        summonses::rating_comment.eq(comment.clone()),
        summonses::rated_by.eq(Some(by)),
        summonses::rated_at.eq(Some(at)),
        summonses::version.eq(summonses::version + 1),
    ))
    .returning(Summons::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if let Some(u) = &updated {
        log(conn, u, "rated", comment, by, at).await?;
    }
    Ok(updated)
}

/// What a reminder or deadline job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
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
            .filter(summonses::state.eq(SummonsState::Summoned.as_str()))
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
            .filter(summonses::state.eq(SummonsState::Summoned.as_str()))
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
