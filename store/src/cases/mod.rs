//! Cases: filing, the guarded step that moves one through its lifecycle with
//! an append-only event, the SLA clocks each step starts, pauses, extends or
//! stops, and the work lists.

pub mod appointments;
pub mod calendar_years;
mod clocks;
pub mod deadlines;
mod events;
mod filing;
pub mod kpis;
pub mod setup;
mod steps;
mod work_lists;

pub use clocks::{CaseClock, clocks_of, sla_job_key};
pub use events::{CaseEvent, NewEvent, append_event, events_of, links_of};
pub use filing::{Clocks, NewCase, file_case};
pub use steps::{CaseChanges, StepWrite, complete_milestone, note, record_step};
pub use work_lists::{CaseFilter, Reach, count_cases, list_cases};

use chrono::{DateTime, Utc};
use diesel::dsl::not;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::cases::{Kind, State, Status};
use onegrid_domain::channels::{Channel, ServiceMode};
use onegrid_domain::sla::Tier;
use uuid::Uuid;

use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{case_ratings, case_reporters, cases};

/// A case row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct Case {
    /// The case's street.
    pub street_id: Uuid,
    /// The case's id (UUIDv7, time-ordered).
    pub id: Uuid,
    /// Its number, from one platform-wide sequence, unique in the street (shown to people).
    pub number: i64,
    /// The district (for the category and department keys).
    pub district_id: Uuid,
    /// The community it was filed in.
    pub community_id: Uuid,
    /// The grid it was filed in.
    pub grid_id: Uuid,
    /// The case a task was split from, or the bundle it belongs to; `None` for a top-level case.
    pub parent_id: Option<Uuid>,
    /// A case, a task split from one, or a bundle of services.
    pub kind: Kind,
    /// How it came in (面对面, suggestion box, app, patrol, meeting or hotline).
    pub channel: Channel,
    /// Its category in the district's catalogue.
    pub category_id: Uuid,
    /// Its SLA tier (from the category unless overridden), which sets its clocks.
    pub tier: Tier,
    /// A short title, 1 to 200 characters.
    pub title: String,
    /// What the resident needs, 1 to 5,000 characters.
    pub description: String,
    /// The category's extra fields, a JSON object keyed by field key (`{}` when none).
    pub extra: serde_json::Value,
    /// Where it is, up to 200 characters, if given.
    pub address: Option<String>,
    /// Longitude (WGS 84, -180 to 180), if located.
    pub lon: Option<f64>,
    /// Latitude (WGS 84, -90 to 90), if located.
    pub lat: Option<f64>,
    /// How the service is delivered (五种方式), once chosen.
    pub service_mode: Option<ServiceMode>,
    /// Where it stands in its lifecycle.
    pub status: Status,
    /// Waiting for the resident: its clocks are paused.
    pub paused: bool,
    /// An extension (申请延期) awaits a decision.
    pub extension_requested: bool,
    /// Parking (申请挂账) awaits approval.
    pub park_requested: bool,
    /// How far it has been escalated: 0 grid, 1 community, 2 street, 3 departments.
    pub escalation_level: i16,
    /// The staff member it is dispatched to, if any.
    pub assignee_user_id: Option<Uuid>,
    /// The department it is dispatched to, if any (its staff then see the case).
    pub assignee_department_id: Option<Uuid>,
    /// The resident it concerns, if one of the registry.
    pub resident_id: Option<Uuid>,
    /// Handling cycles after the first: a bad rating or a reopen starts another (0 at first).
    pub rework_cycle: i16,
    /// When it was resolved (办结); `None` until then.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was closed (结案); `None` until then.
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-locking version, bumped by every step.
    pub version: i32,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The reporter's fields, sealed to the case row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReporterField {
    /// The reporter's name.
    Name,
    /// The reporter's phone.
    Phone,
}

impl ReporterField {
    /// The column the field is sealed under: `reporter_name` or `reporter_phone`.
    pub const fn column(self) -> &'static str {
        match self {
            ReporterField::Name => "reporter_name",
            ReporterField::Phone => "reporter_phone",
        }
    }
}

fn reporter_slot(street_id: Uuid, row_id: Uuid, field: ReporterField) -> Slot<'static> {
    Slot {
        street_id,
        table: "cases",
        column: field.column(),
        row_id,
    }
}

impl Case {
    /// The lifecycle's view of the case.
    pub fn state(&self) -> State {
        State {
            status: self.status,
            paused: self.paused,
            extension_requested: self.extension_requested,
            park_requested: self.park_requested,
        }
    }
}

/// A case's sealed reporter.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_reporters)]
pub struct Reporter {
    /// The case's street.
    pub street_id: Uuid,
    /// The case reported.
    pub case_id: Uuid,
    /// The name, sealed to the case row; `None` if not given.
    pub name_enc: Option<Vec<u8>>,
    /// The phone, sealed to the case row; `None` if not given.
    pub phone_enc: Option<Vec<u8>>,
}

impl Reporter {
    /// Opens a sealed field. Callers mask it, or audit the reveal.
    pub fn open(
        &self,
        keys: &FieldKeys,
        field: ReporterField,
    ) -> Result<Option<String>, crate::crypto::CryptoError> {
        let sealed = match field {
            ReporterField::Name => &self.name_enc,
            ReporterField::Phone => &self.phone_enc,
        };
        sealed
            .as_deref()
            .map(|s| keys.open(reporter_slot(self.street_id, self.case_id, field), s))
            .transpose()
    }
}

/// The reporter of a case, if one was recorded.
pub async fn reporter_of(conn: &mut Conn, case: &Case) -> StoreResult<Option<Reporter>> {
    Ok(case_reporters::table
        .filter(case_reporters::street_id.eq(case.street_id))
        .filter(case_reporters::case_id.eq(case.id))
        .select(Reporter::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The recorded reporters of several cases.
pub async fn reporters_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<Reporter>> {
    Ok(case_reporters::table
        .filter(case_reporters::case_id.eq_any(case_ids))
        .select(Reporter::as_select())
        .load(conn)
        .await?)
}

/// A rating of one handling cycle.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_ratings)]
pub struct Rating {
    /// The case rated.
    pub case_id: Uuid,
    /// The handling cycle rated (the case's `rework_cycle` at the time).
    pub cycle: i16,
    /// The score: 10, 8, 6, 3 or 0 (3 or 0 reopens the case for rework).
    pub score: i16,
    /// The resident's words, up to 500 characters, if any.
    pub comment: Option<String>,
    /// The user or API key that recorded the rating.
    pub rated_by: Uuid,
    /// `user` or `api_key`: what `rated_by` names.
    pub rated_by_kind: String,
    /// When it was rated.
    pub rated_at: DateTime<Utc>,
}

/// The ratings of the cases of `case_ids`, by case and cycle.
pub async fn ratings_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<Rating>> {
    Ok(case_ratings::table
        .filter(case_ratings::case_id.eq_any(case_ids))
        .select(Rating::as_select())
        .order((case_ratings::case_id, case_ratings::cycle))
        .load(conn)
        .await?)
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user's or API key's id; the nil id for the system (the worker).
    pub id: Uuid,
    /// `user`, `api_key` or `system`.
    pub kind: &'static str,
}

/// The tasks a case was decomposed into (or the services of a bundle).
pub async fn children(conn: &mut Conn, case: &Case) -> StoreResult<Vec<Case>> {
    Ok(cases::table
        .filter(cases::street_id.eq(case.street_id))
        .filter(cases::parent_id.eq(case.id))
        .select(Case::as_select())
        .order(cases::id)
        .load(conn)
        .await?)
}

/// How many of a case's tasks are still open (not resolved, closed or rejected).
pub async fn open_children(conn: &mut Conn, case: &Case) -> StoreResult<i64> {
    Ok(cases::table
        .filter(cases::street_id.eq(case.street_id))
        .filter(cases::parent_id.eq(case.id))
        .filter(not(cases::status.eq_any([
            Status::Resolved,
            Status::Closed,
            Status::Rejected,
        ])))
        .count()
        .get_result(conn)
        .await?)
}

/// The numbers of the cases of `ids` the scope shows, by id, in one statement.
pub async fn numbers_of(
    conn: &mut Conn,
    ids: &[Uuid],
) -> StoreResult<std::collections::HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = cases::table
        .filter(cases::id.eq_any(ids))
        .select((cases::id, cases::number))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// One case visible to the caller.
pub async fn get_case(conn: &mut Conn, id: Uuid) -> StoreResult<Case> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .select(Case::as_select())
        .first(conn)
        .await?)
}
