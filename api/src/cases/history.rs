//! A case's history: the append-only events of its steps.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::cases::{self, CaseEvent};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// One step of a case's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseEventView {
    pub seq: i32,
    /// file, or a lifecycle step.
    pub step: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Uuid,
    /// user, api_key or system.
    pub actor_kind: String,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

fn event_view(e: CaseEvent) -> CaseEventView {
    CaseEventView {
        seq: e.seq,
        step: e.step,
        from_status: e.from_status,
        to_status: e.to_status,
        actor_id: e.actor_id,
        actor_kind: e.actor_kind,
        reason: e.reason,
        data: e.data,
        at: e.at,
    }
}

/// A case's history
///
/// Every step with actor and time, in order. The history cannot be edited.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), responses((status = 200, body = Vec<CaseEventView>)))]
#[get("/cases/{case_id}/events")]
pub async fn list_events(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let events = state
        .on_row(
            caller,
            Action::CaseRead,
            move |c| Box::pin(cases::get_case(c, id)),
            move |c, _, case| Box::pin(async move { Ok(cases::events_of(c, case.id).await?) }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(events.into_iter().map(event_view).collect::<Vec<_>>()))
}
