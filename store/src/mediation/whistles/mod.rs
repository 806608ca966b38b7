//! 街道吹哨, 部门报到: the street summons departments of the district's
//! mediation panel on a dispute or a case; each summons has a report-in
//! deadline (minutes for emergencies, hours otherwise), a reminder half way
//! and an overdue mark at the deadline, both set once by the worker; the
//! department reports in, goes on site, records actions and finishes; the
//! street rates each department afterwards.

mod reminders;
mod summons_steps;

pub use reminders::{Fired, deadline, remind};
pub use summons_steps::{SummonsFilter, actions, get_summons, list_summonses, rate, step};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{SummonsState, WhistleReason, WhistleStatus, Windows, report_in};
use onegrid_domain::permissions::Area;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::integrations::job_kinds::{JobKind, ReportInDeadline, ReportInReminder};
use crate::integrations::jobs::{self, NewJob};
use crate::page::{Page, PageRequest};
use crate::schema::{departments, mediation_settings, summons_actions, summonses, whistles};

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

/// A district's mediation settings: its panel of departments and its report-in windows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mediation_settings)]
pub struct Settings {
    /// The district.
    pub district_id: Uuid,
    /// Minutes an emergency summons allows to report in (5 to 240; default 30).
    pub emergency_minutes: i32,
    /// Hours any other summons allows to report in (1 to 72; default 4).
    pub other_hours: i32,
    /// The departments on the joint mediation panel (nine by default, see [`DEFAULT_PANEL`]).
    pub panel: Vec<Uuid>,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Settings {
    /// The report-in windows, for [`report_in`].
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

/// 街道吹哨: the street summoning departments on a dispute or a case.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = whistles)]
pub struct Whistle {
    /// The street that blew it.
    pub street_id: Uuid,
    /// The whistle's id (UUIDv7, time-ordered).
    pub id: Uuid,
    /// The street's district.
    pub district_id: Uuid,
    /// The dispute it was blown on; exactly one of `dispute_id` and `case_id` is set.
    pub dispute_id: Option<Uuid>,
    /// The case it was blown on; exactly one of `dispute_id` and `case_id` is set.
    pub case_id: Option<Uuid>,
    /// Why: `pressing`, `joint_enforcement` or `emergency` (a `WhistleReason` name).
    pub reason: String,
    /// What the departments are called for, 1 to 500 characters.
    pub summary: String,
    /// Open while the departments work; closed by the street.
    pub status: WhistleStatus,
    /// The departments summoned (one summons each).
    pub department_ids: Vec<Uuid>,
    /// The user who blew it.
    pub blown_by: Uuid,
    /// When it was blown.
    pub blown_at: DateTime<Utc>,
    /// When it was closed; set exactly when it is closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-locking version, bumped by every change.
    pub version: i32,
}

/// 部门报到: one summoned department's summons, with its report-in deadline and steps.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = summonses)]
pub struct Summons {
    /// The whistle's street.
    pub street_id: Uuid,
    /// The summons's id (UUIDv7).
    pub id: Uuid,
    /// The whistle that summoned.
    pub whistle_id: Uuid,
    /// The district (for the department's key).
    pub district_id: Uuid,
    /// The department summoned.
    pub department_id: Uuid,
    /// The whistle's dispute, if it was blown on one.
    pub dispute_id: Option<Uuid>,
    /// The whistle's case, if it was blown on one.
    pub case_id: Option<Uuid>,
    /// The whistle's reason (a `WhistleReason` name), which set the deadline.
    pub reason: String,
    /// When the whistle was blown.
    pub summoned_at: DateTime<Utc>,
    /// When the worker reminds the department if it has not reported in (half way).
    pub remind_at: DateTime<Utc>,
    /// When the department must have reported in (报到) by.
    pub deadline_at: DateTime<Utc>,
    /// Summoned, reported in, on site or done.
    pub state: SummonsState,
    /// When the department reported in; `None` while only summoned.
    pub reported_at: Option<DateTime<Utc>>,
    /// The department's staff member who reported in.
    pub reported_by: Option<Uuid>,
    /// When its people arrived on site, if they have.
    pub on_site_at: Option<DateTime<Utc>>,
    /// When the department finished its part, if it has.
    pub done_at: Option<DateTime<Utc>>,
    /// When the worker sent the reminder; set once, `None` if none was needed.
    pub reminded_at: Option<DateTime<Utc>>,
    /// When the worker marked it overdue (no report-in by the deadline); set once.
    pub overdue_at: Option<DateTime<Utc>>,
    /// When the worker escalated it to the district and street admins; set once, with
    /// `overdue_at`.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The street's rating of the department: 10, 8, 6, 3 or 0; `None` until rated.
    pub rating: Option<i16>,
    /// The rating's comment, up to 500 characters, if any.
    pub rating_comment: Option<String>,
    /// The user who rated it.
    pub rated_by: Option<Uuid>,
    /// When it was rated; set exactly when `rating` is.
    pub rated_at: Option<DateTime<Utc>>,
    /// Optimistic-locking version, bumped by every step.
    pub version: i32,
}

/// One entry of a summons's append-only log: a department's step or the worker's.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = summons_actions)]
pub struct Action {
    /// The summons's street.
    pub street_id: Uuid,
    /// The entry's id (UUIDv7, so id order is time order).
    pub id: Uuid,
    /// The summons.
    pub summons_id: Uuid,
    /// `report_in`, `on_site`, `action`, `done`, `rated`, or the worker's `reminded`,
    /// `overdue` and `escalated`.
    pub step: String,
    /// What was done or said, up to 2,000 characters, if noted.
    pub note: Option<String>,
    /// The user who acted; the nil id for the worker.
    pub actor_id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A whistle to blow.
#[derive(Debug, Clone)]
pub struct NewWhistle {
    /// The district.
    pub district_id: Uuid,
    /// The street blowing it.
    pub street_id: Uuid,
    /// The dispute it is blown on (exactly one of this and `case_id`).
    pub dispute_id: Option<Uuid>,
    /// The case it is blown on (exactly one of this and `dispute_id`).
    pub case_id: Option<Uuid>,
    /// Why; an emergency gets the short window.
    pub reason: WhistleReason,
    /// What the departments are called for, 1 to 500 characters.
    pub summary: String,
    /// The departments to summon (from the district's panel).
    pub departments: Vec<Uuid>,
    /// The user blowing it.
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
            whistles::status.eq(WhistleStatus::Open),
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
                summonses::state.eq(SummonsState::Summoned),
            ))
            .returning(Summons::as_returning())
            .get_result(conn)
            .await?;
        let summons_id = s.id;
        let clock = [
            NewJob::of(&ReportInReminder { summons_id }, remind)?
                .unique(format!("{}:{summons_id}", ReportInReminder::NAME)),
            NewJob::of(&ReportInDeadline { summons_id }, deadline)?
                .unique(format!("{}:{summons_id}", ReportInDeadline::NAME)),
        ];
        for job in clock {
            jobs::enqueue(conn, job.for_tenant(n.district_id, Some(n.street_id))).await?;
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

/// One whistle visible to the caller.
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

/// Whistles of `area` (its streets', and those that summoned its
/// departments), newest first: filtered before the limit, so a page is full
/// while more exist.
pub async fn list_whistles(
    conn: &mut Conn,
    area: &Area,
    status: Option<WhistleStatus>,
    page: &PageRequest,
) -> StoreResult<Page<Whistle>> {
    let mut q = whistles::table
        .select(Whistle::as_select())
        .order(whistles::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if !area.everywhere {
        let summoned = summonses::table
            .filter(summonses::department_id.eq_any(area.departments.clone()))
            .select(summonses::whistle_id);
        q = q.filter(
            whistles::street_id
                .eq_any(area.streets.clone())
                .or(whistles::id.eq_any(summoned)),
        );
    }
    if let Some(s) = status {
        q = q.filter(whistles::status.eq(s));
    }
    if let Some(after) = page.after {
        q = q.filter(whistles::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |w| w.id))
}

/// The summonses of `list`, in one statement whatever its length.
pub async fn summonses_of(conn: &mut Conn, list: &[Whistle]) -> StoreResult<Vec<Summons>> {
    let streets: Vec<Uuid> = list.iter().map(|w| w.street_id).collect();
    let ids: Vec<Uuid> = list.iter().map(|w| w.id).collect();
    Ok(summonses::table
        .filter(summonses::street_id.eq_any(streets))
        .filter(summonses::whistle_id.eq_any(ids))
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
            .filter(whistles::status.eq(WhistleStatus::Open)),
    )
    .set((
        whistles::status.eq(WhistleStatus::Closed),
        whistles::closed_at.eq(Some(at)),
        whistles::version.eq(whistles::version + 1),
    ))
    .returning(Whistle::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}
