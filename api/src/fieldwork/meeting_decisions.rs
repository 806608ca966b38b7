//! At the meeting: a decision per agenda item (handled, a service item with
//! its owner and due date, or deferred), closing the meeting, and the
//! residents' rating of each item.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_domain::text::Text;
use onegrid_store::StoreError;
use onegrid_store::fieldwork::meetings::{self};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::meetings::{MeetingView, meeting_view};
use super::meetings_use;
use crate::fieldwork::meetings_use::{CloseBody, DecisionBody};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Record a decision
///
/// Files the service item as a case through the meeting channel and records
/// its owner and due date; the next meeting reports it back. Naming an
/// untracked patrol finding of the agenda links the item's case to it.
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id")), request_body = DecisionBody, responses((status = 201, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/decisions")]
pub async fn record_decision(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    if body.due_on < state.clock.today() {
        return Err(ApiError::field("due_on", "not in the past"));
    }
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, p, m| {
                Box::pin(async move {
                    meetings_use::record_decision(&st.keys, c, &p, (&m, body), now).await?;
                    meeting_view(c, m).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Close a needs meeting
///
/// With its minutes and attendance (member units of the joint party
/// committee, department grid workers, volunteers, residents'
/// representatives, staff), under If-Match.
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id")), request_body = CloseBody, responses((status = 200, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/close")]
pub async fn close_meeting(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<CloseBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let view = state
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, _, m| {
                Box::pin(async move {
                    let read = (m, if_match.version()?);
                    let closed = meetings_use::close(c, read, body, now).await?;
                    meeting_view(c, closed).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// An attendee's rating of a reported-back item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRatingBody {
    /// Who rates (an attendee's name).
    pub rater: Text<100>,
    /// 10, 8, 6, 3 or 0.
    pub score: i16,
}

/// Rate a reported-back item
///
/// Records an attendee's rating of an item this meeting reports back (one
/// per attendee and item; 409 for a second).
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id"), ("case_id" = Uuid, Path, description = "The item's case")), request_body = ItemRatingBody, responses((status = 200, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/report-back/{case_id}/rating")]
pub async fn rate_item(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
    body: Json<ItemRatingBody>,
) -> ApiResult<HttpResponse> {
    let ((id, case_id), body) = (ids.into_inner(), body.into_inner());
    let rater = body.rater.trim().to_owned();
    if ![10, 8, 6, 3, 0].contains(&body.score) {
        return Err(ApiError::field("score", "10, 8, 6, 3 or 0"));
    }
    let now = state.clock.now();
    let view = state
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, _, m| {
                Box::pin(async move {
                    let reported = meetings::agenda(c, &m)
                        .await?
                        .iter()
                        .any(|a| a.kind == "report_back" && a.case_id == Some(case_id));
                    if !reported {
                        return Err(StoreError::NotFound.into());
                    }
                    if !meetings::rate_item(c, &m, case_id, rater, body.score, now).await? {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "this attendee already rated the item at this meeting",
                        ));
                    }
                    meeting_view(c, m).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
