//! API keys for machine clients: scoped to one role in one scope, stored
//! hashed, shown once, revocable at once.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::{Action, Role};
use onegrid_store::platform::auth::api_keys::{self, ApiKey};
use onegrid_store::scope::scope_from_columns;
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IdempotencyKey, PageQuery, Paged};
use crate::platform::api_keys_use::{self, NewApiKey, require_person};
use crate::platform::auth::Caller;
use crate::platform::scope_ref::ScopeView;
use crate::state::{AppState, Created};

/// An API key (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub scope: ScopeView,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyView {
    fn from_row(k: ApiKey) -> ApiResult<ApiKeyView> {
        let role =
            Role::parse(&k.role).ok_or_else(|| ApiError::new(Code::Internal, "unknown role"))?;
        let scope = scope_from_columns(
            &k.scope_kind,
            k.district_id,
            k.street_id,
            k.community_id,
            k.grid_id,
            k.department_id,
        )
        .ok_or_else(|| ApiError::new(Code::Internal, "api key with a broken scope"))?;
        Ok(ApiKeyView {
            id: k.id,
            name: k.name,
            role,
            scope: ScopeView::from(&scope),
            created_by: k.created_by,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        })
    }
}

/// A newly created key: `key` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKeyView,
    /// Send as `X-API-Key` (or `Authorization: Bearer`). Store it now: it is
    /// in the first response only. A replay of the create (the same
    /// `Idempotency-Key`) returns the key without it; if it was lost, revoke
    /// the key and create another.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub key: Option<String>,
}

/// List API keys
///
/// Keys whose scope lies in the caller's streets (or district), revoked ones included.
#[utoipa::path(tag = "api-keys", params(PageQuery), responses((status = 200, body = Paged<ApiKeyView>)))]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .checked(
            caller,
            Action::ApiKeyManage,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move {
                    require_person(&p)?;
                    Ok(api_keys::list(c, &page).await?)
                })
            },
        )
        .await?;
    let items: ApiResult<Vec<_>> = rows.items.into_iter().map(ApiKeyView::from_row).collect();
    let page = onegrid_store::page::Page {
        items: items?,
        next_after: rows.next_after,
    };
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |k| k)))
}

/// Create an API key
///
/// Creates a key acting as one role in one scope, for a machine client such as
/// a district's own front-end backend. The plaintext key is in this response
/// only: it is stored hashed, and a replay under the same `Idempotency-Key`
/// answers the same 201 without `key` (nothing stores it to replay).
#[utoipa::path(tag = "api-keys", request_body = NewApiKey, responses((status = 201, body = CreatedApiKey)))]
#[post("/api-keys")]
pub async fn create_api_key(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewApiKey>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    api_keys_use::check_new(&body, state.clock.now())?;
    // The scope is named in the body: it is found (422 when it is not) and
    // checked in the create.
    let hash = crate::http::request_hash(&body);
    state
        .create(
            caller,
            (Action::ApiKeyManage, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let (row, plaintext) = api_keys_use::mint(c, &p, body).await?;
                    let location = format!("/api/v1/api-keys/{}", row.id);
                    let view = CreatedApiKey {
                        api_key: ApiKeyView::from_row(row)?,
                        key: Some(plaintext),
                    };
                    Ok(Created::new(view, location, None)?.with_secret("key"))
                })
            },
        )
        .await
}

/// Revoke an API key
///
/// Revokes the key; its next request is refused with 401.
#[utoipa::path(tag = "api-keys", params(("api_key_id" = Uuid, Path, description = "API key id")), responses((status = 200, body = ApiKeyView)))]
#[delete("/api-keys/{api_key_id}")]
pub async fn revoke_api_key(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .on_row(
            caller,
            Action::ApiKeyManage,
            move |c| Box::pin(api_keys::get(c, id)),
            move |c, p, _| {
                Box::pin(async move {
                    require_person(&p)?;
                    Ok(api_keys::revoke(c, id, p.now).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(ApiKeyView::from_row(row)?))
}
