//! The use cases of targeting queries (精准查询): a query checked and
//! planned within what the caller may read in every ledger it touches, run a
//! page at a time with the read audited, or saved for a street's staff.
//! They know no HTTP.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::ledger::Subject;
use onegrid_domain::permissions::{Action, Target, within_own_scope};
use onegrid_domain::query::{TargetQuery, check_conditions};
use onegrid_store::ledgers::targeting::{self, Cross, Plan};
use onegrid_store::ledgers::{self, LedgerRecord, LedgerType, SavedQuery};
use onegrid_store::page::{Page, PageRequest};
use onegrid_store::registry::households::{self, Resident};
use onegrid_store::{Conn, Principal, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record_views::{Via, audit_read, readable_grids};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};

/// A query to run now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunQueryBody {
    pub query: TargetQuery,
    pub cursor: Option<String>,
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(RunQueryBody);

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

/// Which query to run: one sent now, or one saved.
#[derive(Debug)]
pub enum Source {
    /// A query in the request.
    Sent(TargetQuery),
    /// A saved query's id.
    Saved(Uuid),
}

/// A page of results: the main ledger, its records, their residents and the
/// grids the query covered.
pub type Results = (
    LedgerType,
    Page<LedgerRecord>,
    HashMap<Uuid, Resident>,
    Vec<Uuid>,
);

/// The query a saved row holds.
///
/// A query saved under an older query language no longer reads: that is a
/// 409 naming `query` (save it again), never a 500 or the stored text.
pub fn stored_query(s: &SavedQuery) -> ApiResult<TargetQuery> {
    serde_json::from_value(s.query.clone()).map_err(|_| {
        let mut e = ApiError::new(
            Code::Conflict,
            "the saved query no longer fits the query language; save it again",
        );
        e.errors = vec![FieldError {
            field: "query".into(),
            message: "no longer a valid query".into(),
        }];
        e
    })
}

/// Runs a page of `source` as `p`; the records read are audited when their
/// ledger asks for it.
pub async fn run(
    c: &mut Conn,
    p: &Principal,
    source: Source,
    page: &PageRequest,
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<Results> {
    let query = match source {
        Source::Sent(q) => q,
        Source::Saved(id) => stored_query(&ledgers::get_saved_query(c, id).await?)?,
    };
    let (t, plan, via) = plan(c, p, &query, now, today).await?;
    let grids = plan.grids.clone().unwrap_or_default();
    let rows = targeting::run(c, &plan, page).await?;
    let ids: Vec<Uuid> = rows.items.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        audit_read(c, p, &t, None, ids, via).await?;
    }
    let residents = residents_of(c, &rows.items).await?;
    Ok((t, rows, residents, grids))
}

/// The residents `records` are about, by id.
pub async fn residents_of(
    c: &mut Conn,
    records: &[LedgerRecord],
) -> ApiResult<HashMap<Uuid, Resident>> {
    let ids: Vec<Uuid> = records.iter().filter_map(|r| r.resident_id).collect();
    Ok(households::get_residents(c, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}

/// Saves `body` as `p` once it plans: shared with the street named, else
/// the caller's only street, else the district.
pub async fn save(
    c: &mut Conn,
    p: &Principal,
    body: SaveQueryBody,
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<SavedQuery> {
    plan(c, p, &body.query, now, today).await?;
    let street = match body.street_id {
        Some(s) => Some(
            hierarchy::get_street(c, s)
                .await
                .map_err(reference("street_id"))?
                .id,
        ),
        None if !p.district_wide && p.streets.len() == 1 => p.streets.first().copied(),
        None => None,
    };
    let query = serde_json::to_value(&body.query)
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    Ok(ledgers::save_query(
        c,
        p.district_id,
        street,
        &body.name,
        query,
        p.accountable_user(),
    )
    .await?)
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
        .ok_or_else(|| ApiError::field(field, "no ledger with this code in your scope"))
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
