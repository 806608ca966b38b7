//! The use cases of ledger types: adding one for the district, a street or
//! a community; evolving it so that existing records stay valid (fields only
//! added, choices only grown); changing its sensitivity, audited with the
//! reason. They know no HTTP.

use onegrid_domain::ledger::{FieldDef, Sensitivity, Subject, check_fields};
use onegrid_domain::permissions::{Action, Scope};
use onegrid_store::ledgers::{self, LedgerType, LedgerTypeChanges, NewLedgerType};
use onegrid_store::platform::audit;
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::{check_name, check_reason, double_option};
use crate::platform::scope_ref::ScopeRef;

/// A new ledger type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLedgerTypeBody {
    #[schema(example = "key_youth")]
    pub code: String,
    #[schema(example = "重点青少年")]
    pub name: String,
    pub description: Option<String>,
    pub subject: Subject,
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub mask_name: bool,
    /// Default 180.
    #[schema(minimum = 1, maximum = 3650)]
    pub verify_period_days: Option<i32>,
    pub fields: Vec<FieldDef>,
    /// Owner: a street or a community (none = the district; district admins only).
    #[serde(default)]
    pub scope: ScopeRef,
}

/// Changes to a ledger type. Fields may only be added (existing keys keep
/// their type; choice lists may grow).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerTypePatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 3650)]
    pub verify_period_days: Option<i32>,
    pub mask_name: Option<bool>,
    pub active: Option<bool>,
    pub fields: Option<Vec<FieldDef>>,
}

fn field_errors(errors: Vec<onegrid_domain::ledger::Invalid>) -> ApiError {
    ApiError::fields(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    )
}

fn check_period(days: Option<i32>) -> ApiResult<()> {
    match days {
        Some(d) if !(1..=3650).contains(&d) => {
            Err(ApiError::field("verify_period_days", "between 1 and 3650"))
        }
        _ => Ok(()),
    }
}

/// Fields may only be added: every old key stays with its type, choices only grow.
fn check_evolution(old: &[FieldDef], new: &[FieldDef]) -> ApiResult<()> {
    for (i, o) in old.iter().enumerate() {
        match new.iter().find(|n| n.key == o.key) {
            None => {
                return Err(ApiError::field(
                    &format!("fields[{i}]"),
                    format!("{} cannot be removed (retire the type instead)", o.key),
                ));
            }
            Some(n) if n.field_type != o.field_type => {
                return Err(ApiError::field(
                    &format!("fields[{i}].type"),
                    format!("{} keeps its type", o.key),
                ));
            }
            Some(n) if o.choices.iter().any(|c| !n.choices.contains(c)) => {
                return Err(ApiError::field(
                    &format!("fields[{i}].choices"),
                    format!("{} choices can only be added", o.key),
                ));
            }
            Some(n) if n.required && !o.required => {
                return Err(ApiError::field(
                    &format!("fields[{i}].required"),
                    format!("{} cannot become required", o.key),
                ));
            }
            Some(_) => {}
        }
    }
    if new
        .iter()
        .any(|n| n.required && !old.iter().any(|o| o.key == n.key))
    {
        return Err(ApiError::field(
            "fields",
            "added fields cannot be required: existing records lack them",
        ));
    }
    Ok(())
}

/// A new sensitivity for a ledger type, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityChange {
    pub sensitivity: Sensitivity,
    /// Why (at least 5 characters), kept in the audit log.
    #[schema(min_length = 5, max_length = 500)]
    pub reason: String,
}

/// 422 naming what of a new type needs no database to refuse.
pub fn check_new(body: &NewLedgerTypeBody) -> ApiResult<()> {
    check_name("name", &body.name, 100)?;
    if let Some(d) = &body.description {
        check_name("description", d, 1000)?;
    }
    if !onegrid_domain::departments::is_valid_department_code(&body.code) {
        return Err(ApiError::field(
            "code",
            "lowercase letters, digits and _, starting with a letter, 2-40 characters",
        ));
    }
    check_period(body.verify_period_days)?;
    check_fields(&body.fields).map_err(field_errors)
}

/// 422 naming what of a change needs no database to refuse.
pub fn check_patch(body: &LedgerTypePatch) -> ApiResult<()> {
    if let Some(n) = &body.name {
        check_name("name", n, 100)?;
    }
    if let Some(Some(d)) = &body.description {
        check_name("description", d, 1000)?;
    }
    check_period(body.verify_period_days)?;
    match &body.fields {
        Some(f) => check_fields(f).map_err(field_errors),
        None => Ok(()),
    }
}

/// 422 unless the reason says why in 5 to 500 characters.
pub fn check_sensitivity(body: &SensitivityChange) -> ApiResult<()> {
    check_reason(&body.reason)
}

/// Adds the type for the scope `body` names (found, or 422), which `p` must
/// manage.
pub async fn create(c: &mut Conn, p: &Principal, body: NewLedgerTypeBody) -> ApiResult<LedgerType> {
    let scope = body.scope.resolve(c, p).await?;
    let (street_id, community_id) = match scope {
        Scope::District { .. } => (None, None),
        Scope::Street { street, .. } => (Some(street), None),
        Scope::Community {
            street, community, ..
        } => (Some(street), Some(community)),
        _ => {
            return Err(ApiError::field(
                "scope",
                "a ledger type belongs to the district, a street or a community",
            ));
        }
    };
    p.require(Action::LedgerTypeManage, &scope.as_target())?;
    let new = NewLedgerType {
        district_id: p.district_id,
        street_id,
        community_id,
        code: body.code,
        name: body.name,
        description: body.description,
        subject: body.subject,
        sensitivity: body.sensitivity,
        mask_name: body.mask_name,
        verify_period_days: body.verify_period_days.unwrap_or(180),
        fields: body.fields,
    };
    Ok(ledgers::create_type(c, new).await?)
}

/// Applies `body` to `current` at `version`, its fields only evolving.
pub async fn update(
    c: &mut Conn,
    current: &LedgerType,
    version: i32,
    body: LedgerTypePatch,
) -> ApiResult<LedgerType> {
    if let Some(f) = &body.fields {
        check_evolution(&current.field_defs(), f)?;
    }
    let changes = LedgerTypeChanges {
        name: body.name,
        description: body.description,
        verify_period_days: body.verify_period_days,
        mask_name: body.mask_name,
        active: body.active,
        fields: body.fields.as_deref().map(ledgers::to_json),
    };
    Ok(ledgers::update_type(c, current.id, version, changes).await?)
}

/// Sets `current`'s sensitivity at `version`, recording the reason and the
/// levels before and after in the audit log under `request_id`.
pub async fn change_sensitivity(
    c: &mut Conn,
    p: &Principal,
    (current, version): (&LedgerType, i32),
    body: SensitivityChange,
    request_id: &str,
) -> ApiResult<LedgerType> {
    let changed = ledgers::set_sensitivity(c, current.id, version, body.sensitivity).await?;
    let event = audit::Event {
        street_id: current.street_id,
        action: "ledger_type.sensitivity",
        subject_type: "ledger_type",
        subject_id: Some(current.id),
        field: Some("sensitivity"),
        purpose: Some(&body.reason),
        request_id,
        details: serde_json::json!({
            "code": current.code,
            "from": current.sensitivity().as_str(),
            "to": body.sensitivity.as_str(),
        }),
    };
    audit::record(c, p, event).await?;
    Ok(changed)
}
