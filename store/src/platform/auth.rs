//! Credentials: argon2 password hashes, login sessions with rotating refresh
//! tokens (reuse revokes the session), and hashed API keys.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{AuthFailure, StoreError, StoreResult};
use crate::schema::{refresh_tokens, sessions, users};
use crate::scope::{self, Proven};

/// Hashes a password with argon2id (OWASP parameters), off the async threads.
pub async fn hash_password(password: String) -> StoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Unavailable(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Unavailable(e.to_string()))?
}

/// Verifies a password against a stored hash, off the async threads. A missing
/// user is checked against a fixed hash so both cases take the same time.
async fn verify_password(password: String, stored: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3qk3jmjJ+Xx0r7JIufFzWcZ0uh0Uq1AAh4m8lbj9eZ4";
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && known
}

/// SHA-256 of a high-entropy secret (refresh tokens, API keys).
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Constant-time comparison of a presented secret with a stored hash.
pub fn secret_matches(secret: &str, stored: &[u8]) -> bool {
    let presented = secret_hash(secret);
    presented.len() == stored.len()
        && presented
            .iter()
            .zip(stored)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new session's identifiers and its first refresh token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The user who logged in.
    pub user_id: Uuid,
    /// The user's district (the access token names it).
    pub district_id: Uuid,
    /// The session opened (or continued, on a refresh).
    pub session_id: Uuid,
    /// The refresh token in plaintext, `<session id>.<secret>`: shown once, only its hash kept.
    pub refresh_token: String,
}

#[derive(QueryableByName)]
struct LoginRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    district_id: Uuid,
    #[diesel(sql_type = Text)]
    password_hash: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    disabled: bool,
}

/// Checks a username and password and opens a session lasting `session_ttl`.
pub async fn login(
    conn: &mut Conn,
    username: &str,
    password: &str,
    session_ttl: Duration,
    now: DateTime<Utc>,
) -> StoreResult<Issued> {
    let row: Option<LoginRow> = diesel::sql_query("SELECT * FROM og_login_lookup($1)")
        .bind::<Text, _>(username)
        .get_result(conn)
        .await
        .optional()?;
    let ok = verify_password(
        password.to_owned(),
        row.as_ref().map(|r| r.password_hash.clone()),
    )
    .await;
    let Some(row) = row.filter(|_| ok) else {
        return Err(StoreError::Unauthenticated(AuthFailure::BadPassword));
    };
    if row.disabled {
        return Err(StoreError::Unauthenticated(AuthFailure::UserDisabled));
    }
    scope::prove(
        conn,
        Proven::Password {
            user: row.user_id,
            district: row.district_id,
        },
    )
    .await?;
    let session_id = Uuid::now_v7();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id),
            sessions::user_id.eq(row.user_id),
            sessions::expires_at.eq(now + session_ttl),
        ))
        .execute(conn)
        .await?;
    let refresh_token = issue_refresh(conn, session_id).await?;
    Ok(Issued {
        user_id: row.user_id,
        district_id: row.district_id,
        session_id,
        refresh_token,
    })
}

async fn issue_refresh(conn: &mut Conn, session_id: Uuid) -> StoreResult<String> {
    let token = format!("{session_id}.{}", random_secret());
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(secret_hash(&token)),
            refresh_tokens::session_id.eq(session_id),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Refreshed {
    /// The token was current: here is its successor.
    Rotated(Issued),
    /// The token had already been used: the session is now revoked (commit this).
    Reused,
}

/// Rotates a refresh token. Presenting a spent token revokes its session.
pub async fn refresh(conn: &mut Conn, token: &str, now: DateTime<Utc>) -> StoreResult<Refreshed> {
    let session_id = token
        .split_once('.')
        .and_then(|(id, _)| Uuid::parse_str(id).ok())
        .ok_or(StoreError::Unauthenticated(AuthFailure::MalformedRefresh))?;
    scope::prove(conn, Proven::Session(session_id)).await?;
    let found: Option<Option<DateTime<Utc>>> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(secret_hash(token)))
        .filter(refresh_tokens::session_id.eq(session_id))
        .select(refresh_tokens::used_at)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(used_at) = found else {
        return Err(StoreError::Unauthenticated(AuthFailure::UnknownRefresh));
    };
    if used_at.is_some() {
        revoke_session(conn, session_id, "refresh_token_reuse", now).await?;
        return Ok(Refreshed::Reused);
    }
    let user_id: Option<Uuid> = sessions::table
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(sessions::user_id)
        .first(conn)
        .await
        .optional()?;
    let Some(user_id) = user_id else {
        return Err(StoreError::Unauthenticated(AuthFailure::SessionEnded));
    };
    // The session names its user; only now may the transaction see that user.
    scope::prove(conn, Proven::SessionUser(user_id)).await?;
    let user: Option<(Uuid, bool)> = users::table
        .filter(users::id.eq(user_id))
        .select((users::district_id, users::disabled))
        .first(conn)
        .await
        .optional()?;
    let Some((district_id, false)) = user else {
        return Err(StoreError::Unauthenticated(AuthFailure::UserDisabled));
    };
    diesel::update(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(secret_hash(token))))
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)
        .await?;
    let refresh_token = issue_refresh(conn, session_id).await?;
    Ok(Refreshed::Rotated(Issued {
        user_id,
        district_id,
        session_id,
        refresh_token,
    }))
}

/// Revokes one session; its access tokens stop working on their next request.
pub async fn revoke_session(
    conn: &mut Conn,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes every live session of a user; returns how many.
pub async fn revoke_user_sessions(
    conn: &mut Conn,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
    .await?)
}

pub mod api_keys {
    //! Machine clients' keys: `ogk_<id>_<secret>`, of which only a hash is kept.

    use super::*;
    use crate::page::{Page, PageRequest};
    use crate::schema::api_keys as t;
    use onegrid_domain::permissions::{Role, Scope};

    /// Prefix of every API key, so scanners and people recognise them.
    pub const PREFIX: &str = "ogk_";

    /// Splits a presented key into its id and secret.
    pub fn parse(token: &str) -> Option<(Uuid, String)> {
        let rest = token.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        Some((Uuid::try_parse(id).ok()?, secret.to_owned()))
    }

    /// A stored key, without its secret.
    #[derive(Debug, Clone, Queryable, Selectable)]
    #[diesel(table_name = t)]
    pub struct ApiKey {
        /// The key's id, the `<id>` part of `ogk_<id>_<secret>`.
        pub id: Uuid,
        /// The district the key acts in.
        pub district_id: Uuid,
        /// A label for people, 1 to 100 characters.
        pub name: String,
        /// The role the key acts with (a `Role` name, e.g. `street_admin`).
        pub role: String,
        /// The kind of scope it acts in: `district`, `street`, `community`, `grid` or `department`.
        pub scope_kind: String,
        /// The street of its scope; `None` for a district or department scope.
        pub street_id: Option<Uuid>,
        /// The community of its scope, for a community or grid scope.
        pub community_id: Option<Uuid>,
        /// The grid of its scope, for a grid scope.
        pub grid_id: Option<Uuid>,
        /// The department of its scope, for a department scope.
        pub department_id: Option<Uuid>,
        /// The user who created the key.
        pub created_by: Uuid,
        /// When it was created.
        pub created_at: DateTime<Utc>,
        /// When it stops working; `None`: never.
        pub expires_at: Option<DateTime<Utc>>,
        /// When it was revoked; `None` while not revoked.
        pub revoked_at: Option<DateTime<Utc>>,
    }

    /// Creates a key acting as `role` in `scope`; returns it with its one-time plaintext.
    pub async fn create(
        conn: &mut Conn,
        name: &str,
        role: Role,
        scope: &Scope,
        created_by: Uuid,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<(ApiKey, String)> {
        let id = Uuid::now_v7();
        let secret = random_secret();
        let (street, community, grid, department) = crate::platform::staff::scope_columns(scope);
        let key = diesel::insert_into(t::table)
            .values((
                t::id.eq(id),
                t::district_id.eq(scope.district()),
                t::name.eq(name),
                t::role.eq(role.as_str()),
                t::scope_kind.eq(scope.kind().as_str()),
                t::street_id.eq(street),
                t::community_id.eq(community),
                t::grid_id.eq(grid),
                t::department_id.eq(department),
                t::secret_hash.eq(secret_hash(&secret)),
                t::created_by.eq(created_by),
                t::expires_at.eq(expires_at),
            ))
            .returning(ApiKey::as_returning())
            .get_result(conn)
            .await?;
        Ok((key, format!("{PREFIX}{}_{secret}", id.simple())))
    }

    /// Keys visible in the caller's scope, newest last.
    pub async fn list(conn: &mut Conn, page: &PageRequest) -> StoreResult<Page<ApiKey>> {
        let mut q = t::table
            .select(ApiKey::as_select())
            .order(t::id)
            .limit(page.fetch_limit())
            .into_boxed();
        if let Some(after) = page.after {
            q = q.filter(t::id.gt(after));
        }
        Ok(Page::from_rows(q.load(conn).await?, page, |k| k.id))
    }

    /// One key.
    pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<ApiKey> {
        Ok(t::table
            .filter(t::id.eq(id))
            .select(ApiKey::as_select())
            .first(conn)
            .await?)
    }

    /// Revokes a key at once.
    pub async fn revoke(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> StoreResult<ApiKey> {
        Ok(diesel::update(t::table.filter(t::id.eq(id)))
            .set(t::revoked_at.eq(Some(now)))
            .returning(ApiKey::as_returning())
            .get_result(conn)
            .await?)
    }
}
