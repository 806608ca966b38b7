//! The audit log's read API, for auditors.

use crate::http::input::Listed;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::platform::audit::{self, Entry, Filter};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::Paged;
use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// One audit entry: who did what to which subject, when, why, under which
/// request. Values are never logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub street_id: Option<Uuid>,
    pub actor_id: Uuid,
    /// `user` or `api_key`.
    pub actor_kind: String,
    /// e.g. `resident.reveal`, `ledger.read`, `ledger.break_glass`.
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub field: Option<String>,
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<Entry> for AuditEntryView {
    fn from(e: Entry) -> Self {
        AuditEntryView {
            id: e.id,
            at: e.at,
            street_id: e.street_id,
            actor_id: e.actor_id,
            actor_kind: e.actor_kind,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            field: e.field,
            purpose: e.purpose,
            request_id: e.request_id,
            details: e.details,
        }
    }
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub street_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub action: Option<String>,
    /// From this instant (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(AuditQuery);

/// Read the audit log
///
/// Entries of the caller's scope, oldest first, filtered by street, actor,
/// subject, action and time. Auditors and district admins only. The log is
/// append-only: nothing can change or remove an entry.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = Paged<AuditEntryView>)))]
#[get("/audit-log")]
pub async fn list_audit_log(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let filter = Filter {
        street_id: q.street_id,
        actor_id: q.actor_id,
        subject_id: q.subject_id,
        action: q.action,
        from: q.from,
        to: q.to,
    };
    let on = On::street_or_anywhere(filter.street_id);
    let rows = state
        .proven(caller, Action::AuditRead, on, move |c| {
            Box::pin(async move { audit::list(c, &filter, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, AuditEntryView::from)))
}
