//! One endpoint moves a case through its lifecycle: each step is checked
//! against the state machine (409 with the allowed steps otherwise) and the
//! caller's permission for that step, applied under `If-Match` (concurrent
//! steps: exactly one wins), recorded as an event, and acted out on the
//! case's clocks.

use crate::http::input::Json;
use actix_web::HttpResponse;
use actix_web::post;
use actix_web::web::{Data, Path};
use onegrid_domain::cases::{SCORES, Step};
use onegrid_domain::permissions::{Action, step_action};
use onegrid_domain::text::Text;
use onegrid_store::cases;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::steps_use;
use crate::cases::steps_use::CaseStepBody;
use crate::cases::views::{created, place};
use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::{IdempotencyKey, IfMatch};
use crate::platform::auth::Caller;
use crate::state::AppState;

fn check_body(b: &CaseStepBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    if b.reason.is_none() && b.step.needs_reason() {
        push("reason", "this step needs a reason");
    }
    let dispatch = b.step == Step::Dispatch;
    match (b.assignee_user_id, b.department_id) {
        (Some(_), Some(_)) => push(
            "department_id",
            "dispatch to a person or a department, not both",
        ),
        (None, None) if dispatch => push(
            "assignee_user_id",
            "dispatch needs assignee_user_id or department_id",
        ),
        (Some(_), None) | (None, Some(_)) if !dispatch => {
            push("assignee_user_id", "only dispatch takes an assignee");
        }
        _ => {}
    }
    let extends = matches!(b.step, Step::RequestExtension | Step::ApproveExtension);
    match b.extension_minutes {
        Some(_) if !extends => push("extension_minutes", "only extension steps take minutes"),
        None if extends => push("extension_minutes", "say how many minutes"),
        _ => {}
    }
    match b.score {
        Some(_) if b.step != Step::Rate => push("score", "only rate takes a score"),
        Some(s) if !SCORES.contains(&s) => push("score", "10, 8, 6, 3 or 0"),
        None if b.step == Step::Rate => push("score", "rate needs a score"),
        _ => {}
    }
    if b.comment.is_some() && b.step != Step::Rate {
        push("comment", "only rate takes a comment");
    }
    if b.service_mode.is_some() && !matches!(b.step, Step::Dispatch | Step::Sign) {
        push("service_mode", "set with dispatch or sign");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Take a step on a case
///
/// Moves the case one step: accept (立案) or reject; dispatch to a person or
/// a department; sign (签收) or return (退回); request, approve or deny an
/// extension (延期); wait for the resident and resume (clocks pause);
/// submit a result; verify (核查) or send back; resolve; request, approve or
/// deny parking (挂账) and unpark; escalate (上报); rate (3 or 0 reopens for
/// rework on a 15-working-day clock); close; reopen. Requires `If-Match`;
/// of concurrent steps on one version exactly one wins (412 for the others).
/// A step the state does not allow is 409 `illegal_transition` with the
/// allowed steps listed. Answers 201 with the case; the step is the newest
/// entry of `/cases/{id}/events`.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = CaseStepBody, responses((status = 201, body = crate::cases::views::CaseView)))]
#[post("/cases/{case_id}/steps")]
pub async fn take_step(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<CaseStepBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    check_body(&body)?;
    let hash =
        crate::http::request_hash(&serde_json::json!((id, &body, if_match.0.map(|v| v.ok()))));
    let st = state.clone();
    let at = (state.clock.now(), state.clock.today());
    let on = place(&state, &caller, Action::CaseRead, id).await?;
    let action = step_action(body.step);
    state
        .create(caller, (action, on), (key, hash), move |c, p, _| {
            Box::pin(async move {
                let case = cases::get_case(c, id).await?;
                let read = (case, if_match.version()?);
                let case = steps_use::take_step(c, &p, read, body, at).await?;
                let location = format!("/api/v1/cases/{}/events", case.id);
                created(&st, c, case, at.0, location).await
            })
        })
        .await
}

/// A staged milestone reached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneBody {
    /// The milestone's name, as in the case's clocks (e.g. 控制).
    pub name: Text<100>,
}

/// Complete a staged milestone
///
/// Stops the named milestone clock of the case (met or breached) and records
/// the event. 409 if no such milestone is running. Requires `If-Match`.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = MilestoneBody, responses((status = 201, body = crate::cases::views::CaseView)))]
#[post("/cases/{case_id}/milestones")]
pub async fn complete_milestone(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<MilestoneBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let hash =
        crate::http::request_hash(&serde_json::json!((id, &body, if_match.0.map(|v| v.ok()))));
    let st = state.clone();
    let now = state.clock.now();
    state
        .create(
            caller,
            (Action::CaseWork, On::Case(id)),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let case = cases::get_case(c, id).await?;
                    let read = (case, if_match.version()?);
                    let case = steps_use::complete_milestone(c, &p, read, &body.name, now).await?;
                    let location = format!("/api/v1/cases/{}/events", case.id);
                    created(&st, c, case, now, location).await
                })
            },
        )
        .await
}
