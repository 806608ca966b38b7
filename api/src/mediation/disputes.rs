//! Disputes (矛盾纠纷): record one with its parties, move it up the ladder
//! with a reason, attach the agreement, record mediation sessions and their
//! outcome, complete the follow-up visits; parties' phones are sealed, shown
//! masked and revealed only with a purpose (audited). Department staff see a
//! dispute only when it was whistled to their department, with names masked.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::Level;
use onegrid_domain::permissions::{Action, Area, area};
use onegrid_store::mediation::disputes::{self, Dispute, Event};
use onegrid_store::page::{Page, PageRequest};
use onegrid_store::targets::On;
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dispute_views::{DisputeSummary, DisputeView, detail, summary};
use super::disputes_use::{self, DisputeBody, DisputeRevealBody, PartyRevealed, Reveal, refused};
use super::on_summoned;
use crate::http::error::{ApiError, ApiResult};
use crate::http::{IfMatch, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Record a dispute
///
/// With its parties (residents of the registry, or persons and organisations
/// by name; phones sealed) and, if it came from a case, the case. It starts
/// at the grid (with a grid) or the community's mediation room.
#[utoipa::path(tag = "mediation", request_body = DisputeBody, responses((status = 201, body = DisputeView)))]
#[post("/disputes")]
pub async fn create_dispute(
    state: Data<AppState>,
    caller: Caller,
    body: Json<DisputeBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    disputes_use::check_body(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let on = match body.grid_id {
        Some(g) => On::Grid(g).named("grid_id"),
        None => On::Community(body.community_id.unwrap_or_default()).named("community_id"),
    };
    let view = state
        .checked(caller, Action::DisputeRecord, on, move |c, p, at| {
            Box::pin(async move {
                let d = disputes_use::record(c, &p, &st.keys, (at, now), body).await?;
                detail(&st, c, &p, d).await
            })
        })
        .await?;
    let location = format!("/api/v1/disputes/{}", view.id);
    Ok(crate::http::created_with_etag(
        location,
        &view,
        view.version,
    ))
}

/// Filters of the dispute list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisputeQuery {
    pub status: Option<onegrid_domain::mediation::Status>,
    /// grid, community, street or centre.
    pub level: Option<Level>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(DisputeQuery);

/// The disputes of the caller's area: staff read those of their scope,
/// department staff those whistled to their departments.
async fn list(
    c: &mut Conn,
    p: Principal,
    mut filter: disputes::Filter,
    page: PageRequest,
) -> ApiResult<Page<Dispute>> {
    filter.area = area(&p.grants, Action::DisputeRead).union(area(&p.grants, Action::SummonsRead));
    Ok(disputes::list(c, &filter, &page).await?)
}

/// List disputes
///
/// The disputes of the caller's scope (department staff: those whistled to
/// their department), newest first.
#[utoipa::path(tag = "mediation", params(DisputeQuery), responses((status = 200, body = Paged<DisputeSummary>)))]
#[get("/disputes")]
pub async fn list_disputes(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<DisputeQuery>,
) -> ApiResult<HttpResponse> {
    let filter = disputes::Filter {
        area: Area::default(),
        status: q.status,
        level: q.level,
        community_id: q.community_id,
        grid_id: q.grid_id,
    };
    // Department staff read the disputes whistled to their departments.
    let either = (
        (Action::DisputeRead, On::Anywhere),
        (Action::SummonsRead, On::Anywhere),
    );
    let rows = state
        .checked_either(caller, either, move |c, p, _| {
            Box::pin(list(c, p, filter, page))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, summary)))
}

/// Read a dispute
///
/// With its parties (phones masked; names masked for department staff),
/// sessions, documents and follow-up visits. The ETag is its version.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), responses((status = 200, body = DisputeView)))]
#[get("/disputes/{dispute_id}")]
pub async fn get_dispute(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = on_summoned(
        &state,
        caller,
        (Action::DisputeRead, Action::SummonsRead),
        move |c| Box::pin(disputes::get(c, id)),
        move |c, p, d| Box::pin(async move { detail(&st, c, &p, d).await }),
    )
    .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Why a dispute moves up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub reason: String,
}

/// Move a dispute up a level
///
/// Grid → community mediation room → street → centre, with a reason, under If-Match.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), request_body = EscalateBody, responses((status = 200, body = DisputeView)))]
#[post("/disputes/{dispute_id}/escalate")]
pub async fn escalate_dispute(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<EscalateBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "1 to 500 characters"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::DisputeRecord,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, p, d| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    let moved =
                        disputes::escalate(c, &d, version, reason, p.accountable_user(), now)
                            .await?
                            .map_err(refused)?;
                    detail(&st, c, &p, moved).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// A dispute's event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeEventView {
    pub step: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    pub reason: Option<String>,
    pub actor_id: Uuid,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

fn event_view(e: Event) -> DisputeEventView {
    DisputeEventView {
        step: e.step,
        from_level: e.from_level,
        to_level: e.to_level,
        reason: e.reason,
        actor_id: e.actor_id,
        data: e.data,
        at: e.at,
    }
}

/// A dispute's history
///
/// Every step (recorded, moved up, sessions, settled or referred, visits,
/// whistled) in order; it cannot be edited.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), responses((status = 200, body = Vec<DisputeEventView>)))]
#[get("/disputes/{dispute_id}/events")]
pub async fn dispute_events(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = state
        .on_row(
            caller,
            Action::DisputeRead,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, _, d| Box::pin(async move { Ok(disputes::events(c, &d).await?) }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(event_view).collect::<Vec<_>>()))
}

/// Reveal a party's phone
///
/// With a stated purpose; rate-limited and audited (the audit records who,
/// why and which party, never the number). Department staff only on
/// disputes whistled to their department.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("party_id" = Uuid, Path, description = "Party id")), request_body = DisputeRevealBody, responses((status = 200, body = PartyRevealed)))]
#[post("/disputes/{dispute_id}/parties/{party_id}/reveal")]
pub async fn reveal_party(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
    body: Json<DisputeRevealBody>,
) -> ApiResult<HttpResponse> {
    let ((id, party_id), body) = (ids.into_inner(), body.into_inner());
    crate::http::check_purpose(&body.purpose)?;
    let cmd = Reveal {
        party_id,
        purpose: body.purpose,
        request_id: crate::http::request_id::current(),
    };
    let st = state.clone();
    let revealed = on_summoned(
        &state,
        caller,
        (Action::DisputePartyReveal, Action::DisputePartyReveal),
        move |c| Box::pin(disputes::get(c, id)),
        move |c, p, d| {
            Box::pin(async move {
                let quota = (&st.keys, &*st.reveals);
                disputes_use::reveal(c, &p, quota, &d, cmd).await
            })
        },
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(revealed))
}
