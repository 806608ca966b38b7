//! What a ledger record looks like to its reader, and the checks every read
//! and write of a record passes: the type's sensitivity, the grids the caller
//! may read, the audit of protected reads, the record's data against its type.

use chrono::{DateTime, Duration, Utc};
use onegrid_domain::identity::{Gender, age_on};
use onegrid_domain::ledger::RecordStatus;
use onegrid_domain::ledger::{FieldType, check_record};
use onegrid_domain::masking::{mask_id_number, mask_name};
use onegrid_domain::permissions::{Action, LedgerAccess, Target, ledger_access};
use onegrid_store::ledgers::{self, LedgerRecord, LedgerType};
use onegrid_store::registry::households::{self, Resident, SensitiveField};
use onegrid_store::targets;
use onegrid_store::{Conn, Principal, ledgers::break_glass, platform::audit, registry::hierarchy};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::state::AppState;

/// The resident a record is about, masked as the ledger type asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentSummary {
    pub id: Uuid,
    /// `张*` when the ledger type masks names.
    pub name: String,
    pub gender: Option<Gender>,
    pub age: Option<i32>,
    /// Always masked.
    pub id_number: Option<String>,
}

/// A ledger record.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRecordView {
    pub id: Uuid,
    pub ledger_type_id: Uuid,
    pub street_id: Uuid,
    pub grid_id: Uuid,
    pub resident: Option<ResidentSummary>,
    pub household_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// `active` or `retired`.
    pub status: RecordStatus,
    pub retired_reason: Option<String>,
    pub verified_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    /// Not verified within the type's period.
    pub stale: bool,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One kept state of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordVersionView {
    pub version: i32,
    /// created, edited, verified, retired, restored, moved.
    pub change: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub status: RecordStatus,
    pub retired_reason: Option<String>,
    pub grid_id: Uuid,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

fn summary(state: &AppState, t: &LedgerType, r: &Resident) -> ResidentSummary {
    let id_number = match r.open(&state.keys, SensitiveField::IdNumber) {
        Ok(v) => v.map(|v| mask_id_number(&v)),
        Err(_) => r.has(SensitiveField::IdNumber).then(|| "***".to_owned()),
    };
    ResidentSummary {
        id: r.id,
        name: if t.mask_name {
            mask_name(&r.name)
        } else {
            r.name.clone()
        },
        gender: r.gender.as_deref().and_then(Gender::parse),
        age: r.birth_date.map(|b| age_on(b, state.clock.today())),
        id_number,
    }
}

pub(crate) fn view(
    state: &AppState,
    t: &LedgerType,
    r: LedgerRecord,
    resident: Option<&Resident>,
) -> LedgerRecordView {
    let stale = r.verified_at + Duration::days(i64::from(t.verify_period_days)) < state.clock.now();
    LedgerRecordView {
        id: r.id,
        ledger_type_id: r.ledger_type_id,
        street_id: r.street_id,
        grid_id: r.grid_id,
        resident: resident.map(|res| summary(state, t, res)),
        household_id: r.household_id,
        data: r.data,
        status: r.status,
        retired_reason: r.retired_reason,
        verified_at: r.verified_at,
        verified_by: r.verified_by,
        stale,
        version: r.version,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// How a read was allowed (for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Scope,
    BreakGlass,
}

/// Checks read access to records of `t` in a grid: 404 when the caller may
/// never see them, 403 `break_glass_required` when a grant would open them.
pub(crate) async fn read_access(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    grid_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Via> {
    let target = targets::grid(c, p, grid_id).await?;
    let community = target.community.unwrap_or_default();
    match ledger_access(&p.grants, t.sensitivity(), &target) {
        LedgerAccess::Allowed => Ok(Via::Scope),
        LedgerAccess::NeedsBreakGlass => {
            if break_glass::live_communities(c, p.accountable_user(), t.id, now)
                .await?
                .contains(&community)
            {
                Ok(Via::BreakGlass)
            } else {
                Err(ApiError::new(
                    Code::BreakGlassRequired,
                    format!("break the glass for {} in this community first", t.code),
                ))
            }
        }
        LedgerAccess::Denied => Err(ApiError::not_found()),
    }
}

pub(crate) async fn audit_read(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    street: Option<Uuid>,
    ids: Vec<Uuid>,
    via: Via,
) -> ApiResult<()> {
    if !t.sensitivity().audits_reads() && via == Via::Scope {
        return Ok(());
    }
    let request_id = crate::http::request_id::current();
    let event = audit::Event {
        street_id: street,
        action: "ledger.read",
        subject_type: "ledger_record",
        subject_id: match ids.as_slice() {
            [one] => Some(*one),
            _ => None,
        },
        field: None,
        purpose: None,
        request_id: &request_id,
        details: serde_json::json!({ "ledger_type": t.code, "records": ids, "break_glass": via == Via::BreakGlass }),
    };
    Ok(audit::record(c, p, event).await?)
}

/// The grids whose records of `t` the caller may read (`None`: every grid in
/// scope), and whether a break-glass grant opened some of them.
pub(crate) async fn readable_grids(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    now: DateTime<Utc>,
) -> ApiResult<(Option<Vec<Uuid>>, Via)> {
    let live = break_glass::live_communities(c, p.accountable_user(), t.id, now).await?;
    let mut allowed = Vec::new();
    let mut all = true;
    let mut via = Via::Scope;
    for (grid, street, community) in hierarchy::visible_grids(c).await? {
        let target = Target::grid(p.district_id, street, community, grid);
        match ledger_access(&p.grants, t.sensitivity(), &target) {
            LedgerAccess::Allowed => allowed.push(grid),
            LedgerAccess::NeedsBreakGlass if live.contains(&community) => {
                via = Via::BreakGlass;
                allowed.push(grid);
            }
            _ => all = false,
        }
    }
    Ok((if all { None } else { Some(allowed) }, via))
}

/// Loads a record and its type, checking read access (and auditing the read).
pub(crate) async fn load_readable(
    c: &mut Conn,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(LedgerRecord, LedgerType)> {
    let r = ledgers::get_record(c, id).await?;
    let t = ledgers::get_type(c, r.ledger_type_id).await?;
    let via = read_access(c, p, &t, r.grid_id, now).await?;
    audit_read(c, p, &t, Some(r.street_id), vec![r.id], via).await?;
    Ok((r, t))
}

/// Loads a record for a write (404 when unreadable, 403 without `ledger.write`).
pub(crate) async fn load_writable(
    c: &mut Conn,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(LedgerRecord, LedgerType)> {
    let r = ledgers::get_record(c, id).await?;
    let t = ledgers::get_type(c, r.ledger_type_id).await?;
    let target = targets::grid(c, p, r.grid_id).await?;
    if !p.can(Action::LedgerWrite, &target) {
        read_access(c, p, &t, r.grid_id, now).await?;
        return Err(ApiError::forbidden("ledger.write"));
    }
    Ok((r, t))
}

pub(crate) async fn resident_of(c: &mut Conn, r: &LedgerRecord) -> ApiResult<Option<Resident>> {
    Ok(match r.resident_id {
        Some(id) => Some(households::get_resident(c, id).await?),
        None => None,
    })
}

/// Validates data against the type and checks every reference lies in `street`.
pub(crate) async fn checked_data(
    c: &mut Conn,
    t: &LedgerType,
    street: Uuid,
    data: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<serde_json::Value> {
    let valid = check_record(&t.field_defs(), data).map_err(|errors| {
        ApiError::fields(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )
    })?;
    for (field, kind, id) in &valid.references {
        let path = format!("data.{field}");
        let found_street = match kind {
            FieldType::Resident => {
                households::get_resident(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
            FieldType::Household => {
                households::get_household(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
            _ => {
                ledgers::get_record(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
        };
        if found_street != street {
            return Err(ApiError::new(
                Code::InvalidReference,
                format!("{path} does not exist in your scope"),
            ));
        }
    }
    Ok(serde_json::Value::Object(valid.data.into_iter().collect()))
}
