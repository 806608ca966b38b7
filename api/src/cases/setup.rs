//! The district's case set-up: the working calendar (holidays and adjusted
//! workdays loaded as data), the SLA clocks per tier and the category
//! catalogue. Everyone reads them; the district admin edits them.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post, put};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use onegrid_domain::calendar::{DayKind, WORKING_HOURS};
use onegrid_domain::catalogue::{Milestone, parent_code};
use onegrid_domain::ledger::FieldDef;
use onegrid_domain::permissions::Action;
use onegrid_domain::sla::{Budget, Tier, TierPolicy};
use onegrid_domain::text::Text;
use onegrid_store::cases::setup::{self, CalendarDay, Category, TierRow};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::categories_use::{self, CategoryPatch, NewCategoryBody, check_budget};
use crate::http::error::{ApiError, ApiResult, Code, FieldError};
use crate::http::{IdempotencyKey, IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// One listed day of the calendar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayView {
    #[schema(example = "2026-02-16")]
    pub day: NaiveDate,
    pub kind: DayKind,
    /// e.g. 春节, 春节调休.
    pub name: String,
}

/// A year of the calendar: the days that depart from Monday to Friday.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// Working hours of every working day, China time, e.g. `09:00-12:00`.
    pub working_hours: Vec<String>,
    pub days: Vec<CalendarDayView>,
}

/// A day of the calendar to load.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayBody {
    #[schema(example = "2026-02-16")]
    pub day: NaiveDate,
    pub kind: DayKind,
    /// e.g. 春节, 春节调休.
    pub name: Text<50>,
}

/// The days of a year to load.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    #[schema(max_items = 366)]
    pub days: Vec<CalendarDayBody>,
}

/// Which year.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    /// Defaults to this year (China time).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

fn check_year(year: i32) -> ApiResult<i32> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::new(
            Code::InvalidParameter,
            "year is between 2000 and 2100",
        ))
    }
}

fn year_view(year: i32, days: Vec<CalendarDay>) -> CalendarYear {
    CalendarYear {
        year,
        working_hours: WORKING_HOURS
            .iter()
            .map(|(h1, m1, h2, m2)| format!("{h1:02}:{m1:02}-{h2:02}:{m2:02}"))
            .collect(),
        days: days
            .into_iter()
            .filter_map(|d| {
                Some(CalendarDayView {
                    day: d.day,
                    kind: DayKind::parse(&d.kind)?,
                    name: d.name,
                })
            })
            .collect(),
    }
}

/// Read the working calendar
///
/// The listed days of a year: public holidays and adjusted workdays (调休).
/// Unlisted days follow Monday to Friday. The official 2025 and 2026
/// calendars ship with every district.
#[utoipa::path(tag = "cases", params(YearQuery), responses((status = 200, body = CalendarYear)))]
#[get("/calendar")]
pub async fn get_calendar(
    state: Data<AppState>,
    caller: Caller,
    q: Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    let year = check_year(q.year.unwrap_or_else(|| state.clock.today().year()))?;
    let days = state
        .checked(
            caller,
            Action::CaseSetupRead,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move { Ok(setup::calendar_year(c, p.district_id, year).await?) })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(year_view(year, days)))
}

/// Load a year of the working calendar
///
/// Replaces the listed days of `year` (e.g. when the State Council publishes
/// next year's arrangements). Clocks started afterwards use it.
#[utoipa::path(tag = "cases", params(("year" = i32, Path, description = "Year, 2000-2100")), request_body = CalendarBody, responses((status = 200, body = CalendarYear)))]
#[put("/calendar/{year}")]
pub async fn put_calendar(
    state: Data<AppState>,
    caller: Caller,
    year: Path<i32>,
    body: Json<CalendarBody>,
) -> ApiResult<HttpResponse> {
    let year = check_year(year.into_inner())?;
    let body = body.into_inner();
    check_days(year, &body.days)?;
    let rows: Vec<(NaiveDate, DayKind, String)> = body
        .days
        .into_iter()
        .map(|d| (d.day, d.kind, d.name.into_inner()))
        .collect();
    let days = state
        .checked(
            caller,
            Action::CaseSetupManage,
            On::District,
            move |c, p, _| {
                Box::pin(async move {
                    Ok(setup::replace_calendar_year(c, p.district_id, year, &rows).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(year_view(year, days)))
}

/// The days loaded for `year` are of that year, each listed once.
fn check_days(year: i32, days: &[CalendarDayBody]) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, d) in days.iter().enumerate() {
        if d.day.year() != year {
            errors.push(FieldError {
                field: format!("days[{i}].day"),
                message: format!("not in {year}"),
            });
        }
        if !seen.insert(d.day) {
            errors.push(FieldError {
                field: format!("days[{i}].day"),
                message: "listed twice".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// A tier's clocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub tier: Tier,
    /// First response: accepted and dispatched.
    pub response: Budget,
    /// Resolution: the result back to the resident.
    pub resolution: Budget,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

fn tier_view(row: &TierRow) -> TierView {
    let policy = row.policy();
    TierView {
        tier: Tier::parse(&row.tier).unwrap_or(Tier::General),
        response: policy.response,
        resolution: policy.resolution,
        version: row.version,
        updated_at: row.updated_at,
    }
}

/// New clocks for a tier.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierBody {
    pub response: Budget,
    pub resolution: Budget,
}

/// List the SLA tiers
///
/// The district's clocks per tier (defaults from the domain guide: emergency
/// 1 h / 2 h round the clock, utility 1 h / 24 h, general 1 working hour / 7
/// days, complex 1 working hour / 15 days).
#[utoipa::path(tag = "cases", responses((status = 200, body = Vec<TierView>)))]
#[get("/sla-tiers")]
pub async fn list_tiers(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = state
        .checked(
            caller,
            Action::CaseSetupRead,
            On::Anywhere,
            move |c, p, _| Box::pin(async move { Ok(setup::tiers(c, p.district_id).await?) }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(tier_view).collect::<Vec<_>>()))
}

/// Set a tier's clocks
///
/// Applies to clocks started afterwards. Requires `If-Match`.
#[utoipa::path(tag = "cases", params(("tier" = Tier, Path, description = "emergency, utility, general or complex"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = TierBody, responses((status = 200, body = TierView)))]
#[put("/sla-tiers/{tier}")]
pub async fn put_tier(
    state: Data<AppState>,
    caller: Caller,
    tier: Path<String>,
    if_match: IfMatch,
    body: Json<TierBody>,
) -> ApiResult<HttpResponse> {
    let tier = Tier::parse(&tier.into_inner()).ok_or_else(|| {
        ApiError::new(
            Code::InvalidParameter,
            "tier is emergency, utility, general or complex",
        )
    })?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    check_budget("response", body.response, &mut errors);
    check_budget("resolution", body.resolution, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let policy = TierPolicy {
        response: body.response,
        resolution: body.resolution,
    };
    let row = state
        .checked(
            caller,
            Action::CaseSetupManage,
            On::District,
            move |c, p, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    Ok(setup::update_tier(c, p.district_id, tier, version, policy).await?)
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&tier_view(&row), row.version))
}

/// A category of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: Uuid,
    #[schema(example = "02.01")]
    pub code: String,
    /// The parent's code (`02` for `02.01`).
    pub parent_code: Option<String>,
    pub name: String,
    pub tier: Tier,
    /// Extra fields a case of this category carries (ledger field definitions).
    pub fields: Vec<FieldDef>,
    /// Overrides the tier's resolution clock.
    pub resolution: Option<Budget>,
    pub milestones: Vec<Milestone>,
    pub active: bool,
    pub version: i32,
}

pub fn category_view(c: &Category) -> CategoryView {
    CategoryView {
        id: c.id,
        code: c.code.clone(),
        parent_code: parent_code(&c.code).map(str::to_owned),
        name: c.name.clone(),
        tier: c.tier(),
        fields: c.field_defs(),
        resolution: c.resolution(),
        milestones: c.milestone_list(),
        active: c.active,
        version: c.version,
    }
}

/// List the case categories
///
/// The district's catalogue in code order.
#[utoipa::path(tag = "cases", responses((status = 200, body = Vec<CategoryView>)))]
#[get("/case-categories")]
pub async fn list_categories(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = state
        .proven(caller, Action::CaseSetupRead, On::Anywhere, move |c| {
            Box::pin(async move { setup::list_categories(c).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(category_view).collect::<Vec<_>>()))
}

/// Add a case category
///
/// A new code in the district's catalogue, with its tier, extra fields,
/// optional resolution clock and staged milestones.
#[utoipa::path(tag = "cases", request_body = NewCategoryBody, responses((status = 201, body = CategoryView)))]
#[post("/case-categories")]
pub async fn create_category(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewCategoryBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    categories_use::check_new(&body)?;
    let hash = crate::http::request_hash(&body);
    state
        .create(
            caller,
            (Action::CaseSetupManage, On::District),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let created = categories_use::add(c, &p, body).await?;
                    Created::new(
                        category_view(&created),
                        format!("/api/v1/case-categories/{}", created.id),
                        Some(created.version),
                    )
                })
            },
        )
        .await
}

/// Edit a case category
///
/// Name, tier, fields, clock, milestones or retirement (`active: false`).
/// Requires `If-Match`.
#[utoipa::path(tag = "cases", params(("case_category_id" = Uuid, Path, description = "Category id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = CategoryPatch, responses((status = 200, body = CategoryView)))]
#[patch("/case-categories/{case_category_id}")]
pub async fn update_category(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<CategoryPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    categories_use::check_patch(&body)?;
    let row = state
        .on_row(
            caller,
            Action::CaseSetupManage,
            move |c| Box::pin(setup::get_category(c, id)),
            move |c, _, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    Ok(setup::update_category(c, id, version, body.into()).await?)
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&category_view(&row), row.version))
}
