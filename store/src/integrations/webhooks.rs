//! Webhooks: endpoints registered for the district or a street, events
//! written in the transaction of the change they describe (with a fan-out
//! job), one delivery per endpoint and event attempted on the Standard
//! Webhooks schedule, every attempt logged, endpoints disabled after days of
//! failure, deliveries replayable. Signing secrets are sealed with the field
//! keys; payloads carry ids, codes, states and times, never personal fields.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::permissions::Area;
use onegrid_domain::webhooks::{self as rules, ATTEMPTS};
use uuid::Uuid;

use crate::cases::{Case, NewEvent};
use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::integrations::jobs::{self, NewJob};
use crate::page::{Page, PageRequest};
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};

/// The queue of fan-outs and deliveries.
pub const WEBHOOK_QUEUE: &str = "webhooks";
/// Turns one event into deliveries.
pub const FAN_OUT: &str = "webhook.fan_out";
/// Attempts one delivery.
pub const DELIVER: &str = "webhook.deliver";

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: Uuid,
    pub district_id: Uuid,
    pub street_id: Option<Uuid>,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_events)]
pub struct Event {
    pub id: Uuid,
    pub district_id: Uuid,
    pub street_id: Uuid,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub district_id: Uuid,
    pub street_id: Uuid,
    pub state: String,
    pub attempts: i32,
    pub replays: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub status: Option<i16>,
    pub duration_ms: i32,
    pub error: Option<String>,
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
    pub district_id: Uuid,
    pub street_id: Option<Uuid>,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
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

pub async fn get_endpoint(conn: &mut Conn, id: Uuid) -> StoreResult<Endpoint> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .await?)
}

/// The endpoints the caller sees, oldest first.
/// Endpoints in `area` (a district's own endpoints only for district-wide
/// managers), by id.
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
    pub url: Option<String>,
    pub description: Option<Option<String>>,
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

/// The webhook type of a case event.
fn case_event_type(e: &NewEvent) -> &'static str {
    match e.step {
        "file" => "case.created",
        "escalate" => "case.escalated",
        "close" => "case.closed",
        _ => "case.updated",
    }
}

/// Writes the webhook event of a case event, in its transaction, with the
/// job that fans it out. Ids, codes, states and times only.
pub async fn emit_case_event(
    conn: &mut Conn,
    case: &Case,
    seq: i32,
    e: &NewEvent,
) -> StoreResult<()> {
    let payload = serde_json::json!({
        "case": {
            "id": case.id,
            "number": case.number,
            "kind": case.kind,
            "channel": case.channel,
            "category_id": case.category_id,
            "tier": case.tier,
            "status": case.status,
            "escalation_level": case.escalation_level,
            "street_id": case.street_id,
            "community_id": case.community_id,
            "grid_id": case.grid_id,
            "assignee_department_id": case.assignee_department_id,
            "version": case.version,
        },
        "event": {
            "seq": seq,
            "step": e.step,
            "from": e.from.map(onegrid_domain::cases::Status::as_str),
            "to": e.to.as_str(),
            "actor_kind": e.actor.kind,
        },
    });
    emit(
        conn,
        case.district_id,
        case.street_id,
        case_event_type(e),
        payload,
        e.at,
    )
    .await
}

/// Writes an event and queues its fan-out (caller's transaction).
pub async fn emit(
    conn: &mut Conn,
    district_id: Uuid,
    street_id: Uuid,
    kind: &'static str,
    payload: serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let id = Uuid::now_v7();
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(id),
            webhook_events::district_id.eq(district_id),
            webhook_events::street_id.eq(street_id),
            webhook_events::type_.eq(kind),
            webhook_events::payload.eq(payload),
            webhook_events::occurred_at.eq(at),
        ))
        .execute(conn)
        .await?;
    jobs::enqueue(
        conn,
        NewJob {
            queue: WEBHOOK_QUEUE,
            kind: FAN_OUT,
            unique_key: Some(format!("webhook-event:{id}")),
            district_id: Some(district_id),
            street_id: Some(street_id),
            payload: serde_json::json!({ "event_id": id }),
            run_at: at,
            max_attempts: 10,
        },
    )
    .await?;
    Ok(())
}

fn deliver_job(d: &Delivery, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        queue: WEBHOOK_QUEUE,
        kind: DELIVER,
        unique_key: Some(format!("webhook-delivery:{}:{}", d.id, d.replays)),
        district_id: Some(d.district_id),
        street_id: Some(d.street_id),
        payload: serde_json::json!({ "delivery_id": d.id }),
        run_at,
        max_attempts: 3,
    }
}

/// Creates the deliveries of an event to every enabled endpoint that wants
/// it (worker session), each with its job; the number created.
pub async fn fan_out(conn: &mut Conn, event_id: Uuid, now: DateTime<Utc>) -> StoreResult<usize> {
    let event: Event = webhook_events::table
        .find(event_id)
        .select(Event::as_select())
        .first(conn)
        .await?;
    let endpoints: Vec<Uuid> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled)
        .filter(webhook_endpoints::district_id.eq(event.district_id))
        .filter(
            webhook_endpoints::street_id
                .is_null()
                .or(webhook_endpoints::street_id.eq(event.street_id)),
        )
        .select(webhook_endpoints::id)
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(cardinality(event_types) = 0 OR ")
                .bind::<diesel::sql_types::Text, _>(event.kind.clone())
                .sql(" = ANY (event_types))"),
        )
        .load(conn)
        .await?;
    let mut created = 0;
    for endpoint in endpoints {
        let d: Option<Delivery> = diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(Uuid::now_v7()),
                webhook_deliveries::endpoint_id.eq(endpoint),
                webhook_deliveries::event_id.eq(event.id),
                webhook_deliveries::district_id.eq(event.district_id),
                webhook_deliveries::street_id.eq(event.street_id),
                webhook_deliveries::state.eq("pending"),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
                webhook_deliveries::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .returning(Delivery::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if let Some(d) = d {
            jobs::enqueue(conn, deliver_job(&d, now)).await?;
            created += 1;
        }
    }
    Ok(created)
}

/// A delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub delivery: Delivery,
    pub endpoint: Endpoint,
    pub event: Event,
}

pub async fn outgoing(conn: &mut Conn, delivery_id: Uuid) -> StoreResult<Outgoing> {
    let delivery = get_delivery(conn, delivery_id).await?;
    let endpoint = get_endpoint(conn, delivery.endpoint_id).await?;
    let event = webhook_events::table
        .find(delivery.event_id)
        .select(Event::as_select())
        .first(conn)
        .await?;
    Ok(Outgoing {
        delivery,
        endpoint,
        event,
    })
}

/// The body sent: `{type, timestamp, data}` as the specification suggests.
pub fn body(event: &Event) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": event.kind,
        "timestamp": event.occurred_at,
        "data": event.payload,
    }))
    .unwrap_or_default()
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub response: Option<String>,
    pub retry_after: Option<DateTime<Utc>>,
    /// No point retrying (e.g. the address is refused).
    pub permanent: bool,
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Try again then.
    Retry(DateTime<Utc>),
    /// Out of attempts, refused for good, or the endpoint is disabled.
    Failed,
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Logs attempt `n` of a delivery and moves the delivery and its endpoint on
/// (worker session, the job's transaction). An endpoint failing for longer
/// than `disable_after` is disabled.
pub async fn record_attempt(
    conn: &mut Conn,
    out: &Outgoing,
    r: &AttemptResult,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> StoreResult<AfterAttempt> {
    let n = out.delivery.attempts + 1;
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::id.eq(Uuid::now_v7()),
            webhook_attempts::delivery_id.eq(out.delivery.id),
            webhook_attempts::attempt.eq(n),
            webhook_attempts::at.eq(now),
            webhook_attempts::status.eq(r.status.and_then(|s| i16::try_from(s).ok())),
            webhook_attempts::duration_ms.eq(r.duration_ms),
            webhook_attempts::error.eq(r.error.as_deref().map(|e| clip(e, 500))),
            webhook_attempts::response.eq(r.response.as_deref().map(|e| clip(e, 1000))),
        ))
        .execute(conn)
        .await?;
    let endpoint = webhook_endpoints::table.find(out.endpoint.id);
    let after = if r.succeeded() {
        diesel::update(endpoint)
            .set(webhook_endpoints::failing_since.eq(None::<DateTime<Utc>>))
            .execute(conn)
            .await?;
        AfterAttempt::Delivered
    } else {
        let since = out.endpoint.failing_since.unwrap_or(now);
        let disable = now - since >= disable_after;
        diesel::update(endpoint)
            .set((
                webhook_endpoints::failing_since.eq(Some(since)),
                webhook_endpoints::enabled.eq(out.endpoint.enabled && !disable),
                webhook_endpoints::disabled_reason.eq(if disable {
                    Some(format!("every delivery failed since {since}"))
                } else {
                    out.endpoint.disabled_reason.clone()
                }),
            ))
            .execute(conn)
            .await?;
        // Attempts count per round: a replay gets a full schedule again.
        let in_round = n - out.delivery.replays * ATTEMPTS;
        match rules::next_attempt(in_round + 1, now, r.retry_after) {
            Some(at) if !r.permanent && !disable => AfterAttempt::Retry(at),
            _ => AfterAttempt::Failed,
        }
    };
    let (state, next, delivered) = match &after {
        AfterAttempt::Delivered => ("delivered", None, Some(now)),
        AfterAttempt::Retry(at) => ("pending", Some(*at), None),
        AfterAttempt::Failed => ("failed", None, None),
    };
    diesel::update(webhook_deliveries::table.find(out.delivery.id))
        .set((
            webhook_deliveries::state.eq(state),
            webhook_deliveries::attempts.eq(n),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::last_status.eq(r.status.and_then(|s| i16::try_from(s).ok())),
            webhook_deliveries::last_error.eq(r.error.as_deref().map(|e| clip(e, 500))),
            webhook_deliveries::delivered_at.eq(delivered),
        ))
        .execute(conn)
        .await?;
    Ok(after)
}

/// Marks a delivery failed without an attempt (its endpoint is disabled).
pub async fn abandon(conn: &mut Conn, delivery: &Delivery, why: &str) -> StoreResult<()> {
    diesel::update(webhook_deliveries::table.find(delivery.id))
        .set((
            webhook_deliveries::state.eq("failed"),
            webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
            webhook_deliveries::last_error.eq(Some(why.to_owned())),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_delivery(conn: &mut Conn, id: Uuid) -> StoreResult<Delivery> {
    Ok(webhook_deliveries::table
        .find(id)
        .select(Delivery::as_select())
        .first(conn)
        .await?)
}

/// An endpoint's deliveries, newest first, optionally of one state.
pub async fn list_deliveries(
    conn: &mut Conn,
    endpoint_id: Uuid,
    state: Option<String>,
    page: &PageRequest,
) -> StoreResult<Page<(Delivery, String)>> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select((Delivery::as_select(), webhook_events::type_))
        .order(webhook_deliveries::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(state) = state {
        q = q.filter(webhook_deliveries::state.eq(state));
    }
    if let Some(after) = page.after {
        q = q.filter(webhook_deliveries::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |(d, _)| d.id))
}

/// The attempts of a delivery, in order.
pub async fn attempts(conn: &mut Conn, delivery_id: Uuid) -> StoreResult<Vec<Attempt>> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id))
        .select(Attempt::as_select())
        .order(webhook_attempts::attempt)
        .load(conn)
        .await?)
}

/// Starts a new round of attempts for a delivery that is not pending (the
/// same event and `webhook-id`, so receivers can tell a repeat); false if it is pending.
pub async fn replay(conn: &mut Conn, d: &Delivery, now: DateTime<Utc>) -> StoreResult<bool> {
    let updated: Option<Delivery> = diesel::update(
        webhook_deliveries::table
            .find(d.id)
            .filter(webhook_deliveries::state.ne("pending")),
    )
    .set((
        webhook_deliveries::state.eq("pending"),
        webhook_deliveries::replays.eq(webhook_deliveries::replays + 1),
        // The round starts at a whole schedule.
        webhook_deliveries::attempts.eq((webhook_deliveries::replays + 1) * ATTEMPTS),
        webhook_deliveries::next_attempt_at.eq(Some(now)),
    ))
    .returning(Delivery::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(updated) = updated else {
        return Ok(false);
    };
    jobs::enqueue(conn, deliver_job(&updated, now)).await?;
    Ok(true)
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
