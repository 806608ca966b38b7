//! The use cases of ledger exports: a ledger's records, or a targeting
//! query's results, that the caller may read, at most [`MAX_EXPORT`] rows,
//! with the read audited like a list. They know no HTTP; the handlers mask
//! and write the sheet.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::ledger::RecordStatus;
use onegrid_domain::query::TargetQuery;
use onegrid_store::ledgers::{self, LedgerRecord, LedgerType, RecordFilter, targeting};
use onegrid_store::page::PageRequest;
use onegrid_store::registry::households::Resident;
use onegrid_store::{Conn, Principal, registry::hierarchy};
use uuid::Uuid;

use super::queries_use::{plan, residents_of};
use super::record_views::{Via, audit_read, readable_grids};
use crate::http::error::ApiResult;

/// Most rows in one export.
pub const MAX_EXPORT: i64 = 50_000;

/// Which records of a ledger to export.
#[derive(Debug, Clone, Copy)]
pub struct LedgerSelection {
    pub ledger_type_id: Uuid,
    /// One grid (within the caller's reach), or every grid they may read.
    pub grid_id: Option<Uuid>,
    pub status: RecordStatus,
}

/// What an export holds: the ledger, its records, their residents and the
/// 15-digit code of each grid.
pub type Exported = (
    LedgerType,
    Vec<LedgerRecord>,
    HashMap<Uuid, Resident>,
    HashMap<Uuid, String>,
);

const ALL: PageRequest = PageRequest::first(MAX_EXPORT);

/// The records of `sel` that `p` may read at `now`.
pub async fn ledger(
    c: &mut Conn,
    p: &Principal,
    sel: LedgerSelection,
    now: DateTime<Utc>,
) -> ApiResult<Exported> {
    let t = ledgers::get_type(c, sel.ledger_type_id).await?;
    let (grids, via) = readable_grids(c, p, &t, now).await?;
    let grids = match (sel.grid_id, grids) {
        (Some(g), None) => Some(vec![g]),
        (Some(g), Some(list)) => Some(list.into_iter().filter(|x| *x == g).collect()),
        (None, list) => list,
    };
    let filter = RecordFilter {
        grids,
        status: Some(sel.status),
        resident_id: None,
    };
    let page = ledgers::list_records(c, t.id, &filter, &ALL).await?;
    gathered(c, p, t, page.items, via).await
}

/// Every result of `query` for `p`.
pub async fn query(
    c: &mut Conn,
    p: &Principal,
    query: &TargetQuery,
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<Exported> {
    let (t, plan, via) = plan(c, p, query, now, today).await?;
    let page = targeting::run(c, &plan, &ALL).await?;
    gathered(c, p, t, page.items, via).await
}

async fn gathered(
    c: &mut Conn,
    p: &Principal,
    t: LedgerType,
    records: Vec<LedgerRecord>,
    via: Via,
) -> ApiResult<Exported> {
    let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        audit_read(c, p, &t, None, ids, via).await?;
    }
    let residents = residents_of(c, &records).await?;
    let codes = hierarchy::grid_codes(c).await?;
    Ok((t, records, residents, codes))
}
