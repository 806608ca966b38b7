//! Cases: a resident's need, a patrol finding, a hotline ticket or a meeting
//! decision, filed through one of six channels, read with its clocks and
//! history, and listed as work lists. The steps live in `case_steps`.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::cases::{Step, allowed};
use onegrid_domain::geo;
use onegrid_domain::ledger::check_record;
use onegrid_domain::masking::{mask_name, mask_phone};
use onegrid_domain::permissions::{Action, Grant, Scope};
use onegrid_domain::sla::Tier;
use onegrid_store::cases::setup;
use onegrid_store::cases::{
    self, Actor, Case, CaseClock, CaseEvent, CaseFilter, Clocks, NewCase, Rating, Reach,
    ReporterField,
};
use onegrid_store::scope::Actor as PrincipalActor;
use onegrid_store::{
    Conn, Principal, ledgers, platform::audit, registry::hierarchy, registry::households,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::{IdempotencyKey, PageQuery, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::registry::grids::grid_target;
use crate::registry::residents::check_phone;
use crate::state::{AppState, Created, Guard};

/// How a case came in (三条途径, and the other sources of work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 面对面: staff file on the resident's behalf.
    FaceToFace,
    /// 背对背: the suggestion box; the reporter's identity is sealed.
    SuggestionBox,
    /// 网对网: a resident through an integrator's app (API keys only).
    App,
    /// A grid worker's patrol finding.
    Patrol,
    /// A needs-meeting decision.
    Meeting,
    /// A 12345 hotline ticket.
    Hotline,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::FaceToFace => "face_to_face",
            Channel::SuggestionBox => "suggestion_box",
            Channel::App => "app",
            Channel::Patrol => "patrol",
            Channel::Meeting => "meeting",
            Channel::Hotline => "hotline",
        }
    }
}

/// How the service is delivered (五种方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// 上门.
    HomeVisit,
    /// 预约.
    Appointment,
    /// 代办.
    Proxy,
    /// 错时.
    OffHours,
    /// 打包.
    Bundled,
}

impl ServiceMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceMode::HomeVisit => "home_visit",
            ServiceMode::Appointment => "appointment",
            ServiceMode::Proxy => "proxy",
            ServiceMode::OffHours => "off_hours",
            ServiceMode::Bundled => "bundled",
        }
    }
}

/// A WGS 84 point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

/// Who reported a case, as given at filing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterBody {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// A case to file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    pub channel: Channel,
    pub category_id: Uuid,
    #[schema(example = "楼道灯不亮")]
    pub title: String,
    pub description: String,
    /// The grid; or give `location` (a point inside a grid's boundary) or a
    /// resident/household, whose grid is used.
    pub grid_id: Option<Uuid>,
    pub location: Option<Point>,
    pub address: Option<String>,
    /// The category's extra fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub service_mode: Option<ServiceMode>,
    /// Overrides the category's tier.
    pub tier: Option<Tier>,
    /// The resident concerned.
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    #[serde(default)]
    pub ledger_record_ids: Vec<Uuid>,
    /// Sealed; masked in every response, never shown for the suggestion box.
    pub reporter: Option<ReporterBody>,
}

/// A case's reporter as shown: masked, or only the fact that it is sealed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterView {
    /// The suggestion box: the identity is sealed and never shown here.
    pub sealed: bool,
    /// Masked, e.g. `张*`.
    pub name: Option<String>,
    /// Masked, e.g. `138****1234`.
    pub phone: Option<String>,
}

/// One clock of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    /// response, resolution, milestone or rework.
    pub kind: String,
    pub name: String,
    pub cycle: i16,
    /// calendar or working.
    pub basis: String,
    pub budget_minutes: i32,
    pub started_at: DateTime<Utc>,
    pub warn_50_at: DateTime<Utc>,
    pub warn_75_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paused_minutes: i32,
    pub extended_minutes: i32,
    pub stopped_at: Option<DateTime<Utc>>,
    /// running, paused, overdue, met or breached.
    pub state: String,
}

fn clock_view(c: &CaseClock, now: DateTime<Utc>) -> ClockView {
    let state = match (&c.outcome, c.paused_at) {
        (Some(outcome), _) => outcome.clone(),
        (None, Some(_)) => "paused".into(),
        (None, None) if c.due_at <= now => "overdue".into(),
        (None, None) => "running".into(),
    };
    ClockView {
        kind: c.kind.clone(),
        name: c.name.clone(),
        cycle: c.cycle,
        basis: c.basis.clone(),
        budget_minutes: c.budget_minutes,
        started_at: c.started_at,
        warn_50_at: c.warn_50_at,
        warn_75_at: c.warn_75_at,
        due_at: c.due_at,
        paused_minutes: c.paused_minutes,
        extended_minutes: c.extended_minutes,
        stopped_at: c.stopped_at,
        state,
    }
}

/// The resident's rating of one handling cycle.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub cycle: i16,
    /// 10, 8, 6, 3 or 0.
    pub score: i16,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

/// A case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    /// Human-readable number, unique in the deployment.
    pub number: i64,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// case, task (a decomposed part) or bundle (打包).
    pub kind: String,
    pub channel: String,
    pub category_id: Uuid,
    pub tier: String,
    pub title: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
    pub address: Option<String>,
    pub location: Option<Point>,
    pub service_mode: Option<String>,
    pub status: String,
    /// Waiting for the resident: clocks are paused.
    pub paused: bool,
    pub extension_requested: bool,
    pub park_requested: bool,
    /// 0 grid, 1 community, 2 street, 3 departments.
    pub escalation_level: i16,
    pub assignee_user_id: Option<Uuid>,
    pub assignee_department_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub reporter: Option<ReporterView>,
    /// What the case concerns.
    pub links: Vec<LinkView>,
    pub rework_cycle: i16,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub clocks: Vec<ClockView>,
    pub ratings: Vec<RatingView>,
    /// The steps the case's state allows (the caller's permissions aside).
    pub allowed_steps: Vec<Step>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a case view is built from.
pub struct Loaded {
    pub case: Case,
    pub reporter: Option<ReporterView>,
    pub clocks: Vec<CaseClock>,
    pub ratings: Vec<Rating>,
    pub links: Vec<LinkView>,
}

/// A resident, household or ledger record a case concerns.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    /// resident, household or ledger_record.
    pub subject_type: String,
    pub id: Uuid,
}

pub fn view(loaded: Loaded, now: DateTime<Utc>) -> CaseView {
    let Loaded {
        case: c,
        reporter,
        clocks,
        ratings,
        links,
    } = loaded;
    CaseView {
        id: c.id,
        number: c.number,
        street_id: c.street_id,
        community_id: c.community_id,
        grid_id: c.grid_id,
        parent_id: c.parent_id,
        kind: c.kind.clone(),
        channel: c.channel.clone(),
        category_id: c.category_id,
        tier: c.tier.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        extra: c.extra.clone(),
        address: c.address.clone(),
        location: c.lon.zip(c.lat).map(|(lon, lat)| Point { lon, lat }),
        service_mode: c.service_mode.clone(),
        status: c.status.clone(),
        paused: c.paused,
        extension_requested: c.extension_requested,
        park_requested: c.park_requested,
        escalation_level: c.escalation_level,
        assignee_user_id: c.assignee_user_id,
        assignee_department_id: c.assignee_department_id,
        resident_id: c.resident_id,
        reporter,
        links,
        rework_cycle: c.rework_cycle,
        resolved_at: c.resolved_at,
        closed_at: c.closed_at,
        clocks: clocks.iter().map(|k| clock_view(k, now)).collect(),
        ratings: ratings
            .into_iter()
            .map(|r| RatingView {
                cycle: r.cycle,
                score: r.score,
                comment: r.comment,
                rated_at: r.rated_at,
            })
            .collect(),
        allowed_steps: allowed(c.state()),
        version: c.version,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// Loads what a case view shows, masking the reporter.
pub async fn load_view(state: &AppState, c: &mut Conn, case: Case) -> ApiResult<Loaded> {
    load_views(state, c, vec![case])
        .await?
        .pop()
        .ok_or_else(|| ApiError::new(Code::Internal, "a loaded case went missing"))
}

fn reporter_view(state: &AppState, case: &Case, r: &cases::Reporter) -> ReporterView {
    if case.channel == Channel::SuggestionBox.as_str() {
        return ReporterView {
            sealed: true,
            name: None,
            phone: None,
        };
    }
    let masked = |field, mask: fn(&str) -> String| match r.open(&state.keys, field) {
        Ok(v) => v.map(|v| mask(&v)),
        Err(_) => Some("***".to_owned()),
    };
    ReporterView {
        sealed: false,
        name: masked(ReporterField::Name, mask_name),
        phone: masked(ReporterField::Phone, mask_phone),
    }
}

/// Loads the views of several cases in four queries, whatever their number.
pub async fn load_views(state: &AppState, c: &mut Conn, list: Vec<Case>) -> ApiResult<Vec<Loaded>> {
    let ids: Vec<Uuid> = list.iter().map(|k| k.id).collect();
    let reporters = cases::reporters_of(c, &ids).await?;
    let mut clocks = cases::clocks_of(c, &ids).await?;
    let mut ratings = cases::ratings_of(c, &ids).await?;
    let mut links = cases::links_of(c, &ids).await?;
    Ok(list
        .into_iter()
        .map(|case| {
            let reporter = reporters
                .iter()
                .find(|r| r.case_id == case.id)
                .map(|r| reporter_view(state, &case, r));
            let (mine, rest): (Vec<_>, Vec<_>) =
                clocks.drain(..).partition(|k| k.case_id == case.id);
            clocks = rest;
            let (rated, rest): (Vec<_>, Vec<_>) =
                ratings.drain(..).partition(|r| r.case_id == case.id);
            ratings = rest;
            let (linked, rest): (Vec<_>, Vec<_>) = links.drain(..).partition(|l| l.0 == case.id);
            links = rest;
            Loaded {
                case,
                reporter,
                clocks: mine,
                ratings: rated,
                links: linked
                    .into_iter()
                    .map(|(_, subject_type, id)| LinkView { subject_type, id })
                    .collect(),
            }
        })
        .collect())
}

/// The actor of a principal, for events.
pub fn actor(p: &Principal) -> Actor {
    match p.actor {
        PrincipalActor::User { user_id, .. } => Actor {
            id: user_id,
            kind: "user",
        },
        PrincipalActor::ApiKey { key_id, .. } => Actor {
            id: key_id,
            kind: "api_key",
        },
    }
}

/// Loads a case the caller may act on with `action` (404 outside the
/// tenant wall, 403 outside the grant).
pub async fn load(c: &mut Conn, p: &Principal, id: Uuid, action: Action) -> ApiResult<Case> {
    let case = cases::get_case(c, id).await?;
    p.require(action, &case.target())?;
    Ok(case)
}

/// Which grid a new case belongs to: the given grid, the grid whose boundary
/// holds the location, or the grid of the resident or household concerned.
async fn route_to_grid(c: &mut Conn, body: &NewCaseBody) -> ApiResult<Uuid> {
    if let Some(g) = body.grid_id {
        return Ok(g);
    }
    if let Some(pt) = body.location {
        let found = hierarchy::grid_boundaries(c)
            .await?
            .into_iter()
            .find(|(_, b)| geo::contains(b, pt.lon, pt.lat));
        return found
            .map(|(id, _)| id)
            .ok_or_else(|| ApiError::field("location", "no grid of yours contains this point"));
    }
    if let Some(r) = body.resident_id {
        return Ok(households::get_resident(c, r)
            .await
            .map_err(reference("resident_id"))?
            .grid_id);
    }
    if let Some(h) = body.household_id {
        return Ok(households::get_household(c, h)
            .await
            .map_err(reference("household_id"))?
            .grid_id);
    }
    Err(ApiError::field(
        "grid_id",
        "give grid_id, a location inside a grid, or a resident or household",
    ))
}

/// A linked resident or household must be one the caller may read (the
/// tenant wall already hides other streets; this keeps a grid worker to
/// their own grids), refused like a reference that does not exist.
pub(crate) async fn readable(
    c: &mut Conn,
    p: &Principal,
    grid_id: Uuid,
    field: &str,
) -> ApiResult<()> {
    let target = grid_target(c, p, grid_id).await?;
    if p.can(Action::RegistryRead, &target) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidReference,
            format!("{field} does not exist in your scope"),
        ))
    }
}

pub(crate) fn check_new(body: &NewCaseBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    if body.title.trim().is_empty() || body.title.chars().count() > 200 {
        push("title", "1 to 200 characters");
    }
    if body.description.trim().is_empty() || body.description.chars().count() > 5000 {
        push("description", "1 to 5000 characters");
    }
    if body
        .address
        .as_ref()
        .is_some_and(|a| a.chars().count() > 200)
    {
        push("address", "at most 200 characters");
    }
    if let Some(pt) = body.location
        && !((-180.0..=180.0).contains(&pt.lon) && (-90.0..=90.0).contains(&pt.lat))
    {
        push("location", "lon -180..180, lat -90..90");
    }
    if body.ledger_record_ids.len() > 20 {
        push("ledger_record_ids", "at most 20");
    }
    if let Some(r) = &body.reporter
        && r.name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 50)
    {
        push("reporter.name", "1 to 50 characters");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// File a case
///
/// Files a resident's need (or a finding, ticket or meeting decision) through
/// one of six channels. The grid comes from `grid_id`, from a `location`
/// inside a grid's boundary, or from the resident/household concerned. The
/// first-response and resolution clocks start on the district's working
/// calendar. `app` is for API keys acting for a resident. The reporter is
/// sealed; for the suggestion box no response ever shows who it was.
#[utoipa::path(tag = "cases", request_body = NewCaseBody, responses((status = 201, body = CaseView)))]
#[post("/cases")]
pub async fn file_case(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewCaseBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_new(&body)?;
    let phone = match body.reporter.as_ref().and_then(|r| r.phone.as_deref()) {
        Some(p) => Some(check_phone(p).map_err(|_| {
            ApiError::field(
                "reporter.phone",
                "a mobile (11 digits from 1) or a landline",
            )
        })?),
        None => None,
    };
    let hash = crate::http::request_hash(&body);
    let st = state.clone();
    let now = state.clock.now();
    state
        .create(caller, key, hash, move |c, p| {
            Box::pin(async move {
                let case = file_in(&st, c, &p, body, phone, Vec::new(), now).await?;
                let id = case.id;
                let version = case.version;
                let loaded = load_view(&st, c, case).await?;
                Created::new(
                    view(loaded, now),
                    format!("/api/v1/cases/{id}"),
                    Some(version),
                )
            })
        })
        .await
}

/// Files a case for `p` in the caller's transaction (the handler of
/// `POST /cases` and of a patrol finding turned into a case): routing,
/// permission, category and extra fields, links (plus `more_links`), clocks.
pub(crate) async fn file_in(
    st: &AppState,
    c: &mut Conn,
    p: &Principal,
    body: NewCaseBody,
    phone: Option<String>,
    more_links: Vec<(&'static str, Uuid)>,
    now: DateTime<Utc>,
) -> ApiResult<Case> {
    let is_key = matches!(p.actor, PrincipalActor::ApiKey { .. });
    if body.channel == Channel::App && !is_key {
        return Err(ApiError::field(
            "channel",
            "app cases come from an integrator's API key",
        ));
    }
    let grid_id = route_to_grid(c, &body).await?;
    let grid = hierarchy::get_grid(c, grid_id)
        .await
        .map_err(reference("grid_id"))?;
    let target = grid_target(c, p, grid.id).await?;
    p.require(Action::CaseFile, &target)?;
    let category = setup::get_category(c, body.category_id)
        .await
        .map_err(reference("category_id"))?;
    if !category.active {
        return Err(ApiError::field("category_id", "this category is retired"));
    }
    let fields = category.field_defs();
    let extra = match check_record(&fields, &body.extra) {
        Ok(valid) => serde_json::to_value(valid.data).unwrap_or_default(),
        Err(invalid) => {
            return Err(ApiError::fields(
                invalid
                    .into_iter()
                    .map(|i| FieldError {
                        field: i.field.replacen("data.", "extra.", 1),
                        message: i.message,
                    })
                    .collect(),
            ));
        }
    };
    let mut links = more_links;
    if let Some(r) = body.resident_id {
        let resident = households::get_resident(c, r)
            .await
            .map_err(reference("resident_id"))?;
        readable(c, p, resident.grid_id, "resident_id").await?;
        links.push(("resident", resident.id));
    }
    if let Some(h) = body.household_id {
        let household = households::get_household(c, h)
            .await
            .map_err(reference("household_id"))?;
        readable(c, p, household.grid_id, "household_id").await?;
        links.push(("household", household.id));
    }
    for id in &body.ledger_record_ids {
        let record = ledgers::get_record(c, *id)
            .await
            .map_err(reference("ledger_record_ids"))?;
        if record.street_id != grid.street_id {
            return Err(ApiError::new(
                Code::InvalidReference,
                "ledger_record_ids does not exist in your scope",
            ));
        }
        links.push(("ledger_record", record.id));
    }
    let tier = body.tier.unwrap_or_else(|| category.tier());
    let calendar = setup::calendar(c, p.district_id).await?;
    let policy = setup::tier_policy(c, p.district_id, tier).await?;
    let new = NewCase {
        street_id: grid.street_id,
        district_id: p.district_id,
        community_id: grid.community_id,
        grid_id: grid.id,
        parent_id: None,
        kind: "case",
        channel: body.channel.as_str().to_owned(),
        category_id: category.id,
        tier: tier.as_str().to_owned(),
        title: body.title,
        description: body.description,
        extra,
        address: body.address,
        location: body.location.map(|pt| (pt.lon, pt.lat)),
        service_mode: body.service_mode.map(|m| m.as_str().to_owned()),
        resident_id: body.resident_id,
        reporter_name: body.reporter.and_then(|r| r.name),
        reporter_phone: phone,
        links,
    };
    let clocks = Clocks {
        calendar: &calendar,
        policy,
        resolution: category.resolution(),
    };
    Ok(cases::file_case(c, &st.keys, &clocks, new, actor(p), now).await?)
}

/// Read a case
///
/// The case with its clocks (due, warning instants, state), ratings and the
/// steps its state allows. The reporter is masked (sealed for the suggestion box).
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), responses((status = 200, body = CaseView)))]
#[get("/cases/{case_id}")]
pub async fn get_case(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let case = load(c, &p, id, Action::CaseRead).await?;
                load_view(&st, c, case).await
            })
        })
        .await?;
    let version = loaded.case.version;
    Ok(ok_with_etag(&view(loaded, now), version))
}

/// One step of a case's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i32,
    /// file, or a lifecycle step.
    pub step: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Uuid,
    /// user, api_key or system.
    pub actor_kind: String,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

fn event_view(e: CaseEvent) -> EventView {
    EventView {
        seq: e.seq,
        step: e.step,
        from_status: e.from_status,
        to_status: e.to_status,
        actor_id: e.actor_id,
        actor_kind: e.actor_kind,
        reason: e.reason,
        data: e.data,
        at: e.at,
    }
}

/// A case's history
///
/// Every step with actor and time, in order. The history cannot be edited.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), responses((status = 200, body = Vec<EventView>)))]
#[get("/cases/{case_id}/events")]
pub async fn list_events(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let events = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let case = load(c, &p, id, Action::CaseRead).await?;
                Ok(cases::events_of(c, case.id).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(events.into_iter().map(event_view).collect::<Vec<_>>()))
}

/// Filters of a work list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// Only cases assigned to me.
    pub mine: Option<bool>,
    pub grid_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub street_id: Option<Uuid>,
    /// Only cases routed to this department.
    pub department_id: Option<Uuid>,
    /// Comma-separated statuses, e.g. `accepted,dispatched`.
    pub status: Option<String>,
    pub channel: Option<Channel>,
    pub category_id: Option<Uuid>,
    /// A running clock is past due (`false`: none is).
    pub overdue: Option<bool>,
    /// A running clock is past its 75 % warning and not yet due.
    pub due_soon: Option<bool>,
    /// `/cases/export` only: `xlsx` (default) or `csv`.
    pub format: Option<crate::http::sheets::Format>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Where the caller may read cases: the union of its `case.read` grants.
pub fn read_reach(p: &Principal) -> Option<Reach> {
    let readers = onegrid_domain::permissions::rule(Action::CaseRead).roles;
    let mut reach = Reach::default();
    for g in p
        .grants
        .iter()
        .filter(|g: &&Grant| readers.contains(&g.role))
    {
        match g.scope {
            Scope::District { .. } => return None,
            Scope::Street { street, .. } => reach.streets.push(street),
            Scope::Community { community, .. } => reach.communities.push(community),
            Scope::Grid { grid, .. } => reach.grids.push(grid),
            Scope::Department { department, .. } => reach.departments.push(department),
        }
    }
    Some(reach)
}

fn filter_of(p: &Principal, q: &CaseQuery) -> ApiResult<CaseFilter> {
    let statuses: Vec<String> = q
        .status
        .as_deref()
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
        .unwrap_or_default();
    if let Some(bad) = statuses
        .iter()
        .find(|s| onegrid_domain::cases::Status::parse(s).is_none())
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("status {bad} is not a case status"),
        ));
    }
    let me = match p.actor {
        PrincipalActor::User { user_id, .. } => Some(user_id),
        PrincipalActor::ApiKey { .. } => None,
    };
    if q.mine == Some(true) && me.is_none() {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "mine=true needs a user, not an API key",
        ));
    }
    Ok(CaseFilter {
        reach: read_reach(p),
        street_id: q.street_id,
        community_id: q.community_id,
        grid_id: q.grid_id,
        assignee_user_id: if q.mine == Some(true) { me } else { None },
        department_id: q.department_id,
        statuses,
        channel: q.channel.map(|c| c.as_str().to_owned()),
        category_id: q.category_id,
        overdue: q.overdue,
        due_soon: q.due_soon == Some(true),
    })
}

/// List cases
///
/// Work lists: mine, a grid's, a community's, a street's or a department's
/// (department staff see only what was routed to their department), filtered
/// by status, channel, category, overdue and due soon; newest first. Only
/// cases the caller may read are listed.
#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, body = Paged<CaseView>)))]
#[get("/cases")]
pub async fn list_cases(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CaseQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.format.is_some() {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "format belongs to /cases/export",
        ));
    }
    let page = PageQuery {
        cursor: q.cursor.clone(),
        limit: q.limit,
    }
    .request()?;
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::CaseRead)?;
                let filter = filter_of(&p, &q)?;
                let rows = cases::list_cases(c, &filter, &page, now).await?;
                let items = load_views(&st, c, rows.items).await?;
                Ok(onegrid_store::page::Page {
                    items,
                    next_after: rows.next_after,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(loaded, |l| view(l, now))))
}

/// Counts of a work list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseCounts {
    /// Cases matching the filter.
    pub total: i64,
    /// Of those, with a running clock past due.
    pub overdue: i64,
    /// Of those, with a running clock past its 75 % warning, not yet due.
    pub due_soon: i64,
}

/// Count cases
///
/// The counts behind a work list's badges, for the same filters as the list.
#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, body = CaseCounts)))]
#[get("/cases/counts")]
pub async fn count_cases(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CaseQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let now = state.clock.now();
    let counts = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::CaseRead)?;
                let filter = filter_of(&p, &q)?;
                let total = cases::count_cases(c, &filter, now).await?;
                let overdue = CaseFilter {
                    overdue: Some(true),
                    ..filter.clone()
                };
                let overdue = cases::count_cases(c, &overdue, now).await?;
                let soon = CaseFilter {
                    due_soon: true,
                    ..filter
                };
                let due_soon = cases::count_cases(c, &soon, now).await?;
                Ok(CaseCounts {
                    total,
                    overdue,
                    due_soon,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}

/// Which reporter field to reveal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReporterRevealField {
    Name,
    Phone,
}

/// A reveal request; the purpose goes to the audit log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterRevealBody {
    pub field: ReporterRevealField,
    /// Why (5-200 characters).
    pub purpose: String,
}

/// A revealed reporter field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterRevealed {
    pub case_id: Uuid,
    pub field: ReporterRevealField,
    pub value: Option<String>,
}

/// Reveal a case's reporter
///
/// Needs `case.reporter_reveal` over the case and a stated purpose; never
/// allowed to the case's assignee (a suggestion-box reporter stays unknown to
/// whoever handles the case). Rate-limited; audited without the value.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), request_body = ReporterRevealBody, responses((status = 200, body = ReporterRevealed)))]
#[post("/cases/{case_id}/reporter/reveal")]
pub async fn reveal_reporter(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<ReporterRevealBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    crate::http::check_purpose(&body.purpose)?;
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let revealed = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let case = load(c, &p, id, Action::CaseReporterReveal).await?;
                if case
                    .assignee_user_id
                    .is_some_and(|a| a == p.accountable_user())
                {
                    return Err(ApiError::new(
                        Code::Forbidden,
                        "the case's handler cannot see who reported it",
                    ));
                }
                st.reveals.take(c, p.id(), p.now).await?;
                let field = match body.field {
                    ReporterRevealField::Name => ReporterField::Name,
                    ReporterRevealField::Phone => ReporterField::Phone,
                };
                let value = match cases::reporter_of(c, &case).await? {
                    Some(r) => r.open(&st.keys, field).map_err(|e| {
                        ApiError::new(
                            Code::Internal,
                            format!("cannot open {}: {e}", field.column()),
                        )
                    })?,
                    None => None,
                };
                audit::record(
                    c,
                    &p,
                    audit::Event {
                        street_id: Some(case.street_id),
                        action: "case.reporter_reveal",
                        subject_type: "case",
                        subject_id: Some(case.id),
                        field: Some(field.column()),
                        purpose: Some(&body.purpose),
                        request_id: &request_id,
                        details: serde_json::json!({}),
                    },
                )
                .await?;
                Ok(ReporterRevealed {
                    case_id: case.id,
                    field: body.field,
                    value,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(revealed))
}

/// Cases one export holds at most.
const MAX_EXPORT: i64 = 50_000;

fn export_header() -> Vec<String> {
    [
        "编号",
        "状态",
        "渠道",
        "类别",
        "等级",
        "标题",
        "描述",
        "社区",
        "网格",
        "承办人",
        "承办部门",
        "服务方式",
        "反映人",
        "反映人电话",
        "受理时间",
        "首次响应时限",
        "首次响应",
        "办结时限",
        "办结",
        "办结时间",
        "结案时间",
        "评价",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn export_row(v: &CaseView) -> Vec<String> {
    let text = |o: Option<&str>| o.unwrap_or_default().to_owned();
    let at = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&onegrid_domain::clock::CHINA)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let clock = |kind: &str| v.clocks.iter().find(|c| c.kind == kind && c.cycle == 0);
    let (reporter, phone) = match &v.reporter {
        Some(r) if r.sealed => ("已密封".to_owned(), String::new()),
        Some(r) => (text(r.name.as_deref()), text(r.phone.as_deref())),
        None => (String::new(), String::new()),
    };
    vec![
        v.number.to_string(),
        v.status.clone(),
        v.channel.clone(),
        v.category_id.to_string(),
        v.tier.clone(),
        v.title.clone(),
        v.description.clone(),
        v.community_id.to_string(),
        v.grid_id.to_string(),
        v.assignee_user_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        v.assignee_department_id
            .map(|d| d.to_string())
            .unwrap_or_default(),
        text(v.service_mode.as_deref()),
        reporter,
        phone,
        at(Some(v.created_at)),
        at(clock("response").map(|c| c.due_at)),
        clock("response")
            .map(|c| c.state.clone())
            .unwrap_or_default(),
        at(clock("resolution").map(|c| c.due_at)),
        clock("resolution")
            .map(|c| c.state.clone())
            .unwrap_or_default(),
        at(v.resolved_at),
        at(v.closed_at),
        v.ratings
            .last()
            .map(|r| r.score.to_string())
            .unwrap_or_default(),
    ]
}

/// Export cases
///
/// The cases of a work list (same filters as `GET /cases`, up to 50,000,
/// newest first) as xlsx or CSV. Reporters are masked, suggestion-box
/// reporters show only that they are sealed; formula-looking text is inert.
#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, description = "The export file", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/cases/export")]
pub async fn export_cases(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CaseQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.cursor.is_some() || q.limit.is_some() {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "an export has every matching case: no cursor or limit",
        ));
    }
    let format = q.format.unwrap_or(crate::http::sheets::Format::Xlsx);
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::CaseRead)?;
                let filter = filter_of(&p, &q)?;
                let page = onegrid_store::page::PageRequest {
                    after: None,
                    limit: MAX_EXPORT,
                };
                let rows = cases::list_cases(c, &filter, &page, now).await?;
                let items = load_views(&st, c, rows.items).await?;
                Ok(items)
            })
        })
        .await?;
    let rows: Vec<Vec<String>> = loaded
        .into_iter()
        .map(|l| export_row(&view(l, now)))
        .collect();
    let bytes = crate::http::sheets::write(format, &export_header(), &rows)
        .map_err(|e| ApiError::new(Code::Internal, e))?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"cases.{}\"", format.extension()),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
