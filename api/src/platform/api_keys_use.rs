//! The use case of minting an API key: only a person mints one, for a role
//! they may grant where the key acts, shown once and stored only hashed. It
//! knows no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::permissions::{Action, Role};
use onegrid_store::platform::auth::api_keys::{self, ApiKey};
use onegrid_store::scope::Actor;
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_name;
use crate::http::error::{ApiError, ApiResult};
use crate::platform::grants_use;
use crate::platform::scope_ref::ScopeRef;

/// A key to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    #[schema(example = "district mini-program backend")]
    pub name: String,
    /// The role the key acts with; only roles the creator may grant.
    pub role: Role,
    #[serde(default)]
    pub scope: ScopeRef,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Only people manage keys: a key cannot mint or revoke keys.
pub fn require_person(p: &Principal) -> ApiResult<Uuid> {
    match p.actor {
        Actor::User { user_id, .. } => Ok(user_id),
        Actor::ApiKey { .. } => {
            Err(ApiError::forbidden("api_key.manage")
                .with_detail("API keys cannot manage API keys"))
        }
    }
}

/// Checks a new key's values that need no database: its name, and an expiry
/// after `now`.
pub fn check_new(body: &NewApiKey, now: DateTime<Utc>) -> ApiResult<()> {
    check_name("name", &body.name, 100)?;
    if body.expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    Ok(())
}

/// Mints the key for `p`: its row and the plaintext, shown this once.
pub async fn mint(c: &mut Conn, p: &Principal, body: NewApiKey) -> ApiResult<(ApiKey, String)> {
    let creator = require_person(p)?;
    let asked = (Action::ApiKeyManage, body.role);
    let scope = grants_use::grantable(c, p, asked, &body.scope).await?;
    let expires = body.expires_at;
    Ok(api_keys::create(c, &body.name, body.role, &scope, creator, expires).await?)
}
