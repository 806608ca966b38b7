//! 街道吹哨: a street officer blows the whistle on a dispute or case and
//! summons panel departments; the whistle is closed when its work is done.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::WhistleStatus;
use onegrid_domain::permissions::{Action, area};
use onegrid_store::mediation::whistles::{self, Whistle};
use onegrid_store::page::Page;
use onegrid_store::targets::On;
use onegrid_store::{Conn, Principal, StoreError, cases, mediation::disputes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::on_summoned;
use super::summonses::{SummonsView, summons_views};
use super::whistles_use::{self, WhistleBody};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IfMatch, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A whistle with its summonses.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhistleView {
    pub id: Uuid,
    pub street_id: Uuid,
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: String,
    pub summary: String,
    /// open or closed.
    pub status: WhistleStatus,
    pub blown_by: Uuid,
    pub blown_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub summonses: Vec<SummonsView>,
    pub version: i32,
}

async fn whistle_view(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    w: Whistle,
) -> ApiResult<WhistleView> {
    let mut views = whistle_views(state, c, p, vec![w]).await?;
    views.pop().ok_or_else(|| StoreError::NotFound.into())
}

/// The views of `list` with their summonses, in a fixed number of
/// statements whatever its length.
async fn whistle_views(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    list: Vec<Whistle>,
) -> ApiResult<Vec<WhistleView>> {
    let found = whistles::summonses_of(c, &list).await?;
    let mut summonses = summons_views(state, c, p, found).await?;
    Ok(list
        .into_iter()
        .map(|w| {
            let (mine, rest) = summonses.drain(..).partition(|s| s.whistle_id == w.id);
            summonses = rest;
            WhistleView {
                id: w.id,
                street_id: w.street_id,
                dispute_id: w.dispute_id,
                case_id: w.case_id,
                reason: w.reason,
                summary: w.summary,
                status: w.status,
                blown_by: w.blown_by,
                blown_at: w.blown_at,
                closed_at: w.closed_at,
                summonses: mine,
                version: w.version,
            }
        })
        .collect())
}

/// Blows the whistle on a dispute the caller may reach.
async fn on_dispute(
    state: &Data<AppState>,
    caller: Caller,
    id: Uuid,
    body: WhistleBody,
) -> ApiResult<WhistleView> {
    let (now, st) = (state.clock.now(), state.clone());
    state
        .on_named_row(
            caller,
            Action::WhistleBlow,
            ("dispute_id", move |c| Box::pin(disputes::get(c, id))),
            move |c, p, d| {
                Box::pin(async move {
                    let w = whistles_use::on_dispute(c, &p, d, body, now).await?;
                    whistle_view(&st, c, &p, w).await
                })
            },
        )
        .await
}

/// Blows the whistle on a case the caller may reach.
async fn on_case(
    state: &Data<AppState>,
    caller: Caller,
    body: WhistleBody,
) -> ApiResult<WhistleView> {
    let (now, st) = (state.clock.now(), state.clone());
    let id = body.case_id.unwrap_or_default();
    state
        .on_named_row(
            caller,
            Action::WhistleBlow,
            ("case_id", move |c| Box::pin(cases::get_case(c, id))),
            move |c, p, case| {
                Box::pin(async move {
                    let w = whistles_use::on_case(c, &p, case, body, now).await?;
                    whistle_view(&st, c, &p, w).await
                })
            },
        )
        .await
}

/// Blow the whistle (街道吹哨)
///
/// A street officer summons departments of the district's mediation panel
/// on one of the street's open disputes (once it has reached the street) or
/// open cases. Each department must report in by its deadline: 30 minutes
/// for an emergency, hours otherwise (the district's settings). The worker
/// reminds them half way and marks a missed deadline once, escalating it to
/// the district; integrators get `mediation.summoned` per department.
#[utoipa::path(tag = "mediation", request_body = WhistleBody, responses((status = 201, body = WhistleView)))]
#[post("/whistles")]
pub async fn blow_whistle(
    state: Data<AppState>,
    caller: Caller,
    body: Json<WhistleBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    whistles_use::check_body(&body)?;
    let view = match body.dispute_id {
        Some(id) => on_dispute(&state, caller, id, body).await?,
        None => on_case(&state, caller, body).await?,
    };
    let location = format!("/api/v1/whistles/{}", view.id);
    Ok(crate::http::created_with_etag(
        location,
        &view,
        view.version,
    ))
}

/// Filters of the whistle list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WhistleQuery {
    pub status: Option<WhistleStatus>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(WhistleQuery);

/// List whistles
///
/// The street's (street officers), the district's (district admins), or
/// those that summoned one's department (department staff); newest first.
#[utoipa::path(tag = "mediation", params(WhistleQuery), responses((status = 200, body = Paged<WhistleView>)))]
#[get("/whistles")]
pub async fn list_whistles(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<WhistleQuery>,
) -> ApiResult<HttpResponse> {
    let st = state.clone();
    let page = state
        .checked(caller, Action::SummonsRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                // Street officers read the street's whistles; department
                // staff those that summoned their departments.
                let area = area(&p.grants, Action::SummonsRead);
                let rows = whistles::list_whistles(c, &area, q.status, &page).await?;
                let items = whistle_views(&st, c, &p, rows.items).await?;
                Ok(Page {
                    items,
                    next_after: rows.next_after,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |v| v)))
}

/// Read a whistle
///
/// With every summons: state, deadline, report-in time, lateness, overdue
/// and escalation marks, rating.
#[utoipa::path(tag = "mediation", params(("whistle_id" = Uuid, Path, description = "Whistle id")), responses((status = 200, body = WhistleView)))]
#[get("/whistles/{whistle_id}")]
pub async fn get_whistle(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = on_summoned(
        &state,
        caller,
        (Action::SummonsRead, Action::SummonsRead),
        move |c| Box::pin(whistles::get_whistle(c, id)),
        move |c, p, w| Box::pin(async move { whistle_view(&st, c, &p, w).await }),
    )
    .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Close a whistle
///
/// The street officer ends the joint action (under If-Match); ratings of
/// the departments may follow.
#[utoipa::path(tag = "mediation", params(("whistle_id" = Uuid, Path, description = "Whistle id")), responses((status = 200, body = WhistleView)))]
#[post("/whistles/{whistle_id}/close")]
pub async fn close_whistle(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::WhistleBlow,
            move |c| Box::pin(whistles::get_whistle(c, id)),
            move |c, p, w| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    if w.status == WhistleStatus::Closed {
                        return Err(ApiError::new(Code::Conflict, "the whistle is closed"));
                    }
                    let closed = whistles::close_whistle(c, &w, version, now)
                        .await?
                        .ok_or(StoreError::VersionMismatch { current: w.version })?;
                    whistle_view(&st, c, &p, closed).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}
