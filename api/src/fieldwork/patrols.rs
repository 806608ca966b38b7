//! The grid worker's daily patrol log (网格日巡记录本): open the day's log in
//! one's grid (check-in, check-out, GPS track, notes), record household
//! visits and findings (location, photos), turn a finding into a case in one
//! call (linked both ways), read one's history; chiefs and admins read the
//! logs and the coverage of a community.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::{Action, Target, area};
use onegrid_store::fieldwork::patrols::{
    self, Finding, Log, LogFields, NewFinding, NewVisit, Photo, Visit,
};
use onegrid_store::{
    Conn, Principal, StoreError, cases::setup, registry::hierarchy, registry::households,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cases::filing::{Channel, NewCaseBody, Point, ServiceMode};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::upload::hex;
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Guard};

/// A household visited.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub household_id: Uuid,
    pub purpose: String,
    pub service_mode: Option<String>,
    pub notes: Option<String>,
    pub next_visit_on: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

/// A photo of a finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoView {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

/// Something found on patrol.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub id: Uuid,
    pub log_id: Uuid,
    pub description: String,
    pub location: Option<Point>,
    pub address: Option<String>,
    /// The case it became (tracked), if any.
    pub case_id: Option<Uuid>,
    pub photos: Vec<PhotoView>,
    pub at: DateTime<Utc>,
}

/// A day's patrol log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogView {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub day: NaiveDate,
    pub check_in_at: Option<DateTime<Utc>>,
    pub check_out_at: Option<DateTime<Utc>>,
    /// A GeoJSON LineString.
    #[schema(value_type = Option<Object>)]
    pub track: Option<serde_json::Value>,
    pub notes: Option<String>,
    pub visits: Vec<VisitView>,
    pub findings: Vec<FindingView>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

fn visit_view(v: Visit) -> VisitView {
    VisitView {
        id: v.id,
        household_id: v.household_id,
        purpose: v.purpose,
        service_mode: v.service_mode,
        notes: v.notes,
        next_visit_on: v.next_visit_on,
        at: v.at,
    }
}

fn finding_view(f: Finding, photos: &[Photo]) -> FindingView {
    FindingView {
        id: f.id,
        log_id: f.log_id,
        location: f.lon.zip(f.lat).map(|(lon, lat)| Point { lon, lat }),
        photos: photos
            .iter()
            .filter(|p| p.finding_id == f.id)
            .map(|p| PhotoView {
                id: p.id,
                file_name: p.file_name.clone(),
                content_type: p.content_type.clone(),
                size_bytes: p.size_bytes,
                sha256: hex(&p.sha256),
                uploaded_at: p.uploaded_at,
            })
            .collect(),
        description: f.description,
        address: f.address,
        case_id: f.case_id,
        at: f.at,
    }
}

async fn log_view(c: &mut Conn, log: Log) -> ApiResult<LogView> {
    let mut views = log_views(c, vec![log]).await?;
    views.pop().ok_or_else(ApiError::not_found)
}

/// Views of `logs` with their visits, findings and photos: four statements
/// whatever the number of logs.
async fn log_views(c: &mut Conn, logs: Vec<Log>) -> ApiResult<Vec<LogView>> {
    if logs.is_empty() {
        return Ok(Vec::new());
    }
    let visits = patrols::visits(c, &logs).await?;
    let findings = patrols::findings(c, &logs).await?;
    let ids: Vec<Uuid> = findings.iter().map(|f| f.id).collect();
    let photos = patrols::photos(c, &ids).await?;
    Ok(logs
        .into_iter()
        .map(|log| LogView {
            id: log.id,
            worker_id: log.worker_id,
            street_id: log.street_id,
            community_id: log.community_id,
            grid_id: log.grid_id,
            day: log.day,
            check_in_at: log.check_in_at,
            check_out_at: log.check_out_at,
            track: log.track,
            notes: log.notes,
            visits: visits
                .iter()
                .filter(|v| v.log_id == log.id)
                .cloned()
                .map(visit_view)
                .collect(),
            findings: findings
                .iter()
                .filter(|f| f.log_id == log.id)
                .cloned()
                .map(|f| finding_view(f, &photos))
                .collect(),
            version: log.version,
            updated_at: log.updated_at,
        })
        .collect())
}

fn log_target(l: &Log) -> Target {
    Target::grid(l.district_id, l.street_id, l.community_id, l.grid_id)
}

/// A log its keeper may write: their own, in a grid they keep.
async fn own_log(c: &mut Conn, p: &Principal, id: Uuid) -> ApiResult<Log> {
    let log = patrols::get(c, id).await?;
    if log.worker_id != p.accountable_user() {
        return Err(ApiError::forbidden("patrol.keep (one's own log)"));
    }
    p.require(Action::PatrolKeep, &log_target(&log))?;
    Ok(log)
}

/// A log the caller may read: their own, or one of a grid they oversee.
async fn readable_log(c: &mut Conn, p: &Principal, id: Uuid) -> ApiResult<Log> {
    let log = patrols::get(c, id).await?;
    if log.worker_id != p.accountable_user() {
        p.require(Action::PatrolRead, &log_target(&log))?;
    }
    Ok(log)
}

/// The fields of a log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    /// Open the day's log in this grid (required when opening).
    pub grid_id: Option<Uuid>,
    /// China date; defaults to today.
    pub day: Option<NaiveDate>,
    pub check_in_at: Option<DateTime<Utc>>,
    pub check_out_at: Option<DateTime<Utc>>,
    /// A GeoJSON LineString of the route walked.
    #[schema(value_type = Option<Object>)]
    pub track: Option<serde_json::Value>,
    pub notes: Option<String>,
}

fn check_fields(b: &LogBody, errors: &mut Vec<FieldError>) {
    if let Some(t) = &b.track
        && let Err(m) = onegrid_domain::geo::check_track(t)
    {
        errors.push(FieldError {
            field: "track".into(),
            message: m.into(),
        });
    }
    if b.notes.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        errors.push(FieldError {
            field: "notes".into(),
            message: "at most 4000 characters".into(),
        });
    }
    if let (Some(i), Some(o)) = (b.check_in_at, b.check_out_at)
        && o < i
    {
        errors.push(FieldError {
            field: "check_out_at".into(),
            message: "after check_in_at".into(),
        });
    }
}

fn fields(b: LogBody) -> LogFields {
    LogFields {
        check_in_at: b.check_in_at,
        check_out_at: b.check_out_at,
        track: b.track,
        notes: b.notes,
    }
}

/// Open the day's patrol log
///
/// One log per worker and day (409 for a second), in a grid the worker
/// keeps, with check-in/out times, a GPS track and notes as they come.
#[utoipa::path(tag = "patrols", request_body = LogBody, responses((status = 201, body = LogView)))]
#[post("/patrol-logs")]
pub async fn open_log(
    state: Data<AppState>,
    caller: Caller,
    body: Json<LogBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    if body.grid_id.is_none() {
        errors.push(FieldError {
            field: "grid_id".into(),
            message: "the grid patrolled".into(),
        });
    }
    check_fields(&body, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let day = body.day.unwrap_or_else(|| state.clock.today());
    if day > state.clock.today() {
        return Err(ApiError::field("day", "not a future day"));
    }
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let grid = hierarchy::get_grid(c, body.grid_id.unwrap_or_default())
                    .await
                    .map_err(reference("grid_id"))?;
                let at = Target::grid(p.district_id, grid.street_id, grid.community_id, grid.id);
                p.require(Action::PatrolKeep, &at)?;
                let log = patrols::open(
                    c,
                    p.district_id,
                    grid.street_id,
                    grid.community_id,
                    grid.id,
                    p.accountable_user(),
                    day,
                    fields(body),
                    now,
                )
                .await
                .map_err(|e| match e {
                    StoreError::Violation(v) if v.kind == onegrid_store::ViolationKind::Unique => {
                        ApiError::new(
                            Code::Conflict,
                            format!("there is already a log for {day}; change it instead"),
                        )
                    }
                    e => e.into(),
                })?;
                log_view(c, log).await
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/patrol-logs/{}", view.id)))
        .insert_header(("etag", crate::http::etag(view.version)))
        .json(view))
}

/// Change a patrol log
///
/// The keeper only, under If-Match: check-in/out, track, notes.
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), request_body = LogBody, responses((status = 200, body = LogView)))]
#[patch("/patrol-logs/{patrol_log_id}")]
pub async fn change_log(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<LogBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let mut errors = Vec::new();
    if body.grid_id.is_some() || body.day.is_some() {
        errors.push(FieldError {
            field: "grid_id".into(),
            message: "a log's grid and day do not change".into(),
        });
    }
    check_fields(&body, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let log = own_log(c, &p, id).await?;
                let version = if_match.version()?;
                let changed = patrols::change(c, &log, version, fields(body), now)
                    .await?
                    .ok_or(StoreError::VersionMismatch {
                        current: log.version,
                    })?;
                log_view(c, changed).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Read a patrol log
///
/// With its visits and findings (and their photos).
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), responses((status = 200, body = LogView)))]
#[get("/patrol-logs/{patrol_log_id}")]
pub async fn get_log(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let log = readable_log(c, &p, id).await?;
                log_view(c, log).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Filters of the log list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Default: the caller's own logs.
    pub worker_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// List patrol logs
///
/// One's own history by default; chiefs and admins filter by worker, grid
/// or community. Newest day first, with visits and findings.
#[utoipa::path(tag = "patrols", params(LogQuery), responses((status = 200, body = Vec<LogView>)))]
#[get("/patrol-logs")]
pub async fn list_logs(
    state: Data<AppState>,
    caller: Caller,
    q: Query<LogQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(31);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "limit must be between 1 and 200",
        ));
    }
    let views = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let me = p.accountable_user();
                let someone_else = q.worker_id.is_some_and(|w| w != me)
                    || q.grid_id.is_some()
                    || q.community_id.is_some();
                if someone_else {
                    p.require_anywhere(Action::PatrolRead)?;
                }
                let filter = patrols::Filter {
                    me,
                    area: area(&p.grants, Action::PatrolRead),
                    worker_id: if someone_else { q.worker_id } else { Some(me) },
                    grid_id: q.grid_id,
                    community_id: q.community_id,
                    from: q.from,
                    to: q.to,
                };
                let logs = patrols::list(c, &filter, limit).await?;
                log_views(c, logs).await
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let log = own_log(c, &p, id).await?;
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
        })
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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let log = own_log(c, &p, id).await?;
                let f = NewFinding {
                    description,
                    location: body.location.map(|pt| (pt.lon, pt.lat)),
                    address: body.address,
                };
                Ok(patrols::add_finding(c, &log, f, now).await?)
            })
        })
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
    let permitted = crate::http::permit(&state, &caller, move |c, p| {
        Box::pin(async move {
            let finding = patrols::get_finding(c, id).await?;
            own_log(c, &p, finding.log_id).await.map(|_| ())
        })
    })
    .await?;
    let upload = crate::http::upload::read(
        &state,
        &req,
        payload,
        q.into_inner().name,
        "photo",
        "photos",
        &permitted,
    )
    .await?;
    let now = state.clock.now();
    let st = state.clone();
    let photo = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let finding = patrols::get_finding(c, id).await?;
                own_log(c, &p, finding.log_id).await?;
                if patrols::photos(c, &[finding.id]).await?.len() >= 10 {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "a finding holds at most 10 photos",
                    ));
                }
                let photo = Photo {
                    street_id: finding.street_id,
                    id: Uuid::now_v7(),
                    finding_id: finding.id,
                    file_name: upload.name,
                    content_type: upload.content_type,
                    size_bytes: upload.size,
                    sha256: upload.sha256,
                    uploaded_by: p.accountable_user(),
                    uploaded_at: now,
                };
                crate::http::upload::keep(
                    &st,
                    &photo.blob_key(),
                    &upload.bytes,
                    patrols::add_photo(c, &photo),
                )
                .await?;
                Ok(photo)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(PhotoView {
        id: photo.id,
        file_name: photo.file_name,
        content_type: photo.content_type,
        size_bytes: photo.size_bytes,
        sha256: hex(&photo.sha256),
        uploaded_at: photo.uploaded_at,
    }))
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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let finding = patrols::get_finding(c, id).await?;
                let log = own_log(c, &p, finding.log_id).await?;
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
                let new = NewCaseBody {
                    channel: Channel::Patrol,
                    category_id: body.category_id,
                    title,
                    description: finding.description.clone(),
                    grid_id: Some(log.grid_id),
                    location: finding
                        .lon
                        .zip(finding.lat)
                        .map(|(lon, lat)| Point { lon, lat }),
                    address: finding.address.clone(),
                    extra: body.extra,
                    service_mode: None,
                    tier: None,
                    resident_id: None,
                    household_id: None,
                    ledger_record_ids: Vec::new(),
                    reporter: None,
                };
                let case = crate::cases::filing::file_in(
                    &st,
                    c,
                    &p,
                    new,
                    None,
                    vec![("patrol_finding", finding.id)],
                    now,
                )
                .await?;
                if !patrols::track(c, &finding, case.id).await? {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "the finding is already tracked by a case",
                    ));
                }
                let tracked = patrols::get_finding(c, finding.id).await?;
                let photos = patrols::photos(c, &[tracked.id]).await?;
                Ok(finding_view(tracked, &photos))
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/cases/{}", view.case_id.unwrap_or_default()),
        ))
        .json(view))
}

/// The period of a coverage report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    pub community_id: Uuid,
    pub from: NaiveDate,
    /// At most 92 days after `from`.
    pub to: NaiveDate,
}

/// One full-time worker's patrol coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerCoverage {
    pub worker_id: Uuid,
    pub display_name: String,
    pub grid_id: Uuid,
    pub logs: i64,
    pub visits: i64,
    pub households_visited: i64,
    pub findings: i64,
    /// Working days of the period (the district's calendar, up to today) with no log.
    pub missing_days: Vec<NaiveDate>,
}

/// Patrol coverage of a community
///
/// For each full-time grid worker of the community in the period: logs,
/// visits, distinct households visited, findings, and the working days with
/// no log.
#[utoipa::path(tag = "patrols", params(CoverageQuery), responses((status = 200, body = Vec<WorkerCoverage>)))]
#[get("/patrol-coverage")]
pub async fn coverage(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.to < q.from || (q.to - q.from).num_days() > 92 {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "to is on or after from, at most 92 days later",
        ));
    }
    let today = state.clock.today();
    let rows = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, q.community_id).await?;
                p.require(
                    Action::PatrolRead,
                    &Target::community(p.district_id, community.street_id, community.id),
                )?;
                let cal = setup::calendar(c, p.district_id).await?;
                let rows = patrols::coverage(c, community.id, q.from, q.to).await?;
                let working: Vec<NaiveDate> = q
                    .from
                    .iter_days()
                    .take_while(|d| *d <= q.to && *d <= today)
                    .filter(|d| cal.is_working_day(*d))
                    .collect();
                Ok(rows
                    .into_iter()
                    .map(|r| WorkerCoverage {
                        missing_days: working
                            .iter()
                            .filter(|d| !r.days_logged.contains(d))
                            .copied()
                            .collect(),
                        worker_id: r.worker_id,
                        display_name: r.display_name,
                        grid_id: r.grid_id,
                        logs: r.logs,
                        visits: r.visits,
                        households_visited: r.households_visited,
                        findings: r.findings,
                    })
                    .collect::<Vec<_>>())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
