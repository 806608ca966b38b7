//! Cases: a resident's need, a patrol finding, a hotline ticket or a meeting
//! decision, filed through one of six channels, read with its clocks and
//! history, and listed as work lists. The steps live in `case_steps`.

use crate::http::input::Json;
use actix_web::web::Data;
use actix_web::{HttpResponse, post};
use chrono::{DateTime, Utc};
use onegrid_domain::geo;
use onegrid_domain::ledger::check_record;
use onegrid_domain::permissions::Action;
use onegrid_domain::sla::Tier;
use onegrid_store::cases::setup;
use onegrid_store::cases::{self, Case, Clocks, NewCase};
use onegrid_store::scope::Actor as PrincipalActor;
use onegrid_store::{Conn, Principal, ledgers, registry::hierarchy, registry::households};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{CaseView, actor, load_view, readable, view};
use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
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
