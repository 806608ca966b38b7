//! The use cases of staff accounts: a new account with its home street, and
//! changes to one, where disabling it or a new password ends every session
//! at once. Passwords are hashed with argon2id here and never kept. They
//! know no HTTP.

use onegrid_store::platform::staff::{self, NewUser, User, UserChanges};
use onegrid_store::{Conn, Principal, platform::auth};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_name;
use crate::http::error::{ApiError, ApiResult};

/// A new account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// 3-64 of a-z, 0-9, `.`, `_`, `-`; unique in the deployment.
    #[schema(example = "suyue")]
    pub username: String,
    #[schema(example = "苏月")]
    pub display_name: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    /// Home street; omit for district-level staff (district admins only).
    pub street_id: Option<Uuid>,
}

/// Changes to an account. Disabling it also ends every session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    /// A new password (at least 12 characters); ends every session.
    #[schema(min_length = 12, max_length = 256)]
    pub password: Option<String>,
}

/// A new account's own rules: its username, name and password.
pub fn check_new(body: &NewUserBody) -> ApiResult<()> {
    check_username(&body.username)?;
    check_name("display_name", &body.display_name, 100)?;
    check_password("password", &body.password)
}

/// A change's own rules, on the fields it sends.
pub fn check_patch(body: &UserPatch) -> ApiResult<()> {
    if let Some(n) = &body.display_name {
        check_name("display_name", n, 100)?;
    }
    if let Some(pw) = &body.password {
        check_password("password", pw)?;
    }
    Ok(())
}

fn check_username(name: &str) -> ApiResult<()> {
    let ok = (3..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "username",
            "3-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
        ))
    }
}

fn check_password(field: &str, password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if !(12..=256).contains(&n) || password.chars().any(char::is_control) {
        return Err(ApiError::field(
            field,
            "must be 12 to 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Creates `body`'s account in `p`'s district.
pub async fn create(c: &mut Conn, p: &Principal, body: NewUserBody) -> ApiResult<User> {
    let new = NewUser {
        district_id: p.district_id,
        street_id: body.street_id,
        username: body.username,
        display_name: body.display_name,
        password: body.password,
    };
    Ok(staff::create_user(c, new).await?)
}

/// Applies `body` to account `id` read at `version`; disabling it or a new
/// password ends its sessions.
pub async fn change(
    c: &mut Conn,
    p: &Principal,
    (id, version): (Uuid, i32),
    body: UserPatch,
) -> ApiResult<User> {
    let ends_sessions = body.disabled == Some(true) || body.password.is_some();
    let password_hash = match body.password {
        Some(pw) => Some(auth::hash_password(pw).await?),
        None => None,
    };
    let changes = UserChanges {
        display_name: body.display_name,
        disabled: body.disabled,
        password_hash,
    };
    let updated = staff::update_user(c, id, version, changes).await?;
    if ends_sessions {
        auth::revoke_user_sessions(c, id, "account_changed", p.now).await?;
    }
    Ok(updated)
}
