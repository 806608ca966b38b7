//! The use cases of appointments (预约): a slot offered by a community or one
//! of its grids, marked off-hours (错时) from the working calendar, and a case
//! booked into one. They know no HTTP.

use chrono::{DateTime, Duration, Utc};
use onegrid_domain::calendar::Basis;
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::permissions::Action;
use onegrid_store::cases::appointments::{self, NewSlot, Slot};
use onegrid_store::cases::{self, Case};
use onegrid_store::registry::hierarchy::{self, Community};
use onegrid_store::targets;
use onegrid_store::{Conn, Principal, cases::setup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::service::actor;
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// A slot to offer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSlotBody {
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 12 hours later.
    pub ends_at: DateTime<Utc>,
    /// 1-100 bookings.
    #[schema(minimum = 1, maximum = 100)]
    pub capacity: i16,
    #[schema(max_length = 200)]
    pub place: Option<String>,
    /// Offer it for one grid of the community.
    pub grid_id: Option<Uuid>,
}

/// A slot's own rules: it lasts up to 12 hours and has not begun at `now`.
pub fn check_slot(body: &NewSlotBody, now: DateTime<Utc>) -> ApiResult<()> {
    let length = body.ends_at - body.starts_at;
    if length <= Duration::zero() || length > Duration::hours(12) {
        return Err(ApiError::field(
            "ends_at",
            "after starts_at, at most 12 hours later",
        ));
    }
    if body.starts_at <= now {
        return Err(ApiError::field("starts_at", "in the future"));
    }
    Ok(())
}

/// Offers `body`'s slot in community `community_id` (or the grid of it that
/// it names, where `p` must be able to triage), off-hours when part of it
/// lies outside working hours on the district's calendar.
pub async fn offer_slot(
    c: &mut Conn,
    p: &Principal,
    community_id: Uuid,
    body: NewSlotBody,
) -> ApiResult<Slot> {
    let community = hierarchy::get_community(c, community_id).await?;
    if let Some(g) = body.grid_id {
        triage_in_grid_of(c, p, &community, g).await?;
    }
    let calendar = setup::calendar(c, p.district_id).await?;
    let working = calendar.elapsed(Basis::Working, body.starts_at, body.ends_at);
    let length = body.ends_at - body.starts_at;
    let slot = appointments::create_slot(
        c,
        NewSlot {
            street_id: community.street_id,
            community_id: community.id,
            grid_id: body.grid_id,
            starts_at: body.starts_at,
            ends_at: body.ends_at,
            capacity: body.capacity,
            off_hours: working < length.num_minutes(),
            place: body.place,
            created_by: p.accountable_user(),
        },
    )
    .await?;
    Ok(slot)
}

/// The grid a slot is offered for: one of `community`'s, where the caller
/// may triage.
async fn triage_in_grid_of(
    c: &mut Conn,
    p: &Principal,
    community: &Community,
    grid_id: Uuid,
) -> ApiResult<()> {
    let grid = hierarchy::get_grid(c, grid_id)
        .await
        .map_err(reference("grid_id"))?;
    if grid.community_id != community.id {
        return Err(ApiError::field("grid_id", "not a grid of this community"));
    }
    p.require(Action::CaseTriage, &targets::grid(c, p, grid_id).await?)?;
    Ok(())
}

/// Books `case`, read at `version` and still open, into a slot of its
/// community that has not begun and has a free place; the case's service
/// mode follows the slot. Returns the case as it is now.
pub async fn book(
    c: &mut Conn,
    p: &Principal,
    (case, version): (Case, i32),
    slot_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Case> {
    if version != case.version {
        return Err(onegrid_store::StoreError::VersionMismatch {
            current: case.version,
        }
        .into());
    }
    if !case.status.is_open() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("the case is {}", case.status),
        ));
    }
    let slot = appointments::get_slot(c, slot_id)
        .await
        .map_err(reference("slot_id"))?;
    if slot.community_id != case.community_id {
        return Err(ApiError::field(
            "slot_id",
            "not a slot of the case's community",
        ));
    }
    if slot.starts_at <= now {
        return Err(ApiError::field("slot_id", "this slot has begun"));
    }
    let booking = appointments::book(c, &slot, case.id, p.accountable_user(), now)
        .await?
        .ok_or_else(|| ApiError::new(Code::Conflict, "this slot is full"))?;
    let mode = if slot.off_hours {
        ServiceMode::OffHours
    } else {
        ServiceMode::Appointment
    };
    let calendar = setup::calendar(c, case.district_id).await?;
    let mut write = cases::note(
        &case,
        "book_appointment",
        actor(p),
        serde_json::json!({"slot_id": slot.id, "booking_id": booking.id,
            "starts_at": slot.starts_at, "off_hours": slot.off_hours}),
        now,
        &calendar,
    );
    write.changes.service_mode = Some(Some(mode));
    Ok(cases::record_step(c, &case, version, write).await?)
}
