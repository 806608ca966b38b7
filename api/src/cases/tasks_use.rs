//! The use cases of 研判分解 and 打包: a task added to an open case, and a
//! bundle of services filed for one resident, each child accepted at once
//! and dispatched if it names an assignee. They know no HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::cases::{Kind, Status, Step, clock_effects, next};
use onegrid_domain::channels::Channel;
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::text::Text;
use onegrid_store::cases::setup::{self, Category};
use onegrid_store::cases::{self, Actor, Case, Clocks, NewCase, NewEvent, StepWrite};
use onegrid_store::crypto::FieldKeys;
use onegrid_store::registry::{hierarchy, households::Resident};
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::service::actor;
use super::steps_use::dispatch_changes;
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// A bundle of services for one resident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    /// The resident served; the bundle lives in their grid.
    pub resident_id: Uuid,
    pub category_id: Uuid,
    #[schema(example = "独居老人助老服务包")]
    pub title: Text<200>,
    pub description: Text<5000>,
    /// 1 to 10 services, each a task with its own service mode and assignee.
    #[schema(min_items = 1, max_items = 10)]
    pub services: Vec<TaskBody>,
}

/// A task of a decomposed case, or a service of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    pub title: Text<200>,
    pub description: Text<5000>,
    /// Defaults to the parent's category.
    pub category_id: Option<Uuid>,
    pub service_mode: Option<ServiceMode>,
    /// Dispatch the task at once to a staff member …
    pub assignee_user_id: Option<Uuid>,
    /// … or to a department.
    pub department_id: Option<Uuid>,
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
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    child: Child<'_>,
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<Case> {
    let Child {
        parent,
        task,
        category,
    } = child;
    let tier = parent.tier;
    let calendar = setup::calendar(c, parent.district_id).await?;
    let policy = setup::tier_policy(c, parent.district_id, tier).await?;
    let new = NewCase {
        street_id: parent.street_id,
        district_id: parent.district_id,
        community_id: parent.community_id,
        grid_id: parent.grid_id,
        parent_id: Some(parent.id),
        kind: Kind::Task,
        channel: parent.channel,
        category_id: category.id,
        tier,
        title: task.title.into_inner(),
        description: task.description.into_inner(),
        extra: serde_json::json!({}),
        address: parent.address.clone(),
        location: parent.lon.zip(parent.lat),
        service_mode: task.service_mode,
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
    let mut case = cases::file_case(c, keys, &clocks, new, who, now).await?;
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

/// Adds `task` to `parent`, an accepted, open case (not itself a task), in
/// the task's category or else the parent's; returns the task.
pub async fn add_task(
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    (parent, task): (Case, TaskBody),
    at: (DateTime<Utc>, NaiveDate),
) -> ApiResult<Case> {
    if parent.kind == Kind::Task {
        return Err(ApiError::new(
            Code::Conflict,
            "a task is not decomposed further",
        ));
    }
    if !matches!(
        parent.status,
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
    let category = category_or(c, task.category_id, parent.category_id, "category_id").await?;
    let child = Child {
        parent: &parent,
        task,
        category,
    };
    file_child(keys, c, p, child, at).await
}

/// Files `body`'s bundle for `resident`, in their grid (where the caller's
/// filing and triage are already proven): one accepted parent with service
/// mode `bundled` and one task per service; returns the parent.
pub async fn file_bundle(
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    (resident, body): (&Resident, BundleBody),
    (now, today): (DateTime<Utc>, NaiveDate),
) -> ApiResult<Case> {
    let category = category_or(c, Some(body.category_id), body.category_id, "category_id").await?;
    let grid = hierarchy::get_grid(c, resident.grid_id).await?;
    let tier = category.tier();
    let calendar = setup::calendar(c, p.district_id).await?;
    let policy = setup::tier_policy(c, p.district_id, tier).await?;
    let new = NewCase {
        street_id: grid.street_id,
        district_id: p.district_id,
        community_id: grid.community_id,
        grid_id: grid.id,
        parent_id: None,
        kind: Kind::Bundle,
        channel: Channel::FaceToFace,
        category_id: category.id,
        tier,
        title: body.title.into_inner(),
        description: body.description.into_inner(),
        extra: serde_json::json!({}),
        address: None,
        location: None,
        service_mode: Some(ServiceMode::Bundled),
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
    let who = actor(p);
    let bundle = cases::file_case(c, keys, &clocks, new, who, now).await?;
    let before = bundle.state();
    let after = next(before, Step::Accept, None).map_err(|e| ApiError::illegal(&e))?;
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
        file_child(keys, c, p, child, (now, today)).await?;
    }
    Ok(bundle)
}
