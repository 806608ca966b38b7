//! Durable counts behind the security limits: failed logins per username hash
//! and reveals per actor (from the audit log). PostgreSQL holds the truth, so
//! a cache restart resets nothing.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bytea, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest: Option<DateTime<Utc>>,
}

/// Failed logins for a username hash after `since`, and the oldest of them.
pub async fn login_failures_since(
    conn: &mut Conn,
    username_hash: &[u8],
    since: DateTime<Utc>,
) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
    let c: Counted =
        diesel::sql_query("SELECT failures AS n, oldest FROM og_login_failures_since($1, $2)")
            .bind::<Bytea, _>(username_hash)
            .bind::<Timestamptz, _>(since)
            .get_result(conn)
            .await?;
    Ok((c.n, c.oldest))
}

/// Records one failed login at `at`.
pub async fn record_login_failure(
    conn: &mut Conn,
    username_hash: &[u8],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::sql_query("SELECT og_login_failure_record($1, $2)")
        .bind::<Bytea, _>(username_hash)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a username's failed logins (after a successful one).
pub async fn clear_login_failures(conn: &mut Conn, username_hash: &[u8]) -> StoreResult<()> {
    diesel::sql_query("SELECT og_login_failures_clear($1)")
        .bind::<Bytea, _>(username_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// The actor's audited reveals after `since` and the oldest of them. Takes a
/// transaction lock per actor first, so concurrent reveals by one actor are
/// counted one after the other (each sees the entries committed before it).
pub async fn reveals_since(
    conn: &mut Conn,
    actor: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(format!("reveal:{actor}"))
        .execute(conn)
        .await?;
    let c: Counted = diesel::sql_query("SELECT reveals AS n, oldest FROM og_reveals_since($1, $2)")
        .bind::<diesel::sql_types::Uuid, _>(actor)
        .bind::<Timestamptz, _>(since)
        .get_result(conn)
        .await?;
    Ok((c.n, c.oldest))
}
