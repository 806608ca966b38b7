//! The use cases of the resident registry: registering, changing and moving
//! a resident, revealing a sealed value for a stated purpose, and the exact
//! lookup by one. Values are checked before any database work; every reveal
//! and search is audited without the value. They know no HTTP.

use chrono::NaiveDate;
use onegrid_domain::identity::{IdNumber, normalize_phone, parse_id_number};
use onegrid_domain::permissions::{Action, Target};
use onegrid_store::crypto::FieldKeys;
use onegrid_store::registry::households::{
    self, Move, NewResident, Resident, ResidentChanges, SensitiveField,
};
use onegrid_store::{Conn, Principal, StoreError, platform::audit, registry::hierarchy, targets};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, reference};
use crate::http::{check_name, double_option};

const RELATIONS: [&str; 7] = [
    "head",
    "spouse",
    "child",
    "parent",
    "grandchild",
    "sibling",
    "other",
];

/// A new resident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResidentBody {
    #[schema(example = "张芬")]
    pub name: String,
    pub household_id: Option<Uuid>,
    pub relation: Option<String>,
    /// 18-character citizen ID number (GB 11643); birth date and gender are derived.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Changes to a resident; `null` clears a field.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub relation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub household_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// A move to another grid of the street.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub grid_id: Uuid,
    pub reason: Option<String>,
}

/// Which sensitive field to reveal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    IdNumber,
    Phone,
}

/// A reveal request: the purpose is written to the audit log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentRevealBody {
    pub field: RevealField,
    /// Why the value is needed (5-200 characters), e.g. 低保复核入户核对.
    pub purpose: String,
}

/// A revealed value.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub resident_id: Uuid,
    pub field: RevealField,
    pub value: Option<String>,
}

/// Exact lookup by a sensitive value (sent in the body, never in a URL).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// The sealed values of a patch, checked before any database work: for
/// each, absent, cleared or set.
pub struct Sealed {
    id_number: Option<Option<IdNumber>>,
    phone: Option<Option<String>>,
}

fn check_id(raw: &str, today: NaiveDate) -> ApiResult<IdNumber> {
    parse_id_number(raw, today).map_err(|e| ApiError::field("id_number", e.to_string()))
}

/// The normalised phone number, or 422 on `phone`.
pub fn check_phone(raw: &str) -> ApiResult<String> {
    normalize_phone(raw).ok_or_else(|| {
        ApiError::field(
            "phone",
            "must be a mobile (11 digits from 1) or a landline (7-12 digits)",
        )
    })
}

fn check_relation(relation: Option<&str>) -> ApiResult<()> {
    match relation {
        Some(r) if !RELATIONS.contains(&r) => Err(ApiError::field(
            "relation",
            format!("one of {}", RELATIONS.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn check_tags(tags: &[String]) -> ApiResult<()> {
    if tags.len() > 20 {
        return Err(ApiError::field("tags", "at most 20 tags"));
    }
    tags.iter().try_for_each(|t| check_name("tags", t, 40))
}

/// 422 unless household `id` exists in `street` (a district user sees several
/// streets; a resident's household is always in the resident's street).
async fn check_household(c: &mut Conn, street: Uuid, id: Uuid) -> ApiResult<()> {
    let household = households::get_household(c, id)
        .await
        .map_err(reference("household_id"))?;
    if household.street_id != street {
        return Err(ApiError::new(
            Code::InvalidReference,
            "household_id does not exist in your scope",
        ));
    }
    Ok(())
}

/// The sealed values of a new resident: its ID number and phone, if given.
pub type NewSealed = (Option<IdNumber>, Option<String>);

/// Checks a new resident's values.
pub fn check_new(body: &NewResidentBody, today: NaiveDate) -> ApiResult<NewSealed> {
    check_name("name", &body.name, 100)?;
    check_relation(body.relation.as_deref())?;
    check_tags(&body.tags)?;
    let id_number = body
        .id_number
        .as_deref()
        .map(|v| check_id(v, today))
        .transpose()?;
    let phone = body.phone.as_deref().map(check_phone).transpose()?;
    Ok((id_number, phone))
}

/// Registers a resident of the proven `grid`.
pub async fn register(
    c: &mut Conn,
    keys: &FieldKeys,
    (grid_id, grid): (Uuid, Target),
    body: NewResidentBody,
    (id_number, phone): NewSealed,
) -> ApiResult<Resident> {
    let street_id = grid.street.unwrap_or_default();
    if let Some(h) = body.household_id {
        check_household(c, street_id, h).await?;
    }
    let new = NewResident {
        street_id,
        grid_id,
        household_id: body.household_id,
        relation: body.relation,
        name: body.name,
        id_number,
        phone,
        tags: body.tags,
    };
    Ok(households::create_resident(c, keys, new).await?)
}

/// Checks a patch's values.
pub fn check_patch(body: &ResidentPatch, today: NaiveDate) -> ApiResult<Sealed> {
    if let Some(n) = &body.name {
        check_name("name", n, 100)?;
    }
    check_relation(body.relation.clone().flatten().as_deref())?;
    if let Some(t) = &body.tags {
        check_tags(t)?;
    }
    Ok(Sealed {
        id_number: body
            .id_number
            .as_ref()
            .map(|v| v.as_deref().map(|v| check_id(v, today)).transpose())
            .transpose()?,
        phone: body
            .phone
            .as_ref()
            .map(|v| v.as_deref().map(check_phone).transpose())
            .transpose()?,
    })
}

/// Applies a patch to `current`, read at `version`.
pub async fn update(
    c: &mut Conn,
    keys: &FieldKeys,
    (current, version): (Resident, i32),
    body: ResidentPatch,
    sealed: Sealed,
) -> ApiResult<Resident> {
    if let Some(Some(h)) = body.household_id {
        check_household(c, current.street_id, h).await?;
    }
    let changes = ResidentChanges {
        name: body.name,
        relation: body.relation,
        household_id: body.household_id,
        id_number: sealed.id_number,
        phone: sealed.phone,
        tags: body.tags,
    };
    if version != current.version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        }
        .into());
    }
    Ok(households::update_resident(c, keys, &current, version, changes).await?)
}

/// Checks a move's values.
pub fn check_move(body: &MoveBody) -> ApiResult<()> {
    match &body.reason {
        Some(r) => check_name("reason", r, 200),
        None => Ok(()),
    }
}

/// Moves `current` to another grid of its street, keeping the move in its
/// history.
pub async fn move_to(
    c: &mut Conn,
    p: &Principal,
    current: Resident,
    body: MoveBody,
) -> ApiResult<Move> {
    let to = hierarchy::get_grid(c, body.grid_id)
        .await
        .map_err(reference("grid_id"))?;
    if to.street_id != current.street_id {
        return Err(ApiError::field(
            "grid_id",
            "residents move within their street; another street registers them anew",
        ));
    }
    if to.id == current.grid_id {
        return Err(ApiError::field(
            "grid_id",
            "the resident already lives in this grid",
        ));
    }
    let (_, record) =
        households::move_resident(c, &current, to.id, body.reason, p.accountable_user()).await?;
    Ok(record)
}

/// Opens the asked field of `r` and audits the reveal with its purpose and
/// `request_id`, never the value.
pub async fn reveal(
    c: &mut Conn,
    p: &Principal,
    keys: &FieldKeys,
    r: Resident,
    (body, request_id): (ResidentRevealBody, &str),
) -> ApiResult<Revealed> {
    let field = match body.field {
        RevealField::IdNumber => SensitiveField::IdNumber,
        RevealField::Phone => SensitiveField::Phone,
    };
    let value = r.open(keys, field).map_err(|e| {
        ApiError::new(
            Code::Internal,
            format!("cannot open {}: {e}", field.column()),
        )
    })?;
    let event = audit::Event {
        street_id: Some(r.street_id),
        action: "resident.reveal",
        subject_type: "resident",
        subject_id: Some(r.id),
        field: Some(field.column()),
        purpose: Some(&body.purpose),
        request_id,
        details: serde_json::json!({}),
    };
    audit::record(c, p, event).await?;
    Ok(Revealed {
        resident_id: r.id,
        field: body.field,
        value,
    })
}

/// The one sealed value a search looks for.
pub type Sought = (SensitiveField, String);

/// The field and normalised value of a search: exactly one is given.
pub fn sought(body: &SearchBody, today: NaiveDate) -> ApiResult<Sought> {
    match (&body.id_number, &body.phone) {
        (Some(id), None) => Ok((SensitiveField::IdNumber, check_id(id, today)?.value)),
        (None, Some(phone)) => Ok((SensitiveField::Phone, check_phone(phone)?)),
        _ => Err(ApiError::field(
            "body",
            "give exactly one of id_number, phone",
        )),
    }
}

/// The residents of the caller's streets holding the sought value that the
/// caller may read; the search is audited with their ids, not the value.
pub async fn search(
    c: &mut Conn,
    p: &Principal,
    keys: &FieldKeys,
    (field, value): Sought,
    request_id: &str,
) -> ApiResult<Vec<Resident>> {
    let candidates = households::find_residents(c, keys, &p.streets, field, &value).await?;
    let mut visible = Vec::new();
    for r in candidates {
        let target = targets::grid(c, p, r.grid_id).await?;
        if p.can(Action::RegistryRead, &target) {
            visible.push(r);
        }
    }
    let results: Vec<Uuid> = visible.iter().map(|r| r.id).collect();
    let event = audit::Event {
        street_id: None,
        action: "resident.search",
        subject_type: "resident",
        subject_id: None,
        field: Some(field.column()),
        purpose: None,
        request_id,
        details: serde_json::json!({ "results": results }),
    };
    audit::record(c, p, event).await?;
    Ok(visible)
}
