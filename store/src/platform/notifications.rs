//! A user's notices.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::notifications as t;

/// A notice in a user's inbox.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Notification {
    /// The notice's id (UUIDv7, time-ordered).
    pub id: Uuid,
    /// The user whose inbox holds it.
    pub user_id: Uuid,
    /// What it is about, e.g. `ledger.stale_digest` or `break_glass`.
    pub kind: String,
    /// The headline shown in the inbox.
    pub title: String,
    /// Ids and figures the notice refers to (`{}` when none).
    pub body: serde_json::Value,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When the user first read it; `None` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// The notices of `user_id`, oldest first; only the unread ones if `unread_only`.
pub async fn list(
    conn: &mut Conn,
    user_id: Uuid,
    unread_only: bool,
    page: &PageRequest,
) -> StoreResult<Page<Notification>> {
    let mut q = t::table
        .filter(t::user_id.eq(user_id))
        .select(Notification::as_select())
        .order(t::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(t::id.gt(after));
    }
    if unread_only {
        q = q.filter(t::read_at.is_null());
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |n| n.id))
}

/// Marks a notice of `user_id` read (keeps the first read time).
pub async fn mark_read(
    conn: &mut Conn,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Notification> {
    let target = t::table.filter(t::id.eq(id)).filter(t::user_id.eq(user_id));
    diesel::update(target.filter(t::read_at.is_null()))
        .set(t::read_at.eq(Some(now)))
        .execute(conn)
        .await?;
    Ok(target.select(Notification::as_select()).first(conn).await?)
}
