//! Webhook events written in the transaction of the change they describe,
//! and the fan-out of each into one delivery per subscribed endpoint.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::jobs::DeliveryState;
use uuid::Uuid;

use super::{Delivery, Event};
use crate::cases::{Case, NewEvent};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::integrations::job_kinds::{WebhookDelivery, WebhookFanOut};
use crate::integrations::jobs::{self, NewJob};
use crate::schema::{webhook_deliveries, webhook_endpoints, webhook_events};

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
        NewJob::of(&WebhookFanOut { event_id: id }, at)?
            .unique(format!("webhook-event:{id}"))
            .for_tenant(district_id, Some(street_id)),
    )
    .await?;
    Ok(())
}

pub(crate) fn deliver_job(d: &Delivery, run_at: DateTime<Utc>) -> StoreResult<NewJob> {
    Ok(NewJob::of(&WebhookDelivery { delivery_id: d.id }, run_at)?
        .unique(format!("webhook-delivery:{}:{}", d.id, d.replays))
        .for_tenant(d.district_id, Some(d.street_id)))
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
                webhook_deliveries::state.eq(DeliveryState::Pending),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
                webhook_deliveries::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .returning(Delivery::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if let Some(d) = d {
            jobs::enqueue(conn, deliver_job(&d, now)?).await?;
            created += 1;
        }
    }
    Ok(created)
}
