//! Webhooks: endpoints registered for the district or a street, events
//! written in the transaction of the change they describe (with a fan-out
//! job), one delivery per endpoint and event attempted on the Standard
//! Webhooks schedule, every attempt logged, endpoints disabled after days of
//! failure, deliveries replayable. Signing secrets are sealed with the field
//! keys; payloads carry ids, codes, states and times, never personal fields.

mod deliveries;
mod events;

pub use deliveries::{
    AfterAttempt, AttemptResult, Outgoing, abandon, attempts, body, get_delivery, list_deliveries,
    outgoing, record_attempt, replay,
};
pub use events::{emit, emit_case_event, fan_out};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::jobs::DeliveryState;
use onegrid_domain::permissions::Area;
use onegrid_domain::webhooks::{self as rules};
use uuid::Uuid;

use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// An integrator's endpoint, registered for the district or one street.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    /// The endpoint's id (UUIDv7).
    pub id: Uuid,
    /// The district.
    pub district_id: Uuid,
    /// The street whose events it receives; `None`: every street of the district.
    pub street_id: Option<Uuid>,
    /// Where events are POSTed, 8 to 2,000 characters.
    pub url: String,
    /// A note for people, up to 200 characters, if given.
    pub description: Option<String>,
    /// The event types it subscribes to (from `EVENT_TYPES`); empty: every type.
    pub event_types: Vec<String>,
    /// The signing secret, sealed with the field keys to this row.
    pub secret_sealed: Vec<u8>,
    /// The secret a rotation replaced, sealed; it still signs until
    /// `previous_secret_expires_at`.
    pub previous_secret_sealed: Option<Vec<u8>>,
    /// When the previous secret stops signing; set exactly when there is one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Whether deliveries are attempted; disabled by an admin or after days of failure.
    pub enabled: bool,
    /// Why it was disabled, up to 200 characters; cleared when re-enabled.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; `None` after a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Optimistic-locking version, bumped by every change or rotation.
    pub version: i32,
    /// The user who registered it.
    pub created_by: Uuid,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Something that happened, written in the transaction of the change it describes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_events)]
pub struct Event {
    /// The event's id (UUIDv7), sent as its `webhook-id`.
    pub id: Uuid,
    /// The district.
    pub district_id: Uuid,
    /// The street whose change it describes.
    pub street_id: Uuid,
    /// Its type, e.g. `case.updated` (one of `EVENT_TYPES`).
    #[diesel(column_name = type_)]
    pub kind: String,
    /// What changed: ids, codes, states and times only, never a personal field.
    pub payload: serde_json::Value,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    /// The delivery's id (UUIDv7).
    pub id: Uuid,
    /// The endpoint it goes to.
    pub endpoint_id: Uuid,
    /// The event it carries (one delivery per endpoint and event).
    pub event_id: Uuid,
    /// The event's district.
    pub district_id: Uuid,
    /// The event's street.
    pub street_id: Uuid,
    /// Pending, delivered or failed.
    pub state: DeliveryState,
    /// Attempts made, over every round (a replay starts its round at a whole schedule).
    pub attempts: i32,
    /// How many times an admin replayed it.
    pub replays: i32,
    /// When the next attempt is due; `None` once delivered or failed.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i16>,
    /// The last attempt's error, up to 500 characters, if it failed.
    pub last_error: Option<String>,
    /// When the receiver accepted it (answered 2xx), if it has.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the delivery was created (by the fan-out).
    pub created_at: DateTime<Utc>,
}

/// One attempt of a delivery, kept for the log.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    /// The attempt's id (UUIDv7).
    pub id: Uuid,
    /// The delivery attempted.
    pub delivery_id: Uuid,
    /// Its number, from 1, across every round.
    pub attempt: i32,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The HTTP status the receiver answered; `None` if it did not answer.
    pub status: Option<i16>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// What went wrong, up to 500 characters, if anything did.
    pub error: Option<String>,
    /// The start of the receiver's answer, up to 1,000 characters, if any.
    pub response: Option<String>,
}

fn secret_slot(e: &Endpoint, column: &'static str) -> Slot<'static> {
    Slot {
        street_id: e.street_id.unwrap_or(e.district_id),
        table: "webhook_endpoints",
        column,
        row_id: e.id,
    }
}

/// A fresh `whsec_` secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    rules::secret_from(&bytes)
}

/// The secrets that sign now: the current one, and the previous one while
/// its overlap lasts.
pub fn live_secrets(
    keys: &FieldKeys,
    e: &Endpoint,
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let open = |sealed: &[u8], column| {
        keys.open(secret_slot(e, column), sealed)
            .map_err(|err| StoreError::Check(format!("webhook secret of {}: {err}", e.id)))
    };
    let mut live = vec![open(&e.secret_sealed, "secret")?];
    if let (Some(sealed), Some(until)) = (&e.previous_secret_sealed, e.previous_secret_expires_at)
        && until > now
    {
        live.push(open(sealed, "previous_secret")?);
    }
    Ok(live)
}

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// The district.
    pub district_id: Uuid,
    /// The street whose events it receives; `None`: every street of the district.
    pub street_id: Option<Uuid>,
    /// Where events are POSTed (checked by the caller against the network guard).
    pub url: String,
    /// A note for people, if given.
    pub description: Option<String>,
    /// The event types it subscribes to; empty: every type.
    pub event_types: Vec<String>,
    /// The user registering it.
    pub created_by: Uuid,
}

/// Registers an endpoint signing with `secret` (sealed to the row).
pub async fn create_endpoint(
    conn: &mut Conn,
    keys: &FieldKeys,
    n: NewEndpoint,
    secret: &str,
    now: DateTime<Utc>,
) -> StoreResult<Endpoint> {
    let id = Uuid::now_v7();
    let slot = Slot {
        street_id: n.street_id.unwrap_or(n.district_id),
        table: "webhook_endpoints",
        column: "secret",
        row_id: id,
    };
    Ok(diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(id),
            webhook_endpoints::district_id.eq(n.district_id),
            webhook_endpoints::street_id.eq(n.street_id),
            webhook_endpoints::url.eq(n.url),
            webhook_endpoints::description.eq(n.description),
            webhook_endpoints::event_types.eq(n.event_types),
            webhook_endpoints::secret_sealed.eq(keys.seal(slot, secret)),
            webhook_endpoints::created_by.eq(n.created_by),
            webhook_endpoints::created_at.eq(now),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await?)
}

/// One endpoint visible to the caller.
pub async fn get_endpoint(conn: &mut Conn, id: Uuid) -> StoreResult<Endpoint> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .await?)
}

/// The endpoints in `area` (a district's own endpoints only for
/// district-wide managers), oldest first (by id, time-ordered).
pub async fn list_endpoints(
    conn: &mut Conn,
    area: &Area,
    page: &PageRequest,
) -> StoreResult<Page<Endpoint>> {
    let mut q = webhook_endpoints::table
        .select(Endpoint::as_select())
        .order(webhook_endpoints::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if !area.everywhere {
        q = q.filter(
            webhook_endpoints::street_id
                .eq_any(area.streets.clone())
                .assume_not_null(),
        );
    }
    if let Some(after) = page.after {
        q = q.filter(webhook_endpoints::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |e| e.id))
}

/// What may change on an endpoint.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    /// A new URL.
    pub url: Option<String>,
    /// A new note, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New event types (empty: every type).
    pub event_types: Option<Vec<String>>,
    /// Re-enabling clears the failure record.
    pub enabled: Option<bool>,
}

/// Applies `change` at `version`; `None` if the version moved.
pub async fn change_endpoint(
    conn: &mut Conn,
    current: &Endpoint,
    version: i32,
    change: EndpointChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<Endpoint>> {
    let enabled = change.enabled.unwrap_or(current.enabled);
    let reenabled = enabled && !current.enabled;
    let (reason, failing_since) = if reenabled {
        (None, None)
    } else if !enabled && current.enabled {
        (
            Some("disabled by an admin".to_owned()),
            current.failing_since,
        )
    } else {
        (current.disabled_reason.clone(), current.failing_since)
    };
    Ok(diesel::update(
        webhook_endpoints::table
            .find(current.id)
            .filter(webhook_endpoints::version.eq(version)),
    )
    .set((
        webhook_endpoints::url.eq(change.url.unwrap_or_else(|| current.url.clone())),
        webhook_endpoints::description.eq(change
            .description
            .unwrap_or_else(|| current.description.clone())),
        webhook_endpoints::event_types.eq(change
            .event_types
            .unwrap_or_else(|| current.event_types.clone())),
        webhook_endpoints::enabled.eq(enabled),
        webhook_endpoints::disabled_reason.eq(reason),
        webhook_endpoints::failing_since.eq(failing_since),
        webhook_endpoints::version.eq(webhook_endpoints::version + 1),
        webhook_endpoints::updated_at.eq(now),
    ))
    .returning(Endpoint::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// Replaces the signing secret with `secret`; the old one keeps signing
/// (beside the new) for [`ROTATION_OVERLAP_HOURS`].
pub async fn rotate_secret(
    conn: &mut Conn,
    keys: &FieldKeys,
    current: &Endpoint,
    secret: &str,
    now: DateTime<Utc>,
) -> StoreResult<Endpoint> {
    let old = keys
        .open(secret_slot(current, "secret"), &current.secret_sealed)
        .map_err(|e| StoreError::Check(format!("webhook secret of {}: {e}", current.id)))?;
    Ok(diesel::update(webhook_endpoints::table.find(current.id))
        .set((
            webhook_endpoints::secret_sealed.eq(keys.seal(secret_slot(current, "secret"), secret)),
            webhook_endpoints::previous_secret_sealed.eq(Some(
                keys.seal(secret_slot(current, "previous_secret"), &old),
            )),
            webhook_endpoints::previous_secret_expires_at
                .eq(Some(now + Duration::hours(ROTATION_OVERLAP_HOURS))),
            webhook_endpoints::version.eq(webhook_endpoints::version + 1),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await?)
}

/// Re-seals every endpoint secret sealed under a retired field key with the
/// current one (the caller sees every endpoint: the worker or the owner);
/// the number of endpoints re-sealed.
pub async fn reseal_secrets(conn: &mut Conn, keys: &FieldKeys) -> StoreResult<usize> {
    let stale: Vec<Endpoint> = webhook_endpoints::table
        .select(Endpoint::as_select())
        .order(webhook_endpoints::id)
        .load(conn)
        .await?;
    let mut resealed = 0;
    for e in stale.into_iter().filter(|e| {
        !keys.is_current(&e.secret_sealed)
            || e.previous_secret_sealed
                .as_deref()
                .is_some_and(|p| !keys.is_current(p))
    }) {
        let open = |sealed: &[u8], column| {
            keys.open(secret_slot(&e, column), sealed)
                .map_err(|err| StoreError::Check(format!("webhook endpoint {}: {err}", e.id)))
        };
        let secret = keys.seal(
            secret_slot(&e, "secret"),
            &open(&e.secret_sealed, "secret")?,
        );
        let previous = match &e.previous_secret_sealed {
            Some(p) => Some(keys.seal(
                secret_slot(&e, "previous_secret"),
                &open(p, "previous_secret")?,
            )),
            None => None,
        };
        diesel::update(webhook_endpoints::table.find(e.id))
            .set((
                webhook_endpoints::secret_sealed.eq(secret),
                webhook_endpoints::previous_secret_sealed.eq(previous),
            ))
            .execute(conn)
            .await?;
        resealed += 1;
    }
    Ok(resealed)
}
