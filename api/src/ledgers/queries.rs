//! Targeting queries (精准查询) over ledgers, run ad hoc or saved for reuse.
//! Results are paged, masked, and limited to the records the caller may read
//! in every ledger the query touches.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_domain::query::TargetQuery;
use onegrid_store::ledgers::{self, SavedQuery};
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries_use::{self, RunQueryBody, SaveQueryBody, Source, stored_query};
use crate::http::error::ApiResult;
use crate::http::{IdempotencyKey, PageParams, PageQuery, Paged, check_name};
use crate::ledgers::record_views::{LedgerRecordView, view};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};
use onegrid_store::page::PageRequest;

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
    Ok(SavedQueryView {
        query: stored_query(&s)?,
        id: s.id,
        name: s.name,
        street_id: s.street_id,
        created_by: s.created_by,
        created_at: s.created_at,
    })
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
    source: Source,
    page: PageRequest,
) -> ApiResult<HttpResponse> {
    let at = (state.clock.now(), state.clock.today());
    let (t, rows, residents, grids) = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move { queries_use::run(c, &p, source, &page, at).await })
        })
        .await?;
    let paged: Paged<LedgerRecordView> = Paged::from_page(rows, |r| {
        let resident = r.resident_id.and_then(|id| residents.get(&id));
        view(&state, &t, r, resident)
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
    let page = body.page()?;
    execute(state, caller, Source::Sent(body.query), page).await
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
    let at = (state.clock.now(), state.clock.today());
    let hash = crate::http::request_hash(&body);
    state
        .create(
            caller,
            (Action::LedgerRead, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let saved = queries_use::save(c, &p, body, at).await?;
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
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    execute(state, caller, Source::Saved(id.into_inner()), page).await
}
