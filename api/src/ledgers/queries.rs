//! Targeting queries (精准查询) over ledgers, run ad hoc or saved for reuse.
//! Results are paged, masked, and limited to the records the caller may read
//! in every ledger the query touches.

use std::collections::{HashMap, HashSet};

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::ledger::Subject;
use onegrid_domain::permissions::{Action, Target, within_own_scope};
use onegrid_domain::query::{TargetQuery, check_conditions};
use onegrid_store::ledgers::targeting::{self, Cross, Plan};
use onegrid_store::ledgers::{self, LedgerType, SavedQuery};
use onegrid_store::registry::households::{self, Resident};
use onegrid_store::targets::On;
use onegrid_store::{Conn, Principal, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, FieldError, reference};
use crate::http::{IdempotencyKey, PageQuery, Paged, check_name};
use crate::ledgers::record_views::{LedgerRecordView, Via, audit_read, readable_grids, view};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A query to run now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunQueryBody {
    pub query: TargetQuery,
    pub cursor: Option<String>,
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A query to save.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveQueryBody {
    #[schema(example = "三网格60岁以上非低保退役军人")]
    pub name: String,
    pub query: TargetQuery,
    /// Share it with one street's staff (default: the caller's only street; none for district staff).
    pub street_id: Option<Uuid>,
}

/// A saved query.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedQueryView {
    pub id: Uuid,
    pub name: String,
    pub query: TargetQuery,
    pub street_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

fn saved_view(s: SavedQuery) -> ApiResult<SavedQueryView> {
    let query = serde_json::from_value(s.query)
        .map_err(|e| ApiError::new(crate::http::error::Code::Internal, e.to_string()))?;
    Ok(SavedQueryView {
        id: s.id,
        name: s.name,
        query,
        street_id: s.street_id,
        created_by: s.created_by,
        created_at: s.created_at,
    })
}

fn errors(list: Vec<onegrid_domain::ledger::Invalid>) -> ApiError {
    ApiError::fields(
        list.into_iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    )
}

/// The ledger type a code names for the caller (their street's own first).
async fn type_by_code(
    c: &mut Conn,
    p: &Principal,
    code: &str,
    field: &str,
) -> ApiResult<LedgerType> {
    let mut found = ledgers::find_types_by_code(c, code).await?;
    found.sort_by_key(|t| t.street_id.is_none());
    found
        .into_iter()
        .find(|t| t.street_id.is_none_or(|s| p.streets.contains(&s)))
        .ok_or_else(|| ApiError::field(field, format!("no ledger {code} in your scope")))
}

/// Checks a query and plans it within what the caller may read (its callers
/// prove `ledger.read` anywhere first).
pub(crate) async fn plan(
    c: &mut Conn,
    p: &Principal,
    q: &TargetQuery,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> ApiResult<(LedgerType, Plan, Via)> {
    let main = type_by_code(c, p, &q.ledger, "query.ledger").await?;
    let conditions = check_conditions(
        &q.conditions,
        &main.field_defs(),
        main.subject(),
        "query.conditions",
    )
    .map_err(errors)?;
    let (mut grids, mut via) = readable_grids(c, p, &main, now).await?;
    if q.also.len() > 5 {
        return Err(ApiError::field("query.also", "at most 5 other ledgers"));
    }
    let mut also = Vec::new();
    for (i, cross) in q.also.iter().enumerate() {
        let at = format!("query.also[{i}]");
        if main.subject() == Subject::None {
            return Err(ApiError::field(
                &at,
                "only ledgers about residents or households combine with others",
            ));
        }
        let t = type_by_code(c, p, &cross.ledger, &format!("{at}.ledger")).await?;
        if t.subject() == Subject::None {
            return Err(ApiError::field(
                &format!("{at}.ledger"),
                "combine with ledgers about residents or households",
            ));
        }
        let checked = check_conditions(
            &cross.conditions,
            &t.field_defs(),
            t.subject(),
            &format!("{at}.conditions"),
        )
        .map_err(errors)?;
        // Membership of another ledger is itself information: only grids where
        // the caller may read every ledger of the query take part.
        let (cross_grids, cross_via) = readable_grids(c, p, &t, now).await?;
        grids = match (grids, cross_grids) {
            (None, other) | (other, None) => other,
            (Some(a), Some(b)) => {
                let b: HashSet<Uuid> = b.into_iter().collect();
                Some(a.into_iter().filter(|g| b.contains(g)).collect())
            }
        };
        if cross_via == Via::BreakGlass {
            via = Via::BreakGlass;
        }
        also.push(Cross {
            ledger_type_id: t.id,
            subject: t.subject(),
            present: cross.present,
            conditions: checked,
        });
    }
    if let Some(community) = q.scope.community_id {
        hierarchy::get_community(c, community)
            .await
            .map_err(reference("query.scope.community_id"))?;
    }
    if let Some(grid) = q.scope.grid_id {
        hierarchy::get_grid(c, grid)
            .await
            .map_err(reference("query.scope.grid_id"))?;
    }
    let grids = covered_grids(c, p, q, grids).await?;
    let plan = Plan {
        ledger_type_id: main.id,
        subject: main.subject(),
        conditions,
        also,
        grids: Some(grids),
        community_id: q.scope.community_id,
        grid_id: q.scope.grid_id,
        today,
    };
    Ok((main, plan, via))
}

/// The grids a query covers, in id order: those where every ledger of the
/// query is readable (`readable`, `None` = all visible), inside the scope the
/// query names; naming none, inside the caller's own scope (their grids, not
/// the street the reading rules would reach).
async fn covered_grids(
    c: &mut Conn,
    p: &Principal,
    q: &TargetQuery,
    readable: Option<Vec<Uuid>>,
) -> ApiResult<Vec<Uuid>> {
    let readable: Option<HashSet<Uuid>> = readable.map(|g| g.into_iter().collect());
    let mut covered: Vec<Uuid> = hierarchy::visible_grids(c)
        .await?
        .into_iter()
        .filter(|(grid, street, community)| {
            let in_scope = match (q.scope.community_id, q.scope.grid_id) {
                (None, None) => within_own_scope(
                    &p.grants,
                    Action::LedgerRead,
                    &Target::grid(p.district_id, *street, *community, *grid),
                ),
                (at, only) => {
                    at.is_none_or(|at| at == *community) && only.is_none_or(|only| only == *grid)
                }
            };
            in_scope && readable.as_ref().is_none_or(|r| r.contains(grid))
        })
        .map(|(grid, _, _)| grid)
        .collect();
    covered.sort();
    Ok(covered)
}

/// A page of a targeting query's results and the grids the query covered.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueryResults {
    pub items: Vec<LedgerRecordView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Every grid the query looked in, in id order: with no scope named, the
    /// caller's own grids; grids whose ledgers the caller may not read are left out.
    pub grids: Vec<Uuid>,
}

async fn execute(
    state: Data<AppState>,
    caller: Caller,
    query: Option<TargetQuery>,
    saved: Option<Uuid>,
    page: PageQuery,
) -> ApiResult<HttpResponse> {
    let page = page.request()?;
    let (now, today) = (state.clock.now(), state.clock.today());
    let st = state.clone();
    let (t, rows, residents, grids) = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let query = match (query, saved) {
                    (Some(q), _) => q,
                    (None, Some(id)) => saved_view(ledgers::get_saved_query(c, id).await?)?.query,
                    (None, None) => return Err(ApiError::field("query", "required")),
                };
                let (t, plan, via) = plan(c, &p, &query, now, today).await?;
                let grids = plan.grids.clone().unwrap_or_default();
                let rows = targeting::run(c, &plan, &page).await?;
                let ids: Vec<Uuid> = rows.items.iter().map(|r| r.id).collect();
                if !ids.is_empty() {
                    audit_read(c, &p, &t, None, ids, via).await?;
                }
                let resident_ids: Vec<Uuid> =
                    rows.items.iter().filter_map(|r| r.resident_id).collect();
                let residents: HashMap<Uuid, Resident> =
                    households::get_residents(c, &resident_ids)
                        .await?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect();
                Ok((t, rows, residents, grids))
            })
        })
        .await?;
    let paged: Paged<LedgerRecordView> = Paged::from_page(rows, |r| {
        let resident = r.resident_id.and_then(|id| residents.get(&id));
        view(&st, &t, r, resident)
    });
    Ok(HttpResponse::Ok().json(QueryResults {
        items: paged.items,
        next_cursor: paged.next_cursor,
        grids,
    }))
}

/// Run a targeting query
///
/// Lists the active records of one ledger matching conditions on its fields
/// and on the resident's derived age and gender, combined with other ledgers
/// the same resident or household must (not) be on, within a community or
/// grid. Example: veterans in grid 3, aged 60 or more, not on low-income
/// allowance. Results are paged and masked, and cover only grids where the
/// caller may read every ledger involved; with no scope named, only the
/// caller's own grids. The response lists the grids covered.
#[utoipa::path(tag = "ledgers", request_body = RunQueryBody, responses((status = 200, body = QueryResults)))]
#[post("/ledger-queries")]
pub async fn run_query(
    state: Data<AppState>,
    caller: Caller,
    body: Json<RunQueryBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    execute(
        state,
        caller,
        Some(body.query),
        None,
        PageQuery {
            cursor: body.cursor,
            limit: body.limit,
        },
    )
    .await
}

/// Save a targeting query
///
/// Saves a query for reuse by the staff of a street (or the district).
#[utoipa::path(tag = "ledgers", request_body = SaveQueryBody, responses((status = 201, body = SavedQueryView)))]
#[post("/saved-queries")]
pub async fn save_query(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<SaveQueryBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    let (now, today) = (state.clock.now(), state.clock.today());
    let hash = crate::http::request_hash(&body);
    state
        .create(
            caller,
            (Action::LedgerRead, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    plan(c, &p, &body.query, now, today).await?;
                    let street = match body.street_id {
                        Some(s) => Some(
                            hierarchy::get_street(c, s)
                                .await
                                .map_err(reference("street_id"))?
                                .id,
                        ),
                        None if !p.district_wide && p.streets.len() == 1 => {
                            p.streets.first().copied()
                        }
                        None => None,
                    };
                    let query = serde_json::to_value(&body.query).map_err(|e| {
                        ApiError::new(crate::http::error::Code::Internal, e.to_string())
                    })?;
                    let saved = ledgers::save_query(
                        c,
                        p.district_id,
                        street,
                        &body.name,
                        query,
                        p.accountable_user(),
                    )
                    .await?;
                    let location = format!("/api/v1/saved-queries/{}/results", saved.id);
                    Created::new(saved_view(saved)?, location, None)
                })
            },
        )
        .await
}

/// List saved queries
///
/// The queries saved for the caller's streets and district.
#[utoipa::path(tag = "ledgers", responses((status = 200, body = Vec<SavedQueryView>)))]
#[get("/saved-queries")]
pub async fn list_saved_queries(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = state
        .checked(caller, Action::LedgerRead, On::Anywhere, |c, _, _| {
            Box::pin(async move { Ok(ledgers::list_saved_queries(c).await?) })
        })
        .await?;
    let views: ApiResult<Vec<_>> = rows.into_iter().map(saved_view).collect();
    Ok(HttpResponse::Ok().json(views?))
}

/// Run a saved query
///
/// Runs a saved query now, with the caller's own reach.
#[utoipa::path(tag = "ledgers", params(("saved_query_id" = Uuid, Path, description = "Saved query id"), PageQuery), responses((status = 200, body = QueryResults)))]
#[get("/saved-queries/{saved_query_id}/results")]
pub async fn saved_query_results(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    page: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    execute(
        state,
        caller,
        None,
        Some(id.into_inner()),
        page.into_inner(),
    )
    .await
}
