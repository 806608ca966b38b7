//! What a case looks like to its reader: its clocks, reporter (masked or
//! sealed), rating and links, loaded for a page in a bounded number of
//! statements; and where a case is, for the creates made on it.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::cases::{Step, allowed};
use onegrid_domain::masking::{mask_name, mask_phone};
use onegrid_domain::permissions::Action;
use onegrid_store::Conn;
use onegrid_store::cases::{self, Case, CaseClock, Rating, ReporterField};
use onegrid_store::targets::{Guarded, On};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::ok_with_etag;
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};
use onegrid_domain::cases::{Kind, Status};
use onegrid_domain::channels::{Channel, ServiceMode};
use onegrid_domain::geo::Point;
use onegrid_domain::sla::Tier;
use onegrid_domain::sla::{ClockKind, ClockState};

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
    pub kind: ClockKind,
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
    pub state: ClockState,
}

fn clock_view(c: &CaseClock, now: DateTime<Utc>) -> ClockView {
    ClockView {
        kind: c.kind,
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
        state: ClockState::at(now, c.due_at, (c.outcome, c.paused_at)),
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
    pub kind: Kind,
    pub channel: Channel,
    pub category_id: Uuid,
    pub tier: Tier,
    pub title: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
    pub address: Option<String>,
    pub location: Option<Point>,
    pub service_mode: Option<ServiceMode>,
    pub status: Status,
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
        kind: c.kind,
        channel: c.channel,
        category_id: c.category_id,
        tier: c.tier,
        title: c.title.clone(),
        description: c.description.clone(),
        extra: c.extra.clone(),
        address: c.address.clone(),
        location: c.lon.zip(c.lat).map(|(lon, lat)| Point { lon, lat }),
        service_mode: c.service_mode,
        status: c.status,
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
    if case.channel == Channel::SuggestionBox {
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

/// A case a create wrote, answered as its view at `location` with its
/// version as the ETag.
pub async fn created(
    state: &AppState,
    c: &mut Conn,
    case: Case,
    now: DateTime<Utc>,
    location: String,
) -> ApiResult<Created> {
    let version = case.version;
    let loaded = load_view(state, c, case).await?;
    Created::new(view(loaded, now), location, Some(version))
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

/// Where a case is, proven for `action` in a transaction of its own (404
/// outside the tenant wall, 403 outside the grant): the place a create on
/// the case then names, so the create proves its own action there before it
/// looks at its `Idempotency-Key`.
pub async fn place(state: &AppState, caller: &Caller, action: Action, id: Uuid) -> ApiResult<On> {
    let case = state
        .load_checked(caller.clone(), action, move |c| {
            Box::pin(cases::get_case(c, id))
        })
        .await?;
    Ok(On::Node(case.target(case.district_id)))
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
        .on_row(
            caller,
            Action::CaseRead,
            move |c| Box::pin(cases::get_case(c, id)),
            move |c, _, case| Box::pin(async move { load_view(&st, c, case).await }),
        )
        .await?;
    let version = loaded.case.version;
    Ok(ok_with_etag(&view(loaded, now), version))
}
