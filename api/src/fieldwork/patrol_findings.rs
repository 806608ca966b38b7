//! During a patrol: household visits, findings with their photos, and a
//! finding filed as a case.

use crate::http::input::Json;
use crate::http::input::Query;
use crate::http::upload::Incoming;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_domain::text::Text;
use onegrid_store::fieldwork::patrols::{self, NewFinding};
use onegrid_store::files::Shelf;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::patrol_views::{
    FindingView, PhotoView, VisitView, finding_log, finding_view, photo_view, photos_of, visit_view,
};
use super::patrols_use::{self, FindingCaseBody, VisitBody, own};
use crate::http::error::{ApiError, ApiResult};
use crate::platform::auth::Caller;
use crate::state::AppState;
use onegrid_domain::geo::Point;

/// Record a household visit
///
/// A household of the log's grid.
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), request_body = VisitBody, responses((status = 201, body = VisitView)))]
#[post("/patrol-logs/{patrol_log_id}/visits")]
pub async fn add_visit(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<VisitBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let visit = state
        .on_row(
            caller,
            Action::PatrolKeep,
            move |c| Box::pin(patrols::get(c, id)),
            move |c, p, log| {
                Box::pin(async move {
                    own(&p, &log)?;
                    patrols_use::add_visit(c, &log, body, now).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(visit_view(visit)))
}

/// A finding.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub description: Text<2000>,
    pub location: Option<Point>,
    #[schema(max_length = 200)]
    pub address: Option<String>,
}

/// Record a finding
///
/// Something seen on patrol, with where; photos follow; it may be turned
/// into a case.
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), request_body = FindingBody, responses((status = 201, body = FindingView)))]
#[post("/patrol-logs/{patrol_log_id}/findings")]
pub async fn add_finding(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<FindingBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    if body
        .location
        .is_some_and(|pt| !(-180.0..=180.0).contains(&pt.lon) || !(-90.0..=90.0).contains(&pt.lat))
    {
        return Err(ApiError::field("location", "a WGS 84 point"));
    }
    let now = state.clock.now();
    let finding = state
        .on_row(
            caller,
            Action::PatrolKeep,
            move |c| Box::pin(patrols::get(c, id)),
            move |c, p, log| {
                Box::pin(async move {
                    own(&p, &log)?;
                    let f = NewFinding {
                        description: body.description.trim().to_owned(),
                        location: body.location.map(|pt| (pt.lon, pt.lat)),
                        address: body.address,
                    };
                    Ok(patrols::add_finding(c, &log, f, now).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(finding_view(finding, &[])))
}

/// The photo's display name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    pub name: Option<String>,
}

/// Attach a photo to a finding
///
/// JPEG, PNG, WebP or PDF, checked by its bytes, at most
/// `ONEGRID_ATTACHMENT_MAX_BYTES`; 10 per finding.
#[utoipa::path(tag = "patrols", params(("patrol_finding_id" = Uuid, Path, description = "Finding id"), PhotoQuery), request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The photo"), responses((status = 201, body = PhotoView)))]
#[post("/patrol-findings/{patrol_finding_id}/photos")]
pub async fn add_photo(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: Path<Uuid>,
    q: Query<PhotoQuery>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // No byte is read for anyone but the log's keeper.
    state
        .on_row(
            caller.clone(),
            Action::PatrolKeep,
            move |c| Box::pin(finding_log(c, id)),
            |_, p, log| Box::pin(async move { own(&p, &log) }),
        )
        .await?;
    let incoming = Incoming {
        req,
        payload,
        name: q.into_inner().name,
    };
    let photo = crate::http::upload::attach(
        &state,
        caller,
        (Action::PatrolKeep, Shelf::FindingPhotos),
        incoming,
        move |c| Box::pin(finding_log(c, id)),
        move |c, p, log| {
            Box::pin(async move {
                own(p, &log)?;
                let finding = patrols::get_finding(c, id).await?;
                Ok((finding.street_id, finding.id))
            })
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(photo_view(&photo)))
}

/// Turn a finding into a case
///
/// Files a case through the patrol channel in the log's grid, with the
/// finding's description, location and address, linked both ways (the
/// case links the finding; the finding names the case). 409 if the finding
/// is already tracked.
#[utoipa::path(tag = "patrols", params(("patrol_finding_id" = Uuid, Path, description = "Finding id")), request_body = FindingCaseBody, responses((status = 201, body = FindingView)))]
#[post("/patrol-findings/{patrol_finding_id}/case")]
pub async fn finding_to_case(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<FindingCaseBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::PatrolKeep,
            move |c| Box::pin(finding_log(c, id)),
            move |c, p, log| {
                Box::pin(async move {
                    own(&p, &log)?;
                    let at = (&log, id);
                    let tracked =
                        patrols_use::finding_to_case(&st.keys, c, &p, at, body, now).await?;
                    let photos = photos_of(c, &tracked).await?;
                    Ok(finding_view(tracked, &photos))
                })
            },
        )
        .await?;
    let case = format!("/api/v1/cases/{}", view.case_id.unwrap_or_default());
    Ok(HttpResponse::Created()
        .insert_header(("location", case))
        .json(view))
}
