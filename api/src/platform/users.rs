//! Staff accounts. Passwords are stored as argon2id hashes and never returned.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use onegrid_domain::permissions::Action;
use onegrid_store::platform::staff::{self};
use onegrid_store::targets::{Guarded, On};
use onegrid_store::{Conn, platform::auth};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::users_use::{self, NewUserBody, UserPatch};
use crate::http::error::ApiResult;
use crate::http::{IdempotencyKey, IfMatch, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A staff account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub district_id: Uuid,
    /// Home street; absent for district-level staff.
    pub street_id: Option<Uuid>,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<staff::User> for UserView {
    fn from(u: staff::User) -> Self {
        UserView {
            id: u.id,
            district_id: u.district_id,
            street_id: u.street_id,
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Filters of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// Only accounts whose home street is this one.
    pub street_id: Option<Uuid>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(UserFilter);

/// Sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedView {
    pub revoked_sessions: usize,
}

/// Reads an account and runs `f` with it. Anyone reads their own account (as
/// themselves); others need `staff.read`: over the account's street, or for
/// district staff (no home street) anywhere in the district. An account the
/// caller cannot see is 404.
pub(crate) async fn read_account<T, F>(
    state: &AppState,
    caller: Caller,
    id: Uuid,
    f: F,
) -> ApiResult<T>
where
    F: for<'c> FnOnce(&'c mut Conn, staff::User) -> BoxFuture<'c, ApiResult<T>> + Send + 'static,
    T: Send + 'static,
{
    state
        .as_self(caller, move |c, p| {
            Box::pin(async move {
                // Loaded first: an account behind the tenant wall is 404.
                let u = staff::get_user(c, id).await?;
                // One's own account (an API key's is its maker's) needs nothing.
                if u.id != p.accountable_user() {
                    match u.street_id {
                        Some(_) => p.require(Action::StaffRead, &u.target(p.district_id))?,
                        None => p.require_anywhere(Action::StaffRead)?,
                    }
                }
                f(c, u).await
            })
        })
        .await
}

/// List staff accounts
///
/// Accounts visible to the caller: their street's staff and district-level staff.
#[utoipa::path(tag = "staff", params(UserFilter), responses((status = 200, body = Paged<UserView>)))]
#[get("/users")]
pub async fn list_users(
    state: Data<AppState>,
    caller: Caller,
    Listed(filter, page): Listed<UserFilter>,
) -> ApiResult<HttpResponse> {
    let street = filter.street_id;
    let rows = state
        .proven(caller, Action::StaffRead, On::Anywhere, move |c| {
            Box::pin(async move { staff::list_users(c, street, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, UserView::from)))
}

/// Create a staff account
///
/// Creates an account with a home street (or none, for district staff). Roles
/// are granted separately. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(tag = "staff", request_body = NewUserBody, responses((status = 201, body = UserView)))]
#[post("/users")]
pub async fn create_user(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewUserBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    users_use::check_new(&body)?;
    let hash_input = serde_json::json!({"username": body.username, "display_name": body.display_name, "street_id": body.street_id});
    // A district account is managed by the district; a home street named in
    // the body that the caller cannot see is a bad reference (422).
    let on = match body.street_id {
        Some(s) => On::Street(s).named("street_id"),
        None => On::District.into(),
    };
    state
        .create(
            caller,
            (Action::StaffManage, on),
            (key, crate::http::request_hash(&hash_input)),
            move |c, p, _| {
                Box::pin(async move {
                    let user = users_use::create(c, &p, body).await?;
                    let (location, version) = (format!("/api/v1/users/{}", user.id), user.version);
                    Created::new(UserView::from(user), location, Some(version))
                })
            },
        )
        .await
}

/// Get a staff account
///
/// One account. 404 when it is not in the caller's scope.
#[utoipa::path(tag = "staff", params(("user_id" = Uuid, Path, description = "User id")), responses((status = 200, body = UserView)))]
#[get("/users/{user_id}")]
pub async fn get_user(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let user = read_account(&state, caller, id, |_, u| Box::pin(async move { Ok(u) })).await?;
    let version = user.version;
    Ok(ok_with_etag(&UserView::from(user), version))
}

/// Update a staff account
///
/// Changes the display name, password or disabled flag. Disabling or a new
/// password ends every session of the account at once. Requires `If-Match`.
#[utoipa::path(tag = "staff", params(("user_id" = Uuid, Path, description = "User id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = UserPatch, responses((status = 200, body = UserView)))]
#[patch("/users/{user_id}")]
pub async fn update_user(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<UserPatch>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    users_use::check_patch(&body)?;
    let user = state
        .on_row(
            caller,
            Action::StaffManage,
            move |c| Box::pin(staff::get_user(c, id)),
            move |c, p, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    users_use::change(c, &p, (id, version), body).await
                })
            },
        )
        .await?;
    let version = user.version;
    Ok(ok_with_etag(&UserView::from(user), version))
}

/// Revoke a user's sessions
///
/// Ends every login session of the account; its access tokens stop working on
/// their next request and its refresh tokens are refused.
#[utoipa::path(tag = "staff", params(("user_id" = Uuid, Path, description = "User id")), responses((status = 200, body = RevokedView)))]
#[post("/users/{user_id}/revoke-sessions")]
pub async fn revoke_sessions(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let revoked = state
        .on_row(
            caller,
            Action::StaffManage,
            move |c| Box::pin(staff::get_user(c, id)),
            move |c, p, _| {
                Box::pin(async move {
                    Ok(auth::revoke_user_sessions(c, id, "revoked_by_admin", p.now).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(RevokedView {
        revoked_sessions: revoked,
    }))
}
