//! Filing a case: its number, reporter (sealed), first event and the clocks
//! its category starts on the district's working calendar.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::{NoWorkingTime, WorkCalendar};
use onegrid_domain::cases::{Kind, Status};
use onegrid_domain::channels::{Channel, ServiceMode};
use onegrid_domain::sla::{Budget, TierPolicy};
use onegrid_domain::sla::{ClockKind, Tier};
use uuid::Uuid;

use super::clocks::start_clock;
use super::events::{NewEvent, insert_event};
use super::{Actor, Case, ReporterField, reporter_slot};
use crate::crypto::FieldKeys;
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::schema::{case_links, case_reporters, cases};

/// A case to file.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub street_id: Uuid,
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
    pub location: Option<(f64, f64)>,
    pub service_mode: Option<ServiceMode>,
    pub resident_id: Option<Uuid>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// `(subject_type, id)` of residents, households and ledger records.
    pub links: Vec<(&'static str, Uuid)>,
}

/// The clocks a filed case starts with.
#[derive(Debug, Clone)]
pub struct Clocks<'a> {
    pub calendar: &'a WorkCalendar,
    pub policy: TierPolicy,
    /// The category's resolution clock, if it overrides the tier's.
    pub resolution: Option<Budget>,
}

pub(crate) fn calendar_error(e: NoWorkingTime) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Files a case: the row, its first event and its first-response and
/// resolution clocks, in the caller's transaction.
pub async fn file_case(
    conn: &mut Conn,
    keys: &FieldKeys,
    clocks: &Clocks<'_>,
    new: NewCase,
    actor: Actor,
    now: DateTime<Utc>,
) -> StoreResult<Case> {
    let id = Uuid::now_v7();
    let case: Case = diesel::insert_into(cases::table)
        .values((
            cases::street_id.eq(new.street_id),
            cases::id.eq(id),
            cases::district_id.eq(new.district_id),
            cases::community_id.eq(new.community_id),
            cases::grid_id.eq(new.grid_id),
            cases::parent_id.eq(new.parent_id),
            cases::kind.eq(new.kind),
            cases::channel.eq(new.channel),
            cases::category_id.eq(new.category_id),
            cases::tier.eq(new.tier),
            cases::title.eq(&new.title),
            cases::description.eq(&new.description),
            cases::extra.eq(&new.extra),
            cases::address.eq(&new.address),
            cases::lon.eq(new.location.map(|l| l.0)),
            cases::lat.eq(new.location.map(|l| l.1)),
            cases::service_mode.eq(new.service_mode),
            cases::resident_id.eq(new.resident_id),
            cases::created_at.eq(now),
            cases::updated_at.eq(now),
        ))
        .returning(Case::as_returning())
        .get_result(conn)
        .await?;
    if new.reporter_name.is_some() || new.reporter_phone.is_some() {
        let seal = |field, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| keys.seal(reporter_slot(case.street_id, case.id, field), v))
        };
        diesel::insert_into(case_reporters::table)
            .values((
                case_reporters::street_id.eq(case.street_id),
                case_reporters::case_id.eq(case.id),
                case_reporters::name_enc.eq(seal(ReporterField::Name, &new.reporter_name)),
                case_reporters::phone_enc.eq(seal(ReporterField::Phone, &new.reporter_phone)),
            ))
            .execute(conn)
            .await?;
    }
    if !new.links.is_empty() {
        let rows: Vec<_> = new
            .links
            .iter()
            .map(|(kind, subject)| {
                (
                    case_links::street_id.eq(case.street_id),
                    case_links::case_id.eq(case.id),
                    case_links::subject_type.eq(*kind),
                    case_links::subject_id.eq(*subject),
                )
            })
            .collect();
        diesel::insert_into(case_links::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    insert_event(
        conn,
        &case,
        1,
        NewEvent {
            step: "file",
            from: None,
            to: Status::Received,
            actor,
            reason: None,
            data: serde_json::json!({"channel": new.channel}),
            at: now,
        },
    )
    .await?;
    let resolution = clocks.resolution.unwrap_or(clocks.policy.resolution);
    start_clock(
        conn,
        clocks.calendar,
        &case,
        (ClockKind::Response, "首次响应", 0),
        clocks.policy.response,
        now,
    )
    .await?;
    start_clock(
        conn,
        clocks.calendar,
        &case,
        (ClockKind::Resolution, "办结", 0),
        resolution,
        now,
    )
    .await?;
    Ok(case)
}
