//! 研判分解 and 打包: a need decomposed into tasks, each with its own
//! assignee and clocks (the case resolves only when every task has), and a
//! bundle of services for one resident as one parent with one rating.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::cases::{Status, Step, clock_effects, next};
use onegrid_domain::permissions::Action;
use onegrid_domain::sla::Tier;
use onegrid_store::cases::setup::{self, Category};
use onegrid_store::cases::{self, Actor, Case, Clocks, NewCase, NewEvent, StepWrite};
use onegrid_store::targets::{self, On};
use onegrid_store::{Conn, Principal, registry::households};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::steps::dispatch_changes;
use crate::cases::views::{CaseView, actor, load_view, view};
use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult, Code, reference};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};
use onegrid_domain::channels::ServiceMode;

/// A task of a decomposed case, or a service of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    pub title: String,
    pub description: String,
    /// Defaults to the parent's category.
    pub category_id: Option<Uuid>,
    pub service_mode: Option<ServiceMode>,
    /// Dispatch the task at once to a staff member …
    pub assignee_user_id: Option<Uuid>,
    /// … or to a department.
    pub department_id: Option<Uuid>,
}

fn check_task(field: &str, t: &TaskBody) -> ApiResult<()> {
    if t.title.trim().is_empty() || t.title.chars().count() > 200 {
        return Err(ApiError::field(
            &format!("{field}title"),
            "1 to 200 characters",
        ));
    }
    if t.description.trim().is_empty() || t.description.chars().count() > 5000 {
        return Err(ApiError::field(
            &format!("{field}description"),
            "1 to 5000 characters",
        ));
    }
    if t.assignee_user_id.is_some() && t.department_id.is_some() {
        return Err(ApiError::field(
            &format!("{field}department_id"),
            "a person or a department, not both",
        ));
    }
    Ok(())
}

/// What a new child inherits and what it brings.
struct Child<'a> {
    parent: &'a Case,
    task: TaskBody,
    category: Category,
}

/// Files one child (a task): accepted at once, dispatched if an assignee is
/// given, each step an event; its clocks follow its category's tier.
async fn file_child(
    st: &AppState,
    c: &mut Conn,
    p: &Principal,
    child: Child<'_>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> ApiResult<Case> {
    let Child {
        parent,
        task,
        category,
    } = child;
    let tier = Tier::parse(&parent.tier).unwrap_or_else(|| category.tier());
    let calendar = setup::calendar(c, parent.district_id).await?;
    let policy = setup::tier_policy(c, parent.district_id, tier).await?;
    let new = NewCase {
        street_id: parent.street_id,
        district_id: parent.district_id,
        community_id: parent.community_id,
        grid_id: parent.grid_id,
        parent_id: Some(parent.id),
        kind: "task",
        channel: parent.channel.clone(),
        category_id: category.id,
        tier: tier.as_str().to_owned(),
        title: task.title,
        description: task.description,
        extra: serde_json::json!({}),
        address: parent.address.clone(),
        location: parent.lon.zip(parent.lat),
        service_mode: task.service_mode.map(|m| m.as_str().to_owned()),
        resident_id: parent.resident_id,
        reporter_name: None,
        reporter_phone: None,
        links: Vec::new(),
    };
    let clocks = Clocks {
        calendar: &calendar,
        policy,
        resolution: category.resolution(),
    };
    let who: Actor = actor(p);
    let mut case = cases::file_case(c, &st.keys, &clocks, new, who, now).await?;
    let mut steps = vec![(Step::Accept, Default::default(), serde_json::Map::new())];
    if task.assignee_user_id.is_some() || task.department_id.is_some() {
        let (changes, data) =
            dispatch_changes(c, &case, task.assignee_user_id, task.department_id, today).await?;
        steps.push((Step::Dispatch, changes, data));
    }
    let milestones = category.milestone_list();
    for (step, changes, data) in steps {
        let before = case.state();
        let after = next(before, step, None).map_err(|e| ApiError::illegal(&e))?;
        let write = StepWrite {
            after,
            changes,
            event: NewEvent {
                step: step.as_str(),
                from: Some(before.status),
                to: after.status,
                actor: who,
                reason: None,
                data: serde_json::Value::Object(data),
                at: now,
            },
            effects: clock_effects(step, after),
            extension_minutes: 0,
            calendar: &calendar,
            milestones: &milestones,
            rating: None,
        };
        let version = case.version;
        case = cases::record_step(c, &case, version, write).await?;
    }
    Ok(case)
}

async fn category_or(
    c: &mut Conn,
    id: Option<Uuid>,
    fallback: Uuid,
    field: &str,
) -> ApiResult<Category> {
    let category = setup::get_category(c, id.unwrap_or(fallback))
        .await
        .map_err(reference(field))?;
    if !category.active {
        return Err(ApiError::field(field, "this category is retired"));
    }
    Ok(category)
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
    let now = state.clock.now();
    let today = state.clock.today();
    let on = On::Case(id);
    state
        .create(
            caller,
            (Action::CaseTriage, on),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let parent = cases::get_case(c, id).await?;
                    if parent.kind == "task" {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "a task is not decomposed further",
                        ));
                    }
                    if !matches!(
                        parent.status(),
                        Status::Accepted | Status::Dispatched | Status::InProgress
                    ) {
                        return Err(ApiError::new(
                            Code::Conflict,
                            format!(
                                "tasks are added to accepted, open cases; this one is {}",
                                parent.status
                            ),
                        ));
                    }
                    let category =
                        category_or(c, body.category_id, parent.category_id, "category_id").await?;
                    let child = Child {
                        parent: &parent,
                        task: body,
                        category,
                    };
                    let task = file_child(&st, c, &p, child, now, today).await?;
                    let (tid, version) = (task.id, task.version);
                    let loaded = load_view(&st, c, task).await?;
                    Created::new(
                        view(loaded, now),
                        format!("/api/v1/cases/{tid}"),
                        Some(version),
                    )
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

/// A bundle of services for one resident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    /// The resident served; the bundle lives in their grid.
    pub resident_id: Uuid,
    pub category_id: Uuid,
    #[schema(example = "独居老人助老服务包")]
    pub title: String,
    pub description: String,
    /// 1 to 10 services, each a task with its own service mode and assignee.
    pub services: Vec<TaskBody>,
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
    if body.title.trim().is_empty() || body.title.chars().count() > 200 {
        return Err(ApiError::field("title", "1 to 200 characters"));
    }
    if body.description.trim().is_empty() || body.description.chars().count() > 5000 {
        return Err(ApiError::field("description", "1 to 5000 characters"));
    }
    if body.services.is_empty() || body.services.len() > 10 {
        return Err(ApiError::field("services", "1 to 10 services"));
    }
    for (i, s) in body.services.iter().enumerate() {
        check_task(&format!("services[{i}]."), s)?;
    }
    let hash = crate::http::request_hash(&body);
    let st = state.clone();
    let now = state.clock.now();
    let today = state.clock.today();
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
                    let category =
                        category_or(c, Some(body.category_id), body.category_id, "category_id")
                            .await?;
                    let grid =
                        onegrid_store::registry::hierarchy::get_grid(c, resident.grid_id).await?;
                    let tier = category.tier();
                    let calendar = setup::calendar(c, p.district_id).await?;
                    let policy = setup::tier_policy(c, p.district_id, tier).await?;
                    let new = NewCase {
                        street_id: grid.street_id,
                        district_id: p.district_id,
                        community_id: grid.community_id,
                        grid_id: grid.id,
                        parent_id: None,
                        kind: "bundle",
                        channel: "face_to_face".into(),
                        category_id: category.id,
                        tier: tier.as_str().to_owned(),
                        title: body.title,
                        description: body.description,
                        extra: serde_json::json!({}),
                        address: None,
                        location: None,
                        service_mode: Some(ServiceMode::Bundled.as_str().to_owned()),
                        resident_id: Some(resident.id),
                        reporter_name: None,
                        reporter_phone: None,
                        links: vec![("resident", resident.id)],
                    };
                    let clocks = Clocks {
                        calendar: &calendar,
                        policy,
                        resolution: category.resolution(),
                    };
                    let who = actor(&p);
                    let bundle = cases::file_case(c, &st.keys, &clocks, new, who, now).await?;
                    let before = bundle.state();
                    let after =
                        next(before, Step::Accept, None).map_err(|e| ApiError::illegal(&e))?;
                    let write = StepWrite {
                        after,
                        changes: Default::default(),
                        event: NewEvent {
                            step: Step::Accept.as_str(),
                            from: Some(before.status),
                            to: after.status,
                            actor: who,
                            reason: None,
                            data: serde_json::json!({"services": body.services.len()}),
                            at: now,
                        },
                        effects: clock_effects(Step::Accept, after),
                        extension_minutes: 0,
                        calendar: &calendar,
                        milestones: &category.milestone_list(),
                        rating: None,
                    };
                    let bundle = cases::record_step(c, &bundle, bundle.version, write).await?;
                    for (i, service) in body.services.into_iter().enumerate() {
                        let field = format!("services[{i}].category_id");
                        let cat = category_or(c, service.category_id, category.id, &field).await?;
                        let child = Child {
                            parent: &bundle,
                            task: service,
                            category: cat,
                        };
                        file_child(&st, c, &p, child, now, today).await?;
                    }
                    let (bid, version) = (bundle.id, bundle.version);
                    let loaded = load_view(&st, c, bundle).await?;
                    Created::new(
                        view(loaded, now),
                        format!("/api/v1/cases/{bid}"),
                        Some(version),
                    )
                })
            },
        )
        .await
}
