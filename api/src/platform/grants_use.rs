//! The rule both kinds of grant share, a role given to a person and a role an
//! API key acts with: the scope named in the request is found, fits the role,
//! is one the granter may act on, and the granter's own roles may grant the
//! role there. It knows no HTTP.

use chrono::NaiveDate;
use onegrid_domain::permissions::{Action, Role, Scope, may_grant, rule};
use onegrid_store::platform::staff::{self, RoleAssignment};
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::parse_day;
use crate::platform::scope_ref::{ScopeRef, check_role_scope};

/// A role to grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleAssignment {
    pub role: Role,
    /// Where the role is held; omit for the whole district.
    #[serde(default)]
    pub scope: ScopeRef,
    /// First valid day (default: today).
    #[schema(format = Date, example = "2026-12-01")]
    pub valid_from: Option<String>,
    /// Last valid day (default: open-ended).
    #[schema(format = Date)]
    pub valid_to: Option<String>,
}

/// The window of days a grant asks for: from `valid_from` (default `today`)
/// to `valid_to` (default open-ended), never ending before it begins.
pub fn check_window(
    body: &NewRoleAssignment,
    today: NaiveDate,
) -> ApiResult<(NaiveDate, Option<NaiveDate>)> {
    let valid_from = parse_day("valid_from", body.valid_from.as_deref())?.unwrap_or(today);
    let valid_to = parse_day("valid_to", body.valid_to.as_deref())?;
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(ApiError::field("valid_to", "must not be before valid_from"));
    }
    Ok((valid_from, valid_to))
}

/// Grants `body`'s role to account `user_id` for `window`, once `p` is
/// proven to grant it in the scope the body names.
pub async fn grant_role(
    c: &mut Conn,
    p: &Principal,
    user_id: Uuid,
    body: NewRoleAssignment,
    window: (NaiveDate, Option<NaiveDate>),
) -> ApiResult<RoleAssignment> {
    let user = staff::get_user(c, user_id).await?;
    let scope = grantable(c, p, (Action::RoleAssign, body.role), &body.scope).await?;
    let by = Some(p.accountable_user());
    Ok(staff::assign_role(c, user.id, body.role, &scope, window, by).await?)
}

/// The scope `named` resolves to, once `p` is proven to grant `role` there
/// under `action` (422 for a scope that is not found or does not fit the
/// role, 403 otherwise).
pub async fn grantable(
    c: &mut Conn,
    p: &Principal,
    (action, role): (Action, Role),
    named: &ScopeRef,
) -> ApiResult<Scope> {
    let scope = named.resolve(c, p).await?;
    check_role_scope(role, &scope)?;
    p.require(action, &scope.as_target())?;
    if !may_grant(&p.grants, role, &scope) {
        return Err(ApiError::forbidden(rule(action).name)
            .with_detail(format!("your role may not grant {} here", role.as_str())));
    }
    Ok(scope)
}
