//! The use cases behind a case's steps and milestones: a step checked
//! against the case's state and applied to its row, clocks and history, a
//! dispatch to someone who can work it, a staged milestone reached. They know
//! no HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::cases::{Kind, Status, Step, clock_effects, next};
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::permissions::Action;
use onegrid_store::cases::{self, Case, CaseChanges, NewEvent, StepWrite};
use onegrid_store::targets::Guarded;
use onegrid_store::{Conn, Principal, cases::setup, platform::staff, registry::departments, scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::service::actor;
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// A lifecycle step. Published as `CaseStepBody`: a dispute summons has a
/// `CaseStepBody` of its own.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = CaseStepBody)]
#[serde(deny_unknown_fields)]
pub struct CaseStepBody {
    pub step: Step,
    /// Required for reject, return, request_extension, deny_extension,
    /// send_back, request_park, deny_park, escalate and reopen (2-1000
    /// characters, two of them besides white space).
    #[schema(max_length = 1000, pattern = r"\S[\s\S]*\S")]
    pub reason: Option<String>,
    /// dispatch: the staff member who will handle it …
    pub assignee_user_id: Option<Uuid>,
    /// … or the department it is routed to.
    pub department_id: Option<Uuid>,
    /// request_extension (asked) and approve_extension (granted): minutes of
    /// the resolution clock's basis.
    #[schema(minimum = 1, maximum = 525600)]
    pub extension_minutes: Option<i64>,
    /// rate: 10, 8, 6, 3 or 0 (3 and 0 reopen the case for rework).
    pub score: Option<i16>,
    /// rate: the resident's words (at most 500 characters).
    #[schema(max_length = 500)]
    pub comment: Option<String>,
    /// dispatch or sign: how the service is delivered.
    pub service_mode: Option<ServiceMode>,
}

/// The row changes and event data of dispatching `case` to a staff member
/// who can work it or to an active department of the district.
pub async fn dispatch_changes(
    c: &mut Conn,
    case: &Case,
    user: Option<Uuid>,
    department: Option<Uuid>,
    today: NaiveDate,
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

/// Takes `body`'s step on `case`, read at `version`: the state machine and
/// the case's tasks and ladder allow it, its row changes, event and clock
/// effects are recorded; returns the case as it is now.
pub async fn take_step(
    c: &mut Conn,
    p: &Principal,
    (case, version): (Case, i32),
    body: CaseStepBody,
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<Case> {
    if version != case.version {
        return Err(onegrid_store::StoreError::VersionMismatch {
            current: case.version,
        }
        .into());
    }
    if body.step == Step::Rate && case.kind == Kind::Task {
        return Err(ApiError::field(
            "step",
            "a task is rated through the case it belongs to",
        ));
    }
    if body.step == Step::Resolve {
        let open = cases::open_children(c, &case).await?;
        if open > 0 {
            return Err(ApiError::new(
                Code::Conflict,
                format!("{open} of the case's tasks are still open"),
            ));
        }
    }
    let before = case.state();
    let after = next(before, body.step, body.score).map_err(|e| ApiError::illegal(&e))?;
    let mut changes = CaseChanges::default();
    let mut data = serde_json::Map::new();
    match body.step {
        Step::Dispatch => {
            let (assign, routed) =
                dispatch_changes(c, &case, body.assignee_user_id, body.department_id, today)
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
                    Code::Conflict,
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
        changes.service_mode = Some(Some(mode));
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
            actor: actor(p),
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
    Ok(cases::record_step(c, &case, version, write).await?)
}

/// Stops the running milestone clock `name` of `case`, read at `version`,
/// and records the event: 409 if no such milestone is running.
pub async fn complete_milestone(
    c: &mut Conn,
    p: &Principal,
    (case, version): (Case, i32),
    name: &str,
    now: DateTime<Utc>,
) -> ApiResult<Case> {
    let calendar = setup::calendar(c, case.district_id).await?;
    let write = cases::note(
        &case,
        "complete_milestone",
        actor(p),
        serde_json::json!({ "milestone": name }),
        now,
        &calendar,
    );
    let updated = cases::record_step(c, &case, version, write).await?;
    if !cases::complete_milestone(c, &updated, name, now).await? {
        return Err(ApiError::new(
            Code::Conflict,
            format!("no milestone named {name} is running"),
        ));
    }
    Ok(updated)
}
