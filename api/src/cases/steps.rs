//! One endpoint moves a case through its lifecycle: each step is checked
//! against the state machine (409 with the allowed steps otherwise) and the
//! caller's permission for that step, applied under `If-Match` (concurrent
//! steps: exactly one wins), recorded as an event, and acted out on the
//! case's clocks.

use crate::http::input::Json;
use actix_web::HttpResponse;
use actix_web::post;
use actix_web::web::{Data, Path};
use onegrid_domain::cases::{SCORES, Status, Step, clock_effects, next};
use onegrid_domain::permissions::{Action, step_action};
use onegrid_store::cases::{self, Case, CaseChanges, NewEvent, StepWrite};
use onegrid_store::targets::{Guarded, On};
use onegrid_store::{cases::setup, platform::staff, registry::departments, scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::views::{actor, load_view, place, view};
use crate::http::error::{ApiError, ApiResult, FieldError, reference};
use crate::http::{IdempotencyKey, IfMatch};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};
use onegrid_domain::channels::ServiceMode;

/// A lifecycle step.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub step: Step,
    /// Required for reject, return, request_extension, deny_extension,
    /// send_back, request_park, deny_park, escalate and reopen (2-1000 characters).
    pub reason: Option<String>,
    /// dispatch: the staff member who will handle it …
    pub assignee_user_id: Option<Uuid>,
    /// … or the department it is routed to.
    pub department_id: Option<Uuid>,
    /// request_extension (asked) and approve_extension (granted): minutes of
    /// the resolution clock's basis.
    pub extension_minutes: Option<i64>,
    /// rate: 10, 8, 6, 3 or 0 (3 and 0 reopen the case for rework).
    pub score: Option<i16>,
    /// rate: the resident's words (at most 500 characters).
    pub comment: Option<String>,
    /// dispatch or sign: how the service is delivered.
    pub service_mode: Option<ServiceMode>,
}

fn check_body(b: &StepBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    match &b.reason {
        Some(r) if r.trim().chars().count() < 2 || r.chars().count() > 1000 => {
            push("reason", "2 to 1000 characters");
        }
        None if b.step.needs_reason() => push("reason", "this step needs a reason"),
        _ => {}
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
        Some(m) if !(1..=525_600).contains(&m) => push("extension_minutes", "1 to 525600 minutes"),
        None if extends => push("extension_minutes", "say how many minutes"),
        _ => {}
    }
    match b.score {
        Some(_) if b.step != Step::Rate => push("score", "only rate takes a score"),
        Some(s) if !SCORES.contains(&s) => push("score", "10, 8, 6, 3 or 0"),
        None if b.step == Step::Rate => push("score", "rate needs a score"),
        _ => {}
    }
    if b.comment.as_ref().is_some_and(|c| c.chars().count() > 500) {
        push("comment", "at most 500 characters");
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

/// The row changes and event data of dispatching `case` to a staff member
/// who can work it or to an active department of the district.
pub async fn dispatch_changes(
    c: &mut onegrid_store::Conn,
    case: &Case,
    user: Option<Uuid>,
    department: Option<Uuid>,
    today: chrono::NaiveDate,
) -> ApiResult<(CaseChanges, serde_json::Map<String, serde_json::Value>)> {
    let mut changes = CaseChanges::default();
    let mut data = serde_json::Map::new();
    if let Some(user) = user {
        let u = staff::get_user(c, user)
            .await
            .map_err(reference("assignee_user_id"))?;
        let grants = scope::grants_of(c, u.id, today).await?;
        let workers = onegrid_domain::permissions::rule(Action::CaseWork).roles;
        let can_work = grants
            .iter()
            .any(|g| workers.contains(&g.role) && g.covers(&case.target(case.district_id)));
        if u.disabled || !can_work {
            return Err(ApiError::field(
                "assignee_user_id",
                "this person cannot work cases of this grid",
            ));
        }
        changes.assignee_user_id = Some(Some(u.id));
        changes.assignee_department_id = Some(None);
        data.insert("assignee_user_id".into(), u.id.to_string().into());
    }
    if let Some(dep) = department {
        let d = departments::get(c, dep)
            .await
            .map_err(reference("department_id"))?;
        if !d.active {
            return Err(ApiError::field(
                "department_id",
                "this department is retired",
            ));
        }
        changes.assignee_user_id = Some(None);
        changes.assignee_department_id = Some(Some(d.id));
        data.insert("department_id".into(), d.id.to_string().into());
    }
    Ok((changes, data))
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
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = StepBody, responses((status = 201, body = crate::cases::views::CaseView)))]
#[post("/cases/{case_id}/steps")]
pub async fn take_step(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<StepBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    check_body(&body)?;
    let hash =
        crate::http::request_hash(&serde_json::json!((id, &body, if_match.0.map(|v| v.ok()))));
    let st = state.clone();
    let now = state.clock.now();
    let today = state.clock.today();
    let on = place(&state, &caller, Action::CaseRead, id).await?;
    let action = step_action(body.step);
    state
        .create(caller, (action, on), (key, hash), move |c, p, _| {
            Box::pin(async move {
                let case = cases::get_case(c, id).await?;
                let version = if_match.version()?;
                if version != case.version {
                    return Err(onegrid_store::StoreError::VersionMismatch {
                        current: case.version,
                    }
                    .into());
                }
                if body.step == Step::Rate && case.kind == "task" {
                    return Err(ApiError::field(
                        "step",
                        "a task is rated through the case it belongs to",
                    ));
                }
                if body.step == Step::Resolve {
                    let open = cases::open_children(c, &case).await?;
                    if open > 0 {
                        return Err(ApiError::new(
                            crate::http::error::Code::Conflict,
                            format!("{open} of the case's tasks are still open"),
                        ));
                    }
                }
                let before = case.state();
                let after =
                    next(before, body.step, body.score).map_err(|e| ApiError::illegal(&e))?;
                let mut changes = CaseChanges::default();
                let mut data = serde_json::Map::new();
                match body.step {
                    Step::Dispatch => {
                        let (assign, routed) = dispatch_changes(
                            c,
                            &case,
                            body.assignee_user_id,
                            body.department_id,
                            today,
                        )
                        .await?;
                        changes = assign;
                        data.extend(routed);
                    }
                    Step::Return => {
                        changes.assignee_user_id = Some(None);
                        changes.assignee_department_id = Some(None);
                    }
                    Step::Escalate => {
                        if case.escalation_level >= 3 {
                            return Err(ApiError::new(
                                crate::http::error::Code::Conflict,
                                "the case is already with the departments, the top of the ladder",
                            ));
                        }
                        changes.escalation_level = Some(case.escalation_level + 1);
                        data.insert("level".into(), (case.escalation_level + 1).into());
                    }
                    Step::Resolve => changes.resolved_at = Some(Some(now)),
                    Step::Rate | Step::Close | Step::Reopen => {
                        if after.status == Status::Closed {
                            changes.closed_at = Some(Some(now));
                        } else {
                            changes.rework_cycle = Some(case.rework_cycle + 1);
                            changes.resolved_at = Some(None);
                            changes.closed_at = Some(None);
                        }
                    }
                    _ => {}
                }
                if let Some(mode) = body.service_mode {
                    changes.service_mode = Some(Some(mode.as_str().to_owned()));
                    data.insert("service_mode".into(), mode.as_str().into());
                }
                if let Some(m) = body.extension_minutes {
                    data.insert("extension_minutes".into(), m.into());
                }
                if let Some(s) = body.score {
                    data.insert("score".into(), s.into());
                }
                let calendar = setup::calendar(c, case.district_id).await?;
                let milestones = if body.step == Step::Accept {
                    setup::get_category(c, case.category_id)
                        .await?
                        .milestone_list()
                } else {
                    Vec::new()
                };
                let write = StepWrite {
                    after,
                    changes,
                    event: NewEvent {
                        step: body.step.as_str(),
                        from: Some(before.status),
                        to: after.status,
                        actor: actor(&p),
                        reason: body.reason,
                        data: serde_json::Value::Object(data),
                        at: now,
                    },
                    effects: clock_effects(body.step, after),
                    extension_minutes: body.extension_minutes.unwrap_or(0),
                    calendar: &calendar,
                    milestones: &milestones,
                    rating: body.score.map(|s| (s, body.comment)),
                };
                let updated = cases::record_step(c, &case, version, write).await?;
                let version = updated.version;
                let id = updated.id;
                let loaded = load_view(&st, c, updated).await?;
                Created::new(
                    view(loaded, now),
                    format!("/api/v1/cases/{id}/events"),
                    Some(version),
                )
            })
        })
        .await
}

/// A staged milestone reached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneBody {
    /// The milestone's name, as in the case's clocks (e.g. 控制).
    pub name: String,
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
    if body.name.trim().is_empty() || body.name.chars().count() > 100 {
        return Err(ApiError::field("name", "1 to 100 characters"));
    }
    let hash =
        crate::http::request_hash(&serde_json::json!((id, &body, if_match.0.map(|v| v.ok()))));
    let st = state.clone();
    let now = state.clock.now();
    let on = On::Case(id);
    state
        .create(
            caller,
            (Action::CaseWork, on),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let case = cases::get_case(c, id).await?;
                    let version = if_match.version()?;
                    let calendar = setup::calendar(c, case.district_id).await?;
                    let write = cases::note(
                        &case,
                        "complete_milestone",
                        actor(&p),
                        serde_json::json!({"milestone": body.name}),
                        now,
                        &calendar,
                    );
                    let updated = cases::record_step(c, &case, version, write).await?;
                    if !cases::complete_milestone(c, &updated, &body.name, now).await? {
                        return Err(ApiError::new(
                            crate::http::error::Code::Conflict,
                            format!("no milestone named {} is running", body.name),
                        ));
                    }
                    let (cid, v) = (updated.id, updated.version);
                    let loaded = load_view(&st, c, updated).await?;
                    Created::new(
                        view(loaded, now),
                        format!("/api/v1/cases/{cid}/events"),
                        Some(v),
                    )
                })
            },
        )
        .await
}
