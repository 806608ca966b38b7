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
    /// The street of the case's grid (the RLS key).
    pub street_id: Uuid,
    /// The district that runs the deployment for the street.
    pub district_id: Uuid,
    /// The community of the case's grid.
    pub community_id: Uuid,
    /// The grid the case is filed in.
    pub grid_id: Uuid,
    /// The case a task or bundle item belongs to; `None` for a resident need.
    pub parent_id: Option<Uuid>,
    /// A need, or a task split from one.
    pub kind: Kind,
    /// How it reached the community (face to face, suggestion box, app...).
    pub channel: Channel,
    /// The category of the district's catalogue.
    pub category_id: Uuid,
    /// How urgent it is; decides the default clocks.
    pub tier: Tier,
    /// A short title, as staff see it in lists.
    pub title: String,
    /// What the resident asked for, in their words.
    pub description: String,
    /// The category's extra fields, checked against its definitions.
    pub extra: serde_json::Value,
    /// Where, in words.
    pub address: Option<String>,
    /// Where, as (longitude, latitude) in WGS 84.
    pub location: Option<(f64, f64)>,
    /// The mode of service (home visit, appointment, proxy...), once chosen.
    pub service_mode: Option<ServiceMode>,
    /// The resident concerned, when known.
    pub resident_id: Option<Uuid>,
    /// The reporter's name, stored sealed.
    pub reporter_name: Option<String>,
    /// The reporter's phone, normalised and stored sealed.
    pub reporter_phone: Option<String>,
    /// `(subject_type, id)` of residents, households and ledger records.
    pub links: Vec<(&'static str, Uuid)>,
}

/// The clocks a filed case starts with.
#[derive(Debug, Clone)]
pub struct Clocks<'a> {
    /// The district's working calendar the clocks count on.
    pub calendar: &'a WorkCalendar,
    /// The tier's response and resolution budgets.
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
