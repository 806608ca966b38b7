//! During a patrol: household visits, findings with their photos, and a
//! finding filed as a case.

use crate::http::input::Json;
use crate::http::input::Query;
use crate::http::upload::Incoming;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, post};
use chrono::NaiveDate;
use onegrid_domain::permissions::Action;
use onegrid_store::fieldwork::patrols::{self, NewFinding, NewVisit};
use onegrid_store::files::Shelf;
use onegrid_store::registry::households;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::patrol_views::{
    FindingView, PhotoView, VisitView, finding_log, finding_view, own, photo_view, photos_of,
    visit_view,
};
use crate::cases::service::{self, Filing};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::platform::auth::Caller;
use crate::state::AppState;
use onegrid_domain::channels::Channel;
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::geo::Point;

/// A household visit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    pub household_id: Uuid,
    /// e.g. 走访慰问, 政策宣传.
    pub purpose: String,
    pub service_mode: Option<ServiceMode>,
    pub notes: Option<String>,
    pub next_visit_on: Option<NaiveDate>,
}

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
    let purpose = body.purpose.trim().to_owned();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(ApiError::field("purpose", "1 to 200 characters"));
    }
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 2000)
    {
        return Err(ApiError::field("notes", "at most 2000 characters"));
    }
    let now = state.clock.now();
    let visit = state
        .on_row(
            caller,
            Action::PatrolKeep,
            move |c| Box::pin(patrols::get(c, id)),
            move |c, p, log| {
                Box::pin(async move {
                    own(&p, &log)?;
                    let household = households::get_household(c, body.household_id)
                        .await
                        .map_err(reference("household_id"))?;
                    if household.grid_id != log.grid_id {
                        return Err(ApiError::new(
                            Code::InvalidReference,
                            "household_id is not a household of the log's grid",
                        ));
                    }
                    let v = NewVisit {
                        household_id: household.id,
                        purpose,
                        service_mode: body.service_mode.map(|m| m.as_str()),
                        notes: body.notes,
                        next_visit_on: body.next_visit_on,
                    };
                    Ok(patrols::add_visit(c, &log, v, now).await?)
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
    pub description: String,
    pub location: Option<Point>,
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
    let mut errors = Vec::new();
    let description = body.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 2000 {
        errors.push(FieldError {
            field: "description".into(),
            message: "1 to 2000 characters".into(),
        });
    }
    if body
        .location
        .is_some_and(|pt| !(-180.0..=180.0).contains(&pt.lon) || !(-90.0..=90.0).contains(&pt.lat))
    {
        errors.push(FieldError {
            field: "location".into(),
            message: "a WGS 84 point".into(),
        });
    }
    if body
        .address
        .as_ref()
        .is_some_and(|a| a.chars().count() > 200)
    {
        errors.push(FieldError {
            field: "address".into(),
            message: "at most 200 characters".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
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
                        description,
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

/// The case a finding becomes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingCaseBody {
    pub category_id: Uuid,
    /// Defaults to the start of the finding's description.
    pub title: Option<String>,
    /// The category's extra fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
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
    if body
        .title
        .as_ref()
        .is_some_and(|t| t.trim().is_empty() || t.chars().count() > 200)
    {
        return Err(ApiError::field("title", "1 to 200 characters"));
    }
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
                    let finding = patrols::get_finding(c, id).await?;
                    if finding.case_id.is_some() {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the finding is already tracked by a case",
                        ));
                    }
                    let title = body.title.map_or_else(
                        || finding.description.chars().take(40).collect(),
                        |t| t.trim().to_owned(),
                    );
                    let filing = Filing {
                        location: finding
                            .lon
                            .zip(finding.lat)
                            .map(|(lon, lat)| Point { lon, lat }),
                        address: finding.address.clone(),
                        extra: body.extra,
                        links: vec![("patrol_finding", finding.id)],
                        ..Filing::by_staff(
                            Channel::Patrol,
                            body.category_id,
                            title,
                            finding.description.clone(),
                            log.grid_id,
                        )
                    };
                    let case = service::file(&st.keys, c, &p, filing, now).await?;
                    if !patrols::track(c, &finding, case.id).await? {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the finding is already tracked by a case",
                        ));
                    }
                    let tracked = patrols::get_finding(c, finding.id).await?;
                    let photos = photos_of(c, &tracked).await?;
                    Ok(finding_view(tracked, &photos))
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/cases/{}", view.case_id.unwrap_or_default()),
        ))
        .json(view))
}
