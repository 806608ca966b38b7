//! The caller's inbox (消息): notices such as a break-glass in one's community.

use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_store::platform::notifications::{self, Notification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::Paged;
use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A notice to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// Inbox filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only unread notices.
    pub unread: Option<bool>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(InboxQuery);

/// My notifications
///
/// The caller's notices, oldest first.
#[utoipa::path(tag = "auth", params(InboxQuery), responses((status = 200, body = Paged<NotificationView>)))]
#[get("/me/notifications")]
pub async fn my_notifications(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<InboxQuery>,
) -> ApiResult<HttpResponse> {
    let unread = q.unread.unwrap_or(false);
    let rows = state
        .as_self(caller, move |c, p| {
            Box::pin(async move {
                Ok(notifications::list(c, p.accountable_user(), unread, &page).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, NotificationView::from)))
}

/// Mark a notification read
///
/// Marks one of the caller's notices as read (idempotent).
#[utoipa::path(tag = "auth", params(("notification_id" = Uuid, Path, description = "Notification id")), responses((status = 200, body = NotificationView)))]
#[post("/me/notifications/{notification_id}/read")]
pub async fn mark_read(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let n = state
        .as_self(caller, move |c, p| {
            Box::pin(async move {
                Ok(notifications::mark_read(c, p.accountable_user(), id, p.now).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(n)))
}
