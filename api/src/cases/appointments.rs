//! Appointment slots (预约) offered by a community or grid - off-hours ones
//! (错时) marked from the working calendar - and the booking of a case into
//! one: the case's service mode follows, and a full slot refuses.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::cases::appointments::{self, Slot, SlotFilter};
use onegrid_store::registry::hierarchy::{self};
use onegrid_store::targets::On;
use onegrid_store::{cases, cases::setup};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cases::appointments_use;
use crate::cases::appointments_use::NewSlotBody;
use crate::cases::service::actor;
use crate::cases::views::{CaseView, created, load_view, view};
use crate::http::error::{ApiError, ApiResult};
use crate::http::{IdempotencyKey, IfMatch, Paged};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i16,
    pub booked: i16,
    /// 错时: some of it lies outside working hours on the working calendar.
    pub off_hours: bool,
    pub place: Option<String>,
}

fn slot_view(s: &Slot) -> SlotView {
    SlotView {
        id: s.id,
        community_id: s.community_id,
        grid_id: s.grid_id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        capacity: s.capacity,
        booked: s.booked,
        off_hours: s.off_hours,
        place: s.place.clone(),
    }
}

/// Offer an appointment slot
///
/// A time a community (or one of its grids) can serve residents by
/// appointment. Slots partly outside working hours on the district's working
/// calendar are marked off-hours (错时).
#[utoipa::path(tag = "cases", params(("community_id" = Uuid, Path, description = "Community id")), request_body = NewSlotBody, responses((status = 201, body = SlotView)))]
#[post("/communities/{community_id}/appointment-slots")]
pub async fn create_slot(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewSlotBody>,
) -> ApiResult<HttpResponse> {
    let community_id = id.into_inner();
    let body = body.into_inner();
    appointments_use::check_slot(&body, state.clock.now())?;
    let hash = crate::http::request_hash(&serde_json::json!((community_id, &body)));
    // A community's slot is proven on the community; a grid's on its grid,
    // once the grid is known to be the community's.
    let on = match body.grid_id {
        Some(_) => On::Anywhere,
        None => On::Community(community_id),
    };
    state
        .create(
            caller,
            (Action::CaseTriage, on),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let slot = appointments_use::offer_slot(c, &p, community_id, body).await?;
                    let location = format!("/api/v1/communities/{community_id}/appointment-slots");
                    Created::new(slot_view(&slot), location, None)
                })
            },
        )
        .await
}

/// Filters of a slot list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlotQuery {
    /// Slots starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Slots starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only slots with a free place.
    pub available: Option<bool>,
    pub off_hours: Option<bool>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(SlotQuery);

/// List appointment slots
///
/// A community's slots, optionally only free ones, in a time window, or only
/// off-hours ones.
#[utoipa::path(tag = "cases", params(("community_id" = Uuid, Path, description = "Community id"), SlotQuery), responses((status = 200, body = Paged<SlotView>)))]
#[get("/communities/{community_id}/appointment-slots")]
pub async fn list_slots(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(q, page): Listed<SlotQuery>,
) -> ApiResult<HttpResponse> {
    let community_id = id.into_inner();
    let filter = SlotFilter {
        from: q.from,
        to: q.to,
        available: q.available == Some(true),
        off_hours: q.off_hours,
    };
    let rows = state
        .checked(caller, Action::CaseRead, On::Anywhere, move |c, _, _| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, community_id).await?;
                Ok(appointments::list_slots(c, community.id, &filter, &page).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |s| slot_view(&s))))
}

/// A booking request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    pub slot_id: Uuid,
}

/// Book an appointment for a case
///
/// Takes a place in a slot of the case's community for an open case; the
/// case's service mode becomes `appointment` (`off_hours` for an off-hours
/// slot). A full slot is 409; a case holds one booking at a time. Requires
/// `If-Match`; the booking is an event of the case.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = BookBody, responses((status = 201, body = CaseView)))]
#[post("/cases/{case_id}/appointment")]
pub async fn book(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<BookBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let hash =
        crate::http::request_hash(&serde_json::json!((id, &body, if_match.0.map(|v| v.ok()))));
    let st = state.clone();
    let now = state.clock.now();
    state
        .create(
            caller,
            (Action::CaseWork, On::Case(id)),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let case = cases::get_case(c, id).await?;
                    let read = (case, if_match.version()?);
                    let case = appointments_use::book(c, &p, read, body.slot_id, now).await?;
                    let location = format!("/api/v1/cases/{}/events", case.id);
                    created(&st, c, case, now, location).await
                })
            },
        )
        .await
}

/// Cancel a case's appointment
///
/// Frees the place. Requires `If-Match`; the cancellation is an event.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("If-Match" = String, Header, description = "ETag of the last read")), responses((status = 200, body = CaseView)))]
#[delete("/cases/{case_id}/appointment")]
pub async fn cancel(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .on_row(
            caller,
            Action::CaseWork,
            move |c| Box::pin(cases::get_case(c, id)),
            move |c, p, case| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    let booking = appointments::active_booking(c, case.street_id, case.id)
                        .await?
                        .ok_or_else(ApiError::not_found)?;
                    appointments::cancel(c, case.street_id, &booking, now).await?;
                    let calendar = setup::calendar(c, case.district_id).await?;
                    let write = cases::note(
                        &case,
                        "cancel_appointment",
                        actor(&p),
                        serde_json::json!({"slot_id": booking.slot_id, "booking_id": booking.id}),
                        now,
                        &calendar,
                    );
                    let updated = cases::record_step(c, &case, version, write).await?;
                    load_view(&st, c, updated).await
                })
            },
        )
        .await?;
    let version = loaded.case.version;
    Ok(crate::http::ok_with_etag(&view(loaded, now), version))
}
