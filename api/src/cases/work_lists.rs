//! Work lists: the cases a caller may read, filtered and counted.

use crate::http::input::{Listed, Query};
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use onegrid_domain::permissions::{Action, Grant, Scope};
use onegrid_store::Principal;
use onegrid_store::cases::{self, CaseFilter, Reach};
use onegrid_store::scope::Actor as PrincipalActor;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{CaseView, load_views, view};
use crate::http::Paged;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;
use onegrid_domain::channels::Channel;

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

crate::http::page_params!(CaseQuery);

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

pub(crate) fn filter_of(p: &Principal, q: &CaseQuery) -> ApiResult<CaseFilter> {
    let statuses = q
        .status
        .as_deref()
        .map_or(Some(Vec::new()), |s| {
            s.split(',')
                .map(|x| onegrid_domain::cases::Status::parse(x.trim()))
                .collect()
        })
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidParameter,
                "status lists a value that is not a case status",
            )
        })?;
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
        channel: q.channel,
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
    Listed(q, page): Listed<CaseQuery>,
) -> ApiResult<HttpResponse> {
    if q.format.is_some() {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "format belongs to /cases/export",
        ));
    }
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .checked(caller, Action::CaseRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
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
        .checked(caller, Action::CaseRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
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
