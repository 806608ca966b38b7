//! The tenant scope of a transaction: who the caller is, which district and
//! which streets they see. It is set with `set_config(.., true)`, so it lives
//! exactly as long as the transaction and can never leak to the next user of a
//! pooled connection; row-level security policies read it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use onegrid_domain::clock::china_date;
use onegrid_domain::permissions::{Grant, Role, Scope, ScopeKind};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{AuthFailure, StoreError, StoreResult};
use crate::schema::{api_keys, role_assignments, sessions, streets, users};

/// A credential that has passed its cryptographic check but not yet the database's.
#[derive(Debug, Clone)]
pub enum Session {
    /// A verified access token's claims.
    User {
        /// The staff account the token was issued to.
        user_id: Uuid,
        /// The login session the token belongs to (checked still live).
        session_id: Uuid,
        /// The district the token names (checked to be the user's).
        district_id: Uuid,
    },
    /// An API key as presented: its id and secret.
    ApiKey {
        /// The key's id, the public part of the presented key.
        key_id: Uuid,
        /// The secret part, checked against the stored hash.
        secret: String,
    },
}

pub use onegrid_domain::principal::{Actor, Principal};

/// Builds a scope from the columns a role assignment or API key stores.
pub fn scope_from_columns(
    kind: &str,
    district: Uuid,
    street: Option<Uuid>,
    community: Option<Uuid>,
    grid: Option<Uuid>,
    department: Option<Uuid>,
) -> Option<Scope> {
    Some(
        match (ScopeKind::parse(kind)?, street, community, grid, department) {
            (ScopeKind::District, ..) => Scope::District { district },
            (ScopeKind::Street, Some(street), ..) => Scope::Street { district, street },
            (ScopeKind::Community, Some(street), Some(community), ..) => Scope::Community {
                district,
                street,
                community,
            },
            (ScopeKind::Grid, Some(street), Some(community), Some(grid), _) => Scope::Grid {
                district,
                street,
                community,
                grid,
            },
            (ScopeKind::Department, _, _, _, Some(department)) => Scope::Department {
                district,
                department,
            },
            _ => return None,
        },
    )
}

fn grant_from_columns(
    role: &str,
    kind: &str,
    district: Uuid,
    ids: (Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>),
) -> Option<Grant> {
    Some(Grant {
        role: Role::parse(role)?,
        scope: scope_from_columns(kind, district, ids.0, ids.1, ids.2, ids.3)?,
    })
}

/// Who a transaction acts for when no request's principal does: the worker
/// acting for a job's district or street, or the system (the seed and
/// maintenance). The request's door is [`authenticate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// No tenant: only rows without one (the job queue on the worker's pool,
    /// login lookups, throttles, schedules' own rows).
    Nobody,
    /// A district's own rows, none of its streets'.
    District(Uuid),
    /// A district and every one of its streets.
    WholeDistrict(Uuid),
    /// A district's own rows and one street's (a job's street).
    Street {
        /// The district acted in.
        district: Uuid,
        /// The one street of that district whose rows are seen.
        street: Uuid,
    },
}

/// Sets the transaction's time and the scope of `acting`, in one round trip.
pub(crate) async fn enter(conn: &mut Conn, now: DateTime<Utc>, acting: Acting) -> StoreResult<()> {
    let text = |id: Option<Uuid>| id.map(|i| i.to_string()).unwrap_or_default();
    let (district, street, wide) = match acting {
        Acting::Nobody => (None, None, false),
        Acting::District(d) => (Some(d), None, false),
        Acting::WholeDistrict(d) => (Some(d), None, true),
        Acting::Street { district, street } => (Some(district), Some(street), false),
    };
    diesel::sql_query(
        "SELECT set_config('app.now', $1, true), set_config('app.district_id', $2, true), \
         set_config('app.street_ids', $3, true), set_config('app.district_wide', $4, true)",
    )
    .bind::<Text, _>(now.to_rfc3339())
    .bind::<Text, _>(text(district))
    .bind::<Text, _>(text(street))
    .bind::<Text, _>(if wide { "on" } else { "" })
    .execute(conn)
    .await?;
    Ok(())
}

/// What a login or a refresh has proven so far, before a principal exists:
/// each step lets the transaction see only the rows it has earned.
#[derive(Debug, Clone, Copy)]
pub enum Proven {
    /// The password matched this user of this district.
    Password {
        /// The user whose password matched.
        user: Uuid,
        /// The user's district.
        district: Uuid,
    },
    /// A refresh token names this session.
    Session(Uuid),
    /// The live session names this user.
    SessionUser(Uuid),
}

/// Widens a login's or refresh's transaction to what `proven` earned.
pub(crate) async fn prove(conn: &mut Conn, proven: Proven) -> StoreResult<()> {
    match proven {
        Proven::Password { user, district } => {
            diesel::sql_query(
                "SELECT set_config('app.user_id', $1, true), set_config('app.district_id', $2, true)",
            )
            .bind::<Text, _>(user.to_string())
            .bind::<Text, _>(district.to_string())
            .execute(conn)
            .await?;
            Ok(())
        }
        Proven::Session(session) => set(conn, "app.session_id", &session.to_string()).await,
        Proven::SessionUser(user) => set(conn, "app.user_id", &user.to_string()).await,
    }
}

/// Sets one scope variable for the rest of the transaction.
async fn set(conn: &mut Conn, name: &str, value: &str) -> StoreResult<()> {
    diesel::sql_query("SELECT set_config($1, $2, true)")
        .bind::<Text, _>(name)
        .bind::<Text, _>(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the transaction's time and identity variables in one round trip.
async fn set_identity(
    conn: &mut Conn,
    now: DateTime<Utc>,
    principal: Uuid,
    district: Option<Uuid>,
    user: Option<Uuid>,
    session: Option<Uuid>,
    key: Option<Uuid>,
) -> StoreResult<()> {
    let text = |id: Option<Uuid>| id.map(|i| i.to_string()).unwrap_or_default();
    diesel::sql_query(
        "SELECT set_config('app.principal_id', $1, true), set_config('app.district_id', $2, true), \
         set_config('app.user_id', $3, true), set_config('app.session_id', $4, true), \
         set_config('app.api_key_id', $5, true), set_config('app.now', $6, true)",
    )
    .bind::<Text, _>(principal.to_string())
    .bind::<Text, _>(text(district))
    .bind::<Text, _>(text(user))
    .bind::<Text, _>(text(session))
    .bind::<Text, _>(text(key))
    .bind::<Text, _>(now.to_rfc3339())
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the streets the transaction sees, resolving "all streets of the
/// district" for district-wide grants.
async fn set_streets(
    conn: &mut Conn,
    district: Uuid,
    grants: &[Grant],
) -> StoreResult<(bool, Vec<Uuid>)> {
    let district_wide = grants.iter().any(|g| g.scope.is_district_wide());
    let mut ids: Vec<Uuid> = if district_wide {
        set(conn, "app.district_wide", "on").await?;
        streets::table
            .filter(streets::district_id.eq(district))
            .select(streets::id)
            .load(conn)
            .await?
    } else {
        grants.iter().filter_map(|g| g.scope.street()).collect()
    };
    ids.sort_unstable();
    ids.dedup();
    let list: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    // Department staff see only what was routed to their departments; a
    // principal who also holds a street role sees that street whole.
    let departments: Vec<String> = grants
        .iter()
        .filter_map(|g| match g.scope {
            Scope::Department { department, .. } => Some(department.to_string()),
            _ => None,
        })
        .collect();
    let department_only = !grants.is_empty() && departments.len() == grants.len();
    diesel::sql_query(
        "SELECT set_config('app.street_ids', $1, true), set_config('app.department_ids', $2, true), \
         set_config('app.department_only', $3, true)",
    )
    .bind::<Text, _>(list.join(","))
    .bind::<Text, _>(departments.join(","))
    .bind::<Text, _>(if department_only { "on" } else { "" })
    .execute(conn)
    .await?;
    Ok((district_wide, ids))
}

/// Re-reads the street list, after a district-wide principal created a street.
pub async fn refresh_streets(conn: &mut Conn, principal: &mut Principal) -> StoreResult<()> {
    let (wide, streets) = set_streets(conn, principal.district_id, &principal.grants).await?;
    principal.district_wide = wide;
    principal.streets = streets;
    Ok(())
}

/// Checks a credential against the database and scopes the transaction to it.
pub async fn authenticate(
    conn: &mut Conn,
    session: Session,
    now: DateTime<Utc>,
) -> StoreResult<Principal> {
    match session {
        Session::User {
            user_id,
            session_id,
            district_id,
        } => {
            set_identity(
                conn,
                now,
                user_id,
                Some(district_id),
                Some(user_id),
                Some(session_id),
                None,
            )
            .await?;
            authenticate_user(conn, user_id, session_id, district_id, now).await
        }
        Session::ApiKey { key_id, secret } => {
            set_identity(conn, now, key_id, None, None, None, Some(key_id)).await?;
            authenticate_key(conn, key_id, &secret, now).await
        }
    }
}

type GrantColumns = (
    String,
    String,
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
);

async fn authenticate_user(
    conn: &mut Conn,
    user_id: Uuid,
    session_id: Uuid,
    district_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Principal> {
    let alive: Option<(Uuid, bool)> = sessions::table
        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((users::district_id, users::disabled))
        .first(conn)
        .await
        .optional()?;
    match alive {
        None => return Err(StoreError::Unauthenticated(AuthFailure::SessionEnded)),
        Some((_, true)) => return Err(StoreError::Unauthenticated(AuthFailure::UserDisabled)),
        Some((d, false)) if d != district_id => {
            return Err(StoreError::Unauthenticated(AuthFailure::DistrictMismatch));
        }
        Some(_) => {}
    }
    let grants = grants_of(conn, user_id, china_date(now)).await?;
    let (district_wide, streets) = set_streets(conn, district_id, &grants).await?;
    Ok(Principal {
        actor: Actor::User {
            user_id,
            session_id,
        },
        district_id,
        grants,
        district_wide,
        streets,
        now,
    })
}

/// The grants a user holds today (those the caller's scope lets it see).
pub async fn grants_of(
    conn: &mut Conn,
    user_id: Uuid,
    today: NaiveDate,
) -> StoreResult<Vec<Grant>> {
    let rows: Vec<GrantColumns> = role_assignments::table
        .filter(role_assignments::user_id.eq(user_id))
        .filter(role_assignments::valid_from.le(today))
        .filter(
            role_assignments::valid_to
                .is_null()
                .or(role_assignments::valid_to.ge(today)),
        )
        .select((
            role_assignments::role,
            role_assignments::scope_kind,
            role_assignments::district_id,
            role_assignments::street_id,
            role_assignments::community_id,
            role_assignments::grid_id,
            role_assignments::department_id,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|(r, k, d, s, c, g, dep)| grant_from_columns(r, k, *d, (*s, *c, *g, *dep)))
        .collect())
}

async fn authenticate_key(
    conn: &mut Conn,
    key_id: Uuid,
    secret: &str,
    now: DateTime<Utc>,
) -> StoreResult<Principal> {
    type KeyColumns = (
        Vec<u8>,
        Option<chrono::DateTime<Utc>>,
        Option<chrono::DateTime<Utc>>,
        Uuid,
        GrantColumns,
    );
    let row: Option<KeyColumns> = api_keys::table
        .filter(api_keys::id.eq(key_id))
        .select((
            api_keys::secret_hash,
            api_keys::revoked_at,
            api_keys::expires_at,
            api_keys::created_by,
            (
                api_keys::role,
                api_keys::scope_kind,
                api_keys::district_id,
                api_keys::street_id,
                api_keys::community_id,
                api_keys::grid_id,
                api_keys::department_id,
            ),
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((hash, revoked, expires, created_by, (r, k, d, s, c, g, dep))) = row else {
        return Err(StoreError::Unauthenticated(AuthFailure::UnknownKey));
    };
    if !crate::platform::auth::secret_matches(secret, &hash) {
        return Err(StoreError::Unauthenticated(AuthFailure::KeySecretMismatch));
    }
    if revoked.is_some() || expires.is_some_and(|e| e <= now) {
        return Err(StoreError::Unauthenticated(AuthFailure::KeyEnded));
    }
    let grant = grant_from_columns(&r, &k, d, (s, c, g, dep))
        .ok_or(StoreError::Unauthenticated(AuthFailure::KeyScope))?;
    set(conn, "app.district_id", &d.to_string()).await?;
    let (district_wide, streets) = set_streets(conn, d, &[grant]).await?;
    Ok(Principal {
        actor: Actor::ApiKey { key_id, created_by },
        district_id: d,
        grants: vec![grant],
        district_wide,
        streets,
        now,
    })
}
