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
    pub status: WhistleStatus,
    pub department_ids: Vec<Uuid>,
    pub blown_by: Uuid,
    pub blown_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
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
    pub state: SummonsState,
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
