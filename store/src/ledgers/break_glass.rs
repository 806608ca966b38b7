//! 破窗 (break the glass): a reason-bound, time-limited grant to read one
//! protected ledger type in one community, and the notice to its admins.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{break_glass_grants as t, notifications, role_assignments};

/// How long a grant lasts.
pub const GRANT_HOURS: i64 = 3;

/// A break-glass grant: one user may read one protected ledger type in one community
/// until it expires.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Grant {
    /// The community's street.
    pub street_id: Uuid,
    /// The grant's id (UUIDv7).
    pub id: Uuid,
    /// The user the grant lets read.
    pub user_id: Uuid,
    /// The protected ledger type it opens.
    pub ledger_type_id: Uuid,
    /// The community whose records it opens.
    pub community_id: Uuid,
    /// Why the user needs to read, 5 to 500 characters (also the audit entry's purpose).
    pub reason: String,
    /// When it was opened.
    pub granted_at: DateTime<Utc>,
    /// When it stops counting: [`GRANT_HOURS`] after `granted_at`.
    pub expires_at: DateTime<Utc>,
}

/// Opens a grant from `now` for [`GRANT_HOURS`].
pub async fn open(
    conn: &mut Conn,
    street_id: Uuid,
    community_id: Uuid,
    user_id: Uuid,
    ledger_type_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Grant> {
    Ok(diesel::insert_into(t::table)
        .values((
            t::street_id.eq(street_id),
            t::id.eq(Uuid::now_v7()),
            t::user_id.eq(user_id),
            t::ledger_type_id.eq(ledger_type_id),
            t::community_id.eq(community_id),
            t::reason.eq(reason),
            t::granted_at.eq(now),
            t::expires_at.eq(now + Duration::hours(GRANT_HOURS)),
        ))
        .returning(Grant::as_returning())
        .get_result(conn)
        .await?)
}

/// Communities where `user_id` holds a live grant for the ledger type at `now`.
pub async fn live_communities(
    conn: &mut Conn,
    user_id: Uuid,
    ledger_type_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    Ok(t::table
        .filter(t::user_id.eq(user_id))
        .filter(t::ledger_type_id.eq(ledger_type_id))
        .filter(t::granted_at.le(now))
        .filter(t::expires_at.gt(now))
        .select(t::community_id)
        .distinct()
        .load(conn)
        .await?)
}

/// Notifies the community's current admins; returns how many were notified.
pub async fn notify_admins(
    conn: &mut Conn,
    district_id: Uuid,
    street_id: Uuid,
    community_id: Uuid,
    today: chrono::NaiveDate,
    title: &str,
    body: serde_json::Value,
) -> StoreResult<usize> {
    let admins: Vec<Uuid> = role_assignments::table
        .filter(role_assignments::community_id.eq(community_id))
        .filter(role_assignments::role.eq("community_admin"))
        .filter(role_assignments::valid_from.le(today))
        .filter(
            role_assignments::valid_to
                .is_null()
                .or(role_assignments::valid_to.ge(today)),
        )
        .select(role_assignments::user_id)
        .distinct()
        .load(conn)
        .await?;
    let rows: Vec<_> = admins
        .iter()
        .map(|user| {
            (
                notifications::id.eq(Uuid::now_v7()),
                notifications::user_id.eq(*user),
                notifications::district_id.eq(district_id),
                notifications::street_id.eq(Some(street_id)),
                notifications::kind.eq("break_glass"),
                notifications::title.eq(title),
                notifications::body.eq(body.clone()),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(notifications::table)
        .values(rows)
        .execute(conn)
        .await?)
}
