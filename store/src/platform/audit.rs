//! The audit log: who did what to which record, when, why, and under which
//! request — never the value itself. Rows can be added and read, never changed:
//! the app role has no UPDATE or DELETE grant and a trigger refuses them for
//! everyone else.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::audit_log as t;
use crate::scope::{Actor, Principal};

/// One audit entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Entry {
    /// The entry's id (UUIDv7, so id order is time order).
    pub id: Uuid,
    /// When the action happened (the transaction's clock).
    pub at: DateTime<Utc>,
    /// The district the action happened in.
    pub district_id: Uuid,
    /// The street of the subject; `None` for district-level subjects.
    pub street_id: Option<Uuid>,
    /// The user or API key that acted.
    pub actor_id: Uuid,
    /// `user` or `api_key`: what `actor_id` names.
    pub actor_kind: String,
    /// What was done, e.g. `resident.reveal` or `ledger.break_glass`.
    pub action: String,
    /// The kind of record acted on, e.g. `resident`.
    pub subject_type: String,
    /// The record acted on, when the action has one.
    pub subject_id: Option<Uuid>,
    /// The field read or changed (e.g. `phone`), never its value.
    pub field: Option<String>,
    /// The reason the actor gave (required for reveals and break-glass).
    pub purpose: Option<String>,
    /// The id of the request that acted, to match the access log.
    pub request_id: Option<String>,
    /// Further ids and codes about the action (never personal values); `{}` when none.
    pub details: serde_json::Value,
}

/// What is being audited.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The street of the subject; `None` for district-level subjects.
    pub street_id: Option<Uuid>,
    /// What is done, e.g. `resident.reveal`.
    pub action: &'a str,
    /// The kind of record acted on.
    pub subject_type: &'a str,
    /// The record acted on, if any.
    pub subject_id: Option<Uuid>,
    /// The field read or changed, if one (never its value).
    pub field: Option<&'a str>,
    /// The reason the actor gave, if the action takes one.
    pub purpose: Option<&'a str>,
    /// The request's id.
    pub request_id: &'a str,
    /// Further ids and codes (never personal values).
    pub details: serde_json::Value,
}

/// Appends an entry in the caller's transaction (it commits with the action).
pub async fn record(conn: &mut Conn, principal: &Principal, event: Event<'_>) -> StoreResult<()> {
    let (actor_id, kind) = match principal.actor {
        Actor::User { user_id, .. } => (user_id, "user"),
        Actor::ApiKey { key_id, .. } => (key_id, "api_key"),
    };
    diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::at.eq(principal.now),
            t::district_id.eq(principal.district_id),
            t::street_id.eq(event.street_id),
            t::actor_id.eq(actor_id),
            t::actor_kind.eq(kind),
            t::action.eq(event.action),
            t::subject_type.eq(event.subject_type),
            t::subject_id.eq(event.subject_id),
            t::field.eq(event.field),
            t::purpose.eq(event.purpose),
            t::request_id.eq(event.request_id),
            t::details.eq(event.details),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Filters of the audit read API.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only entries of this street.
    pub street_id: Option<Uuid>,
    /// Only entries by this user or API key.
    pub actor_id: Option<Uuid>,
    /// Only entries about this record.
    pub subject_id: Option<Uuid>,
    /// Only entries of this action, e.g. `resident.reveal`.
    pub action: Option<String>,
    /// Only entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// Entries visible to the caller, oldest first.
pub async fn list(
    conn: &mut Conn,
    filter: &Filter,
    page: &PageRequest,
) -> StoreResult<Page<Entry>> {
    let mut q = t::table
        .select(Entry::as_select())
        .order(t::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(t::id.gt(after));
    }
    if let Some(s) = filter.street_id {
        q = q.filter(t::street_id.eq(s));
    }
    if let Some(a) = filter.actor_id {
        q = q.filter(t::actor_id.eq(a));
    }
    if let Some(s) = filter.subject_id {
        q = q.filter(t::subject_id.eq(s));
    }
    if let Some(a) = &filter.action {
        q = q.filter(t::action.eq(a.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(t::at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(t::at.lt(to));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |e| e.id))
}
