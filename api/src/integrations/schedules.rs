//! The district's recurring work as its admin sees it: each schedule's rule
//! (China time, with its holiday and misfire policies), when it fires next,
//! its fire history, and a change of rule, policy or on/off under If-Match.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_domain::recurrence::{FireOutcome, Misfire, Recurrence};
use onegrid_domain::text::Name;
use onegrid_store::integrations::schedules::{self, Fire, Schedule, ScheduleChange};
use onegrid_store::targets::On;
use onegrid_store::{Conn, StoreError, cases::setup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IfMatch, PageQuery, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A schedule of recurring work.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub id: Uuid,
    /// The duty, e.g. `ledger.stale_digest`.
    pub key: String,
    /// The job kind each fire queues.
    pub kind: String,
    pub name: String,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub rule: Recurrence,
    /// What a worker does about fires missed while none ran: `run_once` or `skip`.
    pub misfire: Misfire,
    pub enabled: bool,
    /// The schedule acts this long before each instant its rule names
    /// (e.g. a meeting's agenda compiled days ahead).
    pub lead_minutes: i32,
    /// The next instant the rule names; absent until a worker has planned it.
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_fire_for: Option<DateTime<Utc>>,
    pub last_fired_at: Option<DateTime<Utc>>,
    pub fires: i64,
    pub misfires: i64,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn view(s: Schedule) -> ApiResult<ScheduleView> {
    let rule = s.recurrence()?;
    let misfire = schedules::parse_misfire(&s.misfire)
        .ok_or_else(|| StoreError::Check(format!("schedule {} misfire", s.id)))?;
    Ok(ScheduleView {
        id: s.id,
        key: s.key,
        kind: s.kind,
        name: s.name,
        street_id: s.street_id,
        community_id: s.community_id,
        rule,
        misfire,
        enabled: s.enabled,
        lead_minutes: s.lead_minutes,
        next_run_at: s.next_run_at,
        last_fire_for: s.last_fire_for,
        last_fired_at: s.last_fired_at,
        fires: s.fires,
        misfires: s.misfires,
        version: s.version,
        updated_at: s.updated_at,
    })
}

/// A fire of a schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct FireView {
    /// The instant the rule named.
    pub fire_for: DateTime<Utc>,
    /// When a worker acted on it.
    pub fired_at: DateTime<Utc>,
    /// How the instant was acted on: on time, late (a misfire run once) or
    /// skipped (a misfire not run).
    pub outcome: FireOutcome,
    /// The job the fire queued (see `GET /jobs/{job_id}`).
    pub job_id: Option<Uuid>,
}

fn fire_view(f: Fire) -> FireView {
    FireView {
        fire_for: f.fire_for,
        fired_at: f.fired_at,
        outcome: f.outcome,
        job_id: f.job_id,
    }
}

/// List the district's schedules
///
/// Every recurring duty of the district (built-in ones are created by the
/// worker), with its next and last fire.
#[utoipa::path(tag = "operations", params(PageQuery), responses((status = 200, body = Paged<ScheduleView>)))]
#[get("/schedules")]
pub async fn list_schedules(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .proven(caller, Action::SchedulesManage, On::District, move |c| {
            Box::pin(async move { schedules::list(c, &page).await })
        })
        .await?;
    let items = rows
        .items
        .into_iter()
        .map(view)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Paged::from_page(
        onegrid_store::page::Page {
            items,
            next_after: rows.next_after,
        },
        |v| v,
    )))
}

/// Read a schedule
///
/// Its rule, policies, next and last fire and its counts of fires and
/// misfires; the ETag is the version to send in If-Match.
#[utoipa::path(tag = "operations", params(("schedule_id" = Uuid, Path, description = "Schedule id")), responses((status = 200, body = ScheduleView)))]
#[get("/schedules/{schedule_id}")]
pub async fn get_schedule(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .load_checked(caller, Action::SchedulesManage, move |c| {
            Box::pin(schedules::get(c, id))
        })
        .await?;
    let version = row.version;
    Ok(ok_with_etag(&view(row)?, version))
}

/// What to change on a schedule; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    pub name: Option<Name<100>>,
    pub rule: Option<Recurrence>,
    pub misfire: Option<Misfire>,
    pub enabled: Option<bool>,
}

/// Change a schedule
///
/// Under If-Match. The next fire is planned again from the rule (as of now,
/// on the district's calendar); a fire already queued still runs.
#[utoipa::path(tag = "operations", params(("schedule_id" = Uuid, Path, description = "Schedule id")), request_body = ScheduleBody, responses((status = 200, body = ScheduleView)))]
#[patch("/schedules/{schedule_id}")]
pub async fn change_schedule(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<ScheduleBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    if let Some(rule) = &body.rule {
        rule.check()
            .map_err(|e| ApiError::field("rule", e.to_string()))?;
    }
    let now = state.clock.now();
    let change = ScheduleChange {
        name: body.name.map(String::from),
        rule: body.rule,
        misfire: body.misfire,
        enabled: body.enabled,
        lead_minutes: None,
    };
    let row = state
        .on_row(
            caller,
            Action::SchedulesManage,
            move |c| Box::pin(schedules::get(c, id)),
            move |c, _, current| {
                Box::pin(async move {
                    let read = (current, if_match.version()?);
                    apply(c, read, change, now).await
                })
            },
        )
        .await?;
    let version = row.version;
    Ok(ok_with_etag(&view(row)?, version))
}

/// Changes `current`, read at `version`, and plans its next fire again
/// from its rule as of `now` on the district's calendar.
async fn apply(
    c: &mut Conn,
    (current, version): (Schedule, i32),
    change: ScheduleChange,
    now: DateTime<Utc>,
) -> ApiResult<Schedule> {
    let cal = setup::calendar(c, current.district_id).await?;
    match schedules::change(c, &current, version, change, &cal, now).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(StoreError::VersionMismatch {
            current: current.version,
        }
        .into()),
        Err(StoreError::Check(msg)) => Err(ApiError::new(Code::InvalidParameter, msg)),
        Err(e) => Err(e.into()),
    }
}

/// A schedule's fire history
///
/// Newest first: every instant the rule named, when it fired and whether it
/// was on time, late or skipped.
#[utoipa::path(tag = "operations", params(("schedule_id" = Uuid, Path, description = "Schedule id"), PageQuery), responses((status = 200, body = Paged<FireView>)))]
#[get("/schedules/{schedule_id}/fires")]
pub async fn schedule_fires(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = state
        .on_row(
            caller,
            Action::SchedulesManage,
            move |c| Box::pin(schedules::get(c, id)),
            move |c, _, row| Box::pin(async move { Ok(schedules::fires(c, row.id, &page).await?) }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, fire_view)))
}
