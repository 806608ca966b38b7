//! A case's append-only events and its links.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::cases::Status;
use uuid::Uuid;

use super::{Actor, Case};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{case_events, case_links};

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The step's stable name, e.g. `dispatch` (a `Step` name, or the store's own like `file`).
    pub step: &'static str,
    /// The status before the step; `None` for the filing.
    pub from: Option<Status>,
    /// The status after the step (the same as `from` for a step that keeps it).
    pub to: Status,
    /// Who took the step.
    pub actor: Actor,
    /// Why, up to 1,000 characters (required for some steps, e.g. `reject`).
    pub reason: Option<String>,
    /// The step's particulars, e.g. the dispatch target (`{}` when none).
    pub data: serde_json::Value,
    /// When the step was taken.
    pub at: DateTime<Utc>,
}

/// Appends an event to a case's history, numbered after the last one. Call it
/// after the guarded update of the case row, which serialises writers.
pub async fn append_event(conn: &mut Conn, case: &Case, e: NewEvent) -> StoreResult<()> {
    let seq: i32 = case_events::table
        .filter(case_events::street_id.eq(case.street_id))
        .filter(case_events::case_id.eq(case.id))
        .select(diesel::dsl::max(case_events::seq))
        .first::<Option<i32>>(conn)
        .await?
        .unwrap_or(0)
        + 1;
    insert_event(conn, case, seq, e).await
}

pub(crate) async fn insert_event(
    conn: &mut Conn,
    case: &Case,
    seq: i32,
    e: NewEvent,
) -> StoreResult<()> {
    // Integrators hear of it from the same transaction.
    crate::integrations::webhooks::emit_case_event(conn, case, seq, &e).await?;
    diesel::insert_into(case_events::table)
        .values((
            case_events::street_id.eq(case.street_id),
            case_events::id.eq(Uuid::now_v7()),
            case_events::case_id.eq(case.id),
            case_events::seq.eq(seq),
            case_events::step.eq(e.step),
            case_events::from_status.eq(e.from.map(Status::as_str)),
            case_events::to_status.eq(e.to.as_str()),
            case_events::actor_id.eq(e.actor.id),
            case_events::actor_kind.eq(e.actor.kind),
            case_events::reason.eq(e.reason),
            case_events::data.eq(e.data),
            case_events::at.eq(e.at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// An event of a case's history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_events)]
pub struct CaseEvent {
    /// The event's number in the case's history, from 1 without gaps.
    pub seq: i32,
    /// The step's stable name, e.g. `dispatch`.
    pub step: String,
    /// The status before the step; `None` for the filing.
    pub from_status: Option<String>,
    /// The status after the step.
    pub to_status: String,
    /// The user's or API key's id; the nil id for the system.
    pub actor_id: Uuid,
    /// `user`, `api_key` or `system`: what `actor_id` names.
    pub actor_kind: String,
    /// Why, if a reason was given.
    pub reason: Option<String>,
    /// The step's particulars (`{}` when none).
    pub data: serde_json::Value,
    /// When the step was taken.
    pub at: DateTime<Utc>,
}

/// The history of a case, oldest first.
pub async fn events_of(conn: &mut Conn, case_id: Uuid) -> StoreResult<Vec<CaseEvent>> {
    Ok(case_events::table
        .filter(case_events::case_id.eq(case_id))
        .select(CaseEvent::as_select())
        .order(case_events::seq)
        .load(conn)
        .await?)
}

/// `(case, subject type, subject)` of every link of several cases.
pub async fn links_of(
    conn: &mut Conn,
    case_ids: &[Uuid],
) -> StoreResult<Vec<(Uuid, String, Uuid)>> {
    Ok(case_links::table
        .filter(case_links::case_id.eq_any(case_ids))
        .select((
            case_links::case_id,
            case_links::subject_type,
            case_links::subject_id,
        ))
        .order((case_links::subject_type, case_links::subject_id))
        .load(conn)
        .await?)
}
