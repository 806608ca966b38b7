//! The use cases of adding and listing ledger records: a new record placed
//! in the grid of its subject (resident, household or grid) and checked
//! against its type; a list filtered to the grids the caller may read, its
//! reads audited. They know no HTTP.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use onegrid_domain::ledger::{RecordStatus, Subject};
use onegrid_domain::permissions::{Action, Target};
use onegrid_store::ledgers::{self, LedgerRecord, LedgerType, NewRecord, RecordFilter};
use onegrid_store::page::{Page, PageRequest};
use onegrid_store::registry::households::{self, Resident};
use onegrid_store::{Conn, Principal, StoreError, targets};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record_views::{audit_read, checked_data, read_access, readable_grids};
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// A new record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecordBody {
    /// Required for ledgers about nothing else; otherwise the resident's or household's grid.
    pub grid_id: Option<Uuid>,
    /// Required for ledgers about residents.
    pub resident_id: Option<Uuid>,
    /// Required for ledgers about households.
    pub household_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// A record as written, with its type and resident for the view.
pub type Written = (LedgerType, LedgerRecord, Option<Resident>);

/// Adds `body` to ledger type `type_id` as `p`, who must be able to write
/// in the grid the record's subject lives in.
pub async fn create(
    c: &mut Conn,
    p: &Principal,
    type_id: Uuid,
    body: NewRecordBody,
) -> ApiResult<Written> {
    let t = ledgers::get_type(c, type_id).await?;
    if !t.active {
        return Err(ApiError::field(
            "ledger_type_id",
            "this ledger type is retired",
        ));
    }
    let (grid_id, resident) = subject_grid(c, &t, &body).await?;
    let target = writable_grid(c, p, grid_id).await?;
    let street = target.street.unwrap_or_default();
    let community = target.community.unwrap_or_default();
    if t.street_id.is_some_and(|s| s != street) || t.community_id.is_some_and(|cm| cm != community)
    {
        return Err(ApiError::field(
            "ledger_type_id",
            "this ledger type belongs to another street or community",
        ));
    }
    let data = checked_data(c, &t, street, &body.data).await?;
    let new = NewRecord {
        street_id: street,
        ledger_type_id: t.id,
        grid_id,
        resident_id: resident.as_ref().map(|r| r.id),
        household_id: body
            .household_id
            .filter(|_| t.subject() == Subject::Household),
        data,
    };
    let record = ledgers::create_record(c, new, p.accountable_user()).await?;
    Ok((t, record, resident))
}

/// The grid a new record of type `t` lives in, from its subject, and the
/// resident it is about.
async fn subject_grid(
    c: &mut Conn,
    t: &LedgerType,
    body: &NewRecordBody,
) -> ApiResult<(Uuid, Option<Resident>)> {
    let required = |field: &str| ApiError::field(field, "required for this ledger");
    let (grid_id, resident) = match t.subject() {
        Subject::Resident => {
            let rid = body.resident_id.ok_or_else(|| required("resident_id"))?;
            let r = households::get_resident(c, rid)
                .await
                .map_err(reference("resident_id"))?;
            (r.grid_id, Some(r))
        }
        Subject::Household => {
            let hid = body.household_id.ok_or_else(|| required("household_id"))?;
            let h = households::get_household(c, hid)
                .await
                .map_err(reference("household_id"))?;
            (h.grid_id, None)
        }
        Subject::None => (body.grid_id.ok_or_else(|| required("grid_id"))?, None),
    };
    if body.grid_id.is_some_and(|g| g != grid_id) {
        return Err(ApiError::field(
            "grid_id",
            "records about a resident or household live in their grid",
        ));
    }
    Ok((grid_id, resident))
}

/// The target of grid `grid_id`, proven writable by `p`.
async fn writable_grid(c: &mut Conn, p: &Principal, grid_id: Uuid) -> ApiResult<Target> {
    let target = targets::grid(c, p, grid_id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::new(
            Code::InvalidReference,
            "grid_id does not exist in your scope",
        ),
        other => other.into(),
    })?;
    p.require(Action::LedgerWrite, &target)?;
    Ok(target)
}

/// Which records of a ledger to list.
pub struct RecordSelection {
    pub ledger_type_id: Uuid,
    /// One grid, or every grid the caller may read.
    pub grid_id: Option<Uuid>,
    pub status: RecordStatus,
    pub resident_id: Option<Uuid>,
}

/// A page of records with their type and the residents they are about.
pub type Listed = (LedgerType, Page<LedgerRecord>, HashMap<Uuid, Resident>);

/// A page of the records `p` may read at `now`; the read is audited when
/// the ledger's sensitivity asks for it.
pub async fn list(
    c: &mut Conn,
    p: &Principal,
    sel: RecordSelection,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> ApiResult<Listed> {
    let t = ledgers::get_type(c, sel.ledger_type_id).await?;
    let (grids, via) = match sel.grid_id {
        Some(g) => (Some(vec![g]), read_access(c, p, &t, g, now).await?),
        None => readable_grids(c, p, &t, now).await?,
    };
    let filter = RecordFilter {
        grids,
        status: Some(sel.status),
        resident_id: sel.resident_id,
    };
    let rows = ledgers::list_records(c, t.id, &filter, page).await?;
    let ids: Vec<Uuid> = rows.items.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        audit_read(c, p, &t, None, ids, via).await?;
    }
    let resident_ids: Vec<Uuid> = rows.items.iter().filter_map(|r| r.resident_id).collect();
    let residents = households::get_residents(c, &resident_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok((t, rows, residents))
}
