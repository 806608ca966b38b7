//! The rule both kinds of grant share, a role given to a person and a role an
//! API key acts with: the scope named in the request is found, fits the role,
//! is one the granter may act on, and the granter's own roles may grant the
//! role there. It knows no HTTP.

use onegrid_domain::permissions::{Action, Role, Scope, may_grant, rule};
use onegrid_store::{Conn, Principal};

use crate::http::error::{ApiError, ApiResult};
use crate::platform::scope_ref::{ScopeRef, check_role_scope};

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
