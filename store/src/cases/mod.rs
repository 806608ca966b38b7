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
    pub street_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    pub district_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: Kind,
    pub channel: Channel,
    pub category_id: Uuid,
    pub tier: Tier,
    pub title: String,
    pub description: String,
    pub extra: serde_json::Value,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub service_mode: Option<ServiceMode>,
    pub status: Status,
    pub paused: bool,
    pub extension_requested: bool,
    pub park_requested: bool,
    pub escalation_level: i16,
    pub assignee_user_id: Option<Uuid>,
    pub assignee_department_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub rework_cycle: i16,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The reporter's fields, sealed to the case row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReporterField {
    Name,
    Phone,
}

impl ReporterField {
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
    pub street_id: Uuid,
    pub case_id: Uuid,
    pub name_enc: Option<Vec<u8>>,
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
    pub case_id: Uuid,
    pub cycle: i16,
    pub score: i16,
    pub comment: Option<String>,
    pub rated_by: Uuid,
    pub rated_by_kind: String,
    pub rated_at: DateTime<Utc>,
}

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

pub async fn get_case(conn: &mut Conn, id: Uuid) -> StoreResult<Case> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .select(Case::as_select())
        .first(conn)
        .await?)
}
