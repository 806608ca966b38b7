//! Stored responses of creates made under an `Idempotency-Key`. The key is
//! claimed at the start of the create's transaction and completed in it, so a
//! concurrent request with the same key waits for the first to finish and then
//! replays its response; a failed create leaves no trace.

use diesel::prelude::*;
use diesel::upsert::on_constraint;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::schema::idempotency_keys as t;

/// How long a key is honoured.
pub const RETENTION_HOURS: i64 = 24;

/// A stored response.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Stored {
    /// SHA-256 of the first request, to refuse a different request under the same key.
    pub request_hash: Vec<u8>,
    /// The response's HTTP status (0 while the claiming create is still running).
    pub status: i16,
    /// The response body, replayed as is (`null` until completed).
    pub response: serde_json::Value,
    /// The response's `Location` header, if it had one.
    pub location: Option<String>,
    /// The response's `ETag` header, if it had one.
    pub etag: Option<String>,
}

/// The result of claiming a key.
#[derive(Debug)]
pub enum Claim {
    /// First use: go ahead, then [`complete`].
    New,
    /// Used before: replay (or refuse, if the request differs).
    Existing(Stored),
}

/// Claims `key` for `principal`; waits for a concurrent holder to finish.
pub async fn claim(
    conn: &mut Conn,
    principal: Uuid,
    key: &str,
    request_hash: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Claim> {
    let cutoff = now - chrono::Duration::hours(RETENTION_HOURS);
    diesel::delete(
        t::table
            .filter(t::principal_id.eq(principal))
            .filter(t::key.eq(key))
            .filter(t::created_at.le(cutoff)),
    )
    .execute(conn)
    .await?;
    let inserted = diesel::insert_into(t::table)
        .values((
            t::principal_id.eq(principal),
            t::key.eq(key),
            t::request_hash.eq(request_hash),
            t::status.eq(0),
            t::response.eq(serde_json::Value::Null),
            t::created_at.eq(now),
        ))
        .on_conflict(on_constraint("idempotency_keys_pkey"))
        .do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let stored = t::table
        .filter(t::principal_id.eq(principal))
        .filter(t::key.eq(key))
        .select(Stored::as_select())
        .first(conn)
        .await?;
    Ok(Claim::Existing(stored))
}

/// Whether a JSON value holds something shaped like one of our secrets (an
/// API key or a webhook signing secret) anywhere.
fn holds_secret(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => {
            s.starts_with(crate::platform::auth::api_keys::PREFIX)
                || s.starts_with(onegrid_domain::webhooks::SECRET_PREFIX)
        }
        serde_json::Value::Array(items) => items.iter().any(holds_secret),
        serde_json::Value::Object(fields) => fields.values().any(holds_secret),
        _ => false,
    }
}

/// Stores the response of the create that claimed `key`. A response still
/// holding a secret is refused (the create fails): replays never return one.
pub async fn complete(
    conn: &mut Conn,
    principal: Uuid,
    key: &str,
    stored: &Stored,
) -> StoreResult<()> {
    if holds_secret(&stored.response) {
        return Err(StoreError::Check("idempotency_no_secrets".into()));
    }
    diesel::update(
        t::table
            .filter(t::principal_id.eq(principal))
            .filter(t::key.eq(key)),
    )
    .set((
        t::status.eq(stored.status),
        t::response.eq(&stored.response),
        t::location.eq(&stored.location),
        t::etag.eq(&stored.etag),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_at_any_depth() {
        assert!(holds_secret(&serde_json::json!({"a": [{"k": "ogk_1_x"}]})));
        assert!(holds_secret(&serde_json::json!("whsec_abc")));
        assert!(!holds_secret(
            &serde_json::json!({"id": "1", "name": "ogk"})
        ));
    }
}
