//! A scope named in a request body (where a role or API key is held), resolved
//! against what the caller can see.

use onegrid_domain::permissions::{Role, Scope, ScopeKind};
use onegrid_store::{Conn, Principal, registry::departments, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};

/// Where a role is held: give the most specific id (grid, community, street
/// or department); none at all means the whole district.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRef {
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// A scope as returned by the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScopeView {
    pub kind: ScopeKind,
    pub district_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<Uuid>,
}

impl From<&Scope> for ScopeView {
    fn from(scope: &Scope) -> ScopeView {
        let (street_id, community_id, grid_id, department_id) =
            onegrid_store::platform::staff::scope_columns(scope);
        ScopeView {
            kind: scope.kind(),
            district_id: scope.district(),
            street_id,
            community_id,
            grid_id,
            department_id,
        }
    }
}

impl ScopeRef {
    /// Loads the named node (422 when not visible) and builds its scope.
    pub async fn resolve(&self, conn: &mut Conn, principal: &Principal) -> ApiResult<Scope> {
        let district = principal.district_id;
        let given = [
            self.street_id.is_some(),
            self.community_id.is_some(),
            self.grid_id.is_some(),
            self.department_id.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(ApiError::field(
                "scope",
                "name exactly one of street_id, community_id, grid_id, department_id",
            ));
        }
        if let Some(id) = self.grid_id {
            let g = hierarchy::get_grid(conn, id)
                .await
                .map_err(crate::http::error::reference("scope.grid_id"))?;
            return Ok(Scope::Grid {
                district,
                street: g.street_id,
                community: g.community_id,
                grid: g.id,
            });
        }
        if let Some(id) = self.community_id {
            let c = hierarchy::get_community(conn, id)
                .await
                .map_err(crate::http::error::reference("scope.community_id"))?;
            return Ok(Scope::Community {
                district,
                street: c.street_id,
                community: c.id,
            });
        }
        if let Some(id) = self.street_id {
            let s = hierarchy::get_street(conn, id)
                .await
                .map_err(crate::http::error::reference("scope.street_id"))?;
            return Ok(Scope::Street {
                district,
                street: s.id,
            });
        }
        if let Some(id) = self.department_id {
            let d = departments::get(conn, id)
                .await
                .map_err(crate::http::error::reference("scope.department_id"))?;
            return Ok(Scope::Department {
                district,
                department: d.id,
            });
        }
        Ok(Scope::District { district })
    }
}

/// 422 unless `role` can be held in a scope of this kind.
pub fn check_role_scope(role: Role, scope: &Scope) -> ApiResult<()> {
    if role.scope_kinds().contains(&scope.kind()) {
        return Ok(());
    }
    let kinds: Vec<&str> = role.scope_kinds().iter().map(|k| k.as_str()).collect();
    Err(ApiError::field(
        "scope",
        format!(
            "{} is held in a {} scope",
            role.as_str(),
            kinds.join(" or ")
        ),
    ))
}
