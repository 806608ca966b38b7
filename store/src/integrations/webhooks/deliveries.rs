//! Deliveries: what is sent, each attempt's outcome, back-off, abandon and
//! replay.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::jobs::DeliveryState;
use onegrid_domain::webhooks::{self as rules, ATTEMPTS};
use uuid::Uuid;

use super::events::deliver_job;
use super::{Attempt, Delivery, Endpoint, Event, get_endpoint};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::integrations::jobs;
use crate::page::{Page, PageRequest};
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};

/// A delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The delivery.
    pub delivery: Delivery,
    /// Its endpoint (URL and secrets).
    pub endpoint: Endpoint,
    /// Its event (what is sent).
    pub event: Event,
}

/// A delivery with its endpoint and event, ready to send.
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
    /// The HTTP status answered; `None` if the receiver did not answer.
    pub status: Option<u16>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: i32,
    /// What went wrong (kept up to 500 characters), if anything did.
    pub error: Option<String>,
    /// The start of the receiver's answer (kept up to 1,000 characters), if any.
    pub response: Option<String>,
    /// When the receiver's `Retry-After` asks to be tried again, if it did.
    pub retry_after: Option<DateTime<Utc>>,
    /// No point retrying (e.g. the address is refused).
    pub permanent: bool,
}

impl AttemptResult {
    /// Whether the receiver accepted it (answered 2xx).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAttempt {
    /// The receiver accepted it.
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
        AfterAttempt::Delivered => (DeliveryState::Delivered, None, Some(now)),
        AfterAttempt::Retry(at) => (DeliveryState::Pending, Some(*at), None),
        AfterAttempt::Failed => (DeliveryState::Failed, None, None),
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
            webhook_deliveries::state.eq(DeliveryState::Failed),
            webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
            webhook_deliveries::last_error.eq(Some(why.to_owned())),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// One delivery visible to the caller.
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
    state: Option<DeliveryState>,
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
            .filter(webhook_deliveries::state.ne(DeliveryState::Pending)),
    )
    .set((
        webhook_deliveries::state.eq(DeliveryState::Pending),
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
    jobs::enqueue(conn, deliver_job(&updated, now)?).await?;
    Ok(true)
}
