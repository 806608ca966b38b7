//! A user's notices.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::notifications as t;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

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
