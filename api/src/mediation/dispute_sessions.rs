//! Mediation sessions (调解) with their outcome, and the follow-ups (回访)
//! a settled dispute schedules.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_store::mediation::disputes::{self};
use uuid::Uuid;

use super::dispute_sessions_use::{self, FollowUpBody, SessionBody};
use super::dispute_views::{DisputeView, detail};
use crate::http::error::ApiResult;
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Record a mediation session
///
/// Under If-Match. `agreement` settles the dispute where it stands (its
/// agreement document uploaded first); `failed` refers it to the court,
/// arbitration or petitions; both schedule three follow-up visits (after 7,
/// 30 and 90 days). `adjourned` changes nothing but the record.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), request_body = SessionBody, responses((status = 201, body = DisputeView)))]
#[post("/disputes/{dispute_id}/sessions")]
pub async fn record_session(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<SessionBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    dispute_sessions_use::check_session(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::DisputeRecord,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, p, d| {
                Box::pin(async move {
                    let at = (&d, if_match.version()?);
                    let updated = dispute_sessions_use::record(c, &p, at, body, now).await?;
                    detail(&st, c, &p, updated).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("etag", crate::http::etag(view.version)))
        .json(view))
}

/// Record a follow-up visit
///
/// Visit `seq` (1, 2, 3) is done; the last one closes the dispute. 409 if it
/// was already recorded.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("seq" = i16, Path, description = "Visit number")), request_body = FollowUpBody, responses((status = 200, body = DisputeView)))]
#[post("/disputes/{dispute_id}/follow-ups/{seq}/complete")]
pub async fn complete_follow_up(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, i16)>,
    body: Json<FollowUpBody>,
) -> ApiResult<HttpResponse> {
    let ((id, seq), body) = (ids.into_inner(), body.into_inner());
    dispute_sessions_use::check_follow_up(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::DisputeRecord,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, p, d| {
                Box::pin(async move {
                    let at = (&d, seq);
                    let updated =
                        dispute_sessions_use::complete_follow_up(c, &p, at, body, now).await?;
                    detail(&st, c, &p, updated).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}
