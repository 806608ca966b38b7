//! The use cases of the case category catalogue: a new code under an
//! existing parent, with its extra fields, clock and milestones checked
//! together, and changes to a category. They know no HTTP.

use onegrid_domain::catalogue::{Milestone, check_milestones, parent_code, valid_code};
use onegrid_domain::ledger::{FieldDef, check_fields};
use onegrid_domain::sla::{Budget, Tier};
use onegrid_domain::text::Name;
use onegrid_store::cases::setup::{self, Category, CategoryValues};
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::{ApiError, ApiResult, FieldError};

/// A new category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategoryBody {
    /// `NN`, `NN.NN` or `NN.NN.NN`; a sub-category's parent must exist.
    pub code: String,
    pub name: Name<100>,
    pub tier: Tier,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    pub resolution: Option<Budget>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
}

/// Changes to a category (the code cannot change).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<Name<100>>,
    pub tier: Option<Tier>,
    pub fields: Option<Vec<FieldDef>>,
    /// `null` clears the override.
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<Budget>)]
    pub resolution: Option<Option<Budget>>,
    pub milestones: Option<Vec<Milestone>>,
    pub active: Option<bool>,
}

impl From<CategoryPatch> for CategoryValues {
    fn from(body: CategoryPatch) -> Self {
        CategoryValues {
            code: None,
            name: body.name.map(String::from),
            tier: body.tier,
            fields: body.fields,
            resolution: body.resolution,
            milestones: body.milestones,
            active: body.active,
        }
    }
}

/// A new category's own rules: its code's shape, then its parts.
pub fn check_new(body: &NewCategoryBody) -> ApiResult<()> {
    if !valid_code(&body.code) {
        return Err(ApiError::field("code", "NN, NN.NN or NN.NN.NN"));
    }
    check_category_parts(Some(&body.fields), body.resolution, Some(&body.milestones))
}

/// A change's own rules: the parts it sends.
pub fn check_patch(body: &CategoryPatch) -> ApiResult<()> {
    check_category_parts(
        body.fields.as_deref(),
        body.resolution.flatten(),
        body.milestones.as_deref(),
    )
}

/// Adds `body` to `p`'s district catalogue once its parent code exists.
pub async fn add(c: &mut Conn, p: &Principal, body: NewCategoryBody) -> ApiResult<Category> {
    if let Some(parent) = parent_code(&body.code)
        && !setup::category_code_exists(c, p.district_id, parent).await?
    {
        return Err(ApiError::field(
            "code",
            "its parent category does not exist",
        ));
    }
    let values = CategoryValues {
        code: Some(body.code),
        name: Some(body.name.into_inner()),
        tier: Some(body.tier),
        fields: Some(body.fields),
        resolution: Some(body.resolution),
        milestones: Some(body.milestones),
        active: None,
    };
    Ok(setup::create_category(c, p.district_id, values).await?)
}

pub fn check_category_parts(
    fields: Option<&[FieldDef]>,
    resolution: Option<Budget>,
    milestones: Option<&[Milestone]>,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(fields) = fields.filter(|f| !f.is_empty())
        && let Err(invalid) = check_fields(fields)
    {
        errors.extend(invalid.into_iter().map(|i| FieldError {
            field: i.field,
            message: i.message,
        }));
    }
    if let Some(r) = resolution {
        check_budget("resolution", r, &mut errors);
    }
    if let Some(m) = milestones
        && let Err(message) = check_milestones(m)
    {
        errors.push(FieldError {
            field: "milestones".into(),
            message,
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// A clock's budget: 1 to 525,600 minutes (a year).
pub fn check_budget(field: &str, b: Budget, errors: &mut Vec<FieldError>) {
    if !(1..=525_600).contains(&b.minutes) {
        errors.push(FieldError {
            field: format!("{field}.minutes"),
            message: "1 to 525600 minutes".into(),
        });
    }
}
