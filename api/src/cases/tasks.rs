//! 研判分解 and 打包: a need decomposed into tasks, each with its own
//! assignee and clocks (the case resolves only when every task has), and a
//! bundle of services for one resident as one parent with one rating.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use onegrid_domain::permissions::Action;
use onegrid_store::cases;
use onegrid_store::registry::households;
use onegrid_store::targets::{self, On};
use uuid::Uuid;

use crate::cases::tasks_use;
use crate::cases::tasks_use::{BundleBody, TaskBody};
use crate::cases::views::{CaseView, created, view};
use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult, reference};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A task names a person or a department to dispatch to, not both.
fn check_task(field: &str, t: &TaskBody) -> ApiResult<()> {
    if t.assignee_user_id.is_some() && t.department_id.is_some() {
        return Err(ApiError::field(
            &format!("{field}department_id"),
            "a person or a department, not both",
        ));
    }
    Ok(())
}

/// Decompose a case into a task
///
/// 研判分解: adds a task to an accepted, open case. The task is accepted at
/// once (dispatched too, if an assignee is given), runs its own clocks and
/// is worked like any case; the case cannot be resolved while a task is
/// open. Tasks are rated through their case.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), request_body = TaskBody, responses((status = 201, body = CaseView)))]
#[post("/cases/{case_id}/tasks")]
pub async fn create_task(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<TaskBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    check_task("", &body)?;
    let hash = crate::http::request_hash(&serde_json::json!((id, &body)));
    let st = state.clone();
    let at = (state.clock.now(), state.clock.today());
    state
        .create(
            caller,
            (Action::CaseTriage, On::Case(id)),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let parent = cases::get_case(c, id).await?;
                    let task = tasks_use::add_task(&st.keys, c, &p, (parent, body), at).await?;
                    let location = format!("/api/v1/cases/{}", task.id);
                    created(&st, c, task, at.0, location).await
                })
            },
        )
        .await
}

/// List a case's tasks
///
/// The tasks a case was decomposed into, or the services of a bundle.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), responses((status = 200, body = Vec<CaseView>)))]
#[get("/cases/{case_id}/tasks")]
pub async fn list_tasks(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let now = state.clock.now();
    let loaded = state
        .on_row(
            caller,
            Action::CaseRead,
            move |c| Box::pin(cases::get_case(c, id)),
            move |c, _, parent| {
                Box::pin(async move {
                    let children = cases::children(c, &parent).await?;
                    crate::cases::views::load_views(&st, c, children).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(loaded.into_iter().map(|l| view(l, now)).collect::<Vec<_>>()))
}

/// Bundle services for a resident
///
/// 打包: one parent case (service mode `bundled`, already accepted) for one
/// resident, with one task per service; the resident rates the bundle once.
#[utoipa::path(tag = "cases", request_body = BundleBody, responses((status = 201, body = CaseView)))]
#[post("/case-bundles")]
pub async fn create_bundle(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<BundleBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    for (i, s) in body.services.iter().enumerate() {
        check_task(&format!("services[{i}]."), s)?;
    }
    let hash = crate::http::request_hash(&body);
    let st = state.clone();
    let at = (state.clock.now(), state.clock.today());
    state
        .create(
            caller,
            (Action::CaseFile, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let resident = households::get_resident(c, body.resident_id)
                        .await
                        .map_err(reference("resident_id"))?;
                    // The bundle lives in the resident's grid, met only here.
                    let target = targets::grid(c, &p, resident.grid_id).await?;
                    p.require(Action::CaseFile, &target)?;
                    p.require(Action::CaseTriage, &target)?;
                    let filing = (&resident, body);
                    let bundle = tasks_use::file_bundle(&st.keys, c, &p, filing, at).await?;
                    let location = format!("/api/v1/cases/{}", bundle.id);
                    created(&st, c, bundle, at.0, location).await
                })
            },
        )
        .await
}
