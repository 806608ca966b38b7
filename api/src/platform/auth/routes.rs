//! `/auth/login`, `/auth/refresh`, `/auth/logout` and `/me`.

use crate::http::input::Json;
use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use chrono::Duration;
use onegrid_domain::permissions::{MATRIX, Role, allowed_anywhere};
use onegrid_store::platform::auth::{self, Issued, Refreshed};
use onegrid_store::scope::Actor;
use onegrid_store::{StoreError, platform::staff};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::platform::scope_ref::ScopeView;
use crate::state::AppState;

/// Username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "chenlihua")]
    pub username: String,
    #[schema(example = "OneGrid-demo-2026")]
    pub password: String,
}

impl LoginRequest {
    /// Refused before any lookup: no such account could exist, and
    /// PostgreSQL rejects NUL bytes in text.
    fn check(&self) -> ApiResult<()> {
        let plausible = |v: &str, max: usize| {
            !v.is_empty() && v.len() <= max && !v.chars().any(char::is_control)
        };
        if plausible(&self.username, 64) && plausible(&self.password, 256) {
            Ok(())
        } else {
            Err(wrong_credentials())
        }
    }
}

/// The one answer to every refused login, whichever part was wrong.
fn wrong_credentials() -> ApiError {
    ApiError::new(Code::InvalidCredentials, "wrong username or password")
}

/// A refresh token to rotate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived EdDSA JWT; send as `Authorization: Bearer`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: exchange at `/auth/refresh` for a new pair. Reusing a spent
    /// one revokes the whole session.
    pub refresh_token: String,
    pub session_id: Uuid,
}

/// A role the caller holds today.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub role: Role,
    pub scope: ScopeView,
}

/// Who the caller is and what they may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// `user` or `api_key`.
    pub kind: &'static str,
    /// The user, or the API key's creator.
    pub user_id: Uuid,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub api_key_id: Option<Uuid>,
    pub district_id: Uuid,
    /// Roles active today.
    pub roles: Vec<GrantView>,
    /// Permissions held somewhere (see the permission matrix for their reach).
    pub permissions: Vec<&'static str>,
    /// Streets whose data the caller can see.
    pub street_ids: Vec<Uuid>,
}

fn tokens(state: &AppState, issued: &Issued) -> ApiResult<TokenResponse> {
    let ttl = state.config.access_ttl.as_secs();
    let access_token = state
        .tokens
        .issue(
            issued.user_id,
            issued.session_id,
            issued.district_id,
            state.clock.now().timestamp(),
            i64::try_from(ttl).unwrap_or(600),
        )
        .map_err(|e| ApiError::new(Code::Internal, e))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: issued.refresh_token.clone(),
        session_id: issued.session_id,
    })
}

/// Log in
///
/// Exchanges a username and password for a short-lived access token and a
/// single-use refresh token. Repeated failures for one username are throttled
/// (429 with `Retry-After`).
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses((status = 200, body = TokenResponse)))]
#[post("/auth/login")]
pub async fn login(state: Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    body.check()?;
    state.throttle.check(&body.username).await?;
    let ttl = Duration::from_std(state.config.session_ttl).unwrap_or_else(|_| Duration::days(30));
    let (username, password, now) = (body.username.clone(), body.password, state.clock.now());
    let result = state
        .db
        .acting(onegrid_store::Acting::Nobody, move |c| {
            Box::pin(async move {
                auth::login(c, &username, &password, ttl, now)
                    .await
                    .map_err(ApiError::from)
            })
        })
        .await;
    match result {
        Ok(issued) => {
            state.throttle.succeeded(&body.username).await?;
            Ok(HttpResponse::Ok().json(tokens(&state, &issued)?))
        }
        Err(e) if e.code == Code::InvalidToken => {
            state.throttle.failed(&body.username).await?;
            Err(wrong_credentials())
        }
        Err(e) => Err(e),
    }
}

/// Refresh tokens
///
/// Rotates a refresh token: the presented one is spent and a new pair is
/// returned. Presenting a spent token again revokes the whole session
/// (`refresh_token_reused`).
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 200, body = TokenResponse)))]
#[post("/auth/refresh")]
pub async fn refresh(state: Data<AppState>, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let token = body.into_inner().refresh_token;
    let now = state.clock.now();
    let outcome = state
        .db
        .acting(onegrid_store::Acting::Nobody, move |c| {
            Box::pin(async move { auth::refresh(c, &token, now).await.map_err(ApiError::from) })
        })
        .await?;
    match outcome {
        Refreshed::Rotated(issued) => Ok(HttpResponse::Ok().json(tokens(&state, &issued)?)),
        Refreshed::Reused => Err(StoreError::RefreshReuse.into()),
    }
}

/// Log out
///
/// Revokes the caller's session: its access tokens are refused from the next
/// request on and its refresh token can no longer be used.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Session revoked")))]
#[post("/auth/logout")]
pub async fn logout(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    state
        .as_self(caller, |c, p| {
            Box::pin(async move {
                match p.actor {
                    Actor::User { session_id, .. } => {
                        Ok(auth::revoke_session(c, session_id, "logout", p.now).await?)
                    }
                    Actor::ApiKey { .. } => Err(ApiError::new(
                        Code::ValidationFailed,
                        "API keys have no session; revoke the key instead",
                    )),
                }
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
///
/// The caller's identity, today's roles, the permissions they hold somewhere
/// and the streets they can see.
#[utoipa::path(tag = "auth", responses((status = 200, body = MeView)))]
#[get("/me")]
pub async fn me(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let view = state
        .as_self(caller, |c, p| {
            Box::pin(async move {
                let user = staff::get_user(c, p.accountable_user()).await?;
                let (kind, api_key_id, username, display_name) = match p.actor {
                    Actor::User { .. } => {
                        ("user", None, Some(user.username), Some(user.display_name))
                    }
                    Actor::ApiKey { key_id, .. } => ("api_key", Some(key_id), None, None),
                };
                Ok(MeView {
                    kind,
                    user_id: user.id,
                    username,
                    display_name,
                    api_key_id,
                    district_id: p.district_id,
                    roles: p
                        .grants
                        .iter()
                        .map(|g| GrantView {
                            role: g.role,
                            scope: ScopeView::from(&g.scope),
                        })
                        .collect(),
                    permissions: MATRIX
                        .iter()
                        .filter(|r| allowed_anywhere(&p.grants, r.action))
                        .map(|r| r.name)
                        .collect(),
                    street_ids: p.streets.clone(),
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
