//! The grid worker's daily patrol log (网格日巡记录本): open the day's log in
//! one's grid (check-in, check-out, GPS track, notes), record household
//! visits and findings (location, photos), turn a finding into a case in one
//! call (linked both ways), read one's history; chiefs and admins read the
//! logs and the coverage of a community.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::NaiveDate;
use onegrid_domain::permissions::{Action, area};
use onegrid_store::fieldwork::patrols::{self};
use onegrid_store::targets::On;
use onegrid_store::{Conn, Principal};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::patrol_views::{LogView, log_view, log_views};
use super::patrols_use::{self, LogBody, fields};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Open the day's patrol log
///
/// One log per worker and day (409 for a second), in a grid the worker
/// keeps, with check-in/out times, a GPS track and notes as they come.
#[utoipa::path(tag = "patrols", request_body = LogBody, responses((status = 201, body = LogView)))]
#[post("/patrol-logs")]
pub async fn open_log(
    state: Data<AppState>,
    caller: Caller,
    body: Json<LogBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (grid_id, day) = patrols_use::check_opening(&body, state.clock.today())?;
    let now = state.clock.now();
    let view = state
        .checked(
            caller,
            Action::PatrolKeep,
            On::Grid(grid_id).named("grid_id"),
            move |c, p, at| {
                Box::pin(async move {
                    let opened = (day, fields(body));
                    let log = patrols_use::open_log(c, &p, (&at, grid_id), opened, now).await?;
                    log_view(c, log).await
                })
            },
        )
        .await?;
    let location = format!("/api/v1/patrol-logs/{}", view.id);
    Ok(crate::http::created_with_etag(
        location,
        &view,
        view.version,
    ))
}

/// Change a patrol log
///
/// The keeper only, under If-Match: check-in/out, track, notes.
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), request_body = LogBody, responses((status = 200, body = LogView)))]
#[patch("/patrol-logs/{patrol_log_id}")]
pub async fn change_log(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<LogBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    patrols_use::check_change(&body)?;
    let now = state.clock.now();
    let view = state
        .on_row(
            caller,
            Action::PatrolKeep,
            move |c| Box::pin(patrols::get(c, id)),
            move |c, p, log| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    let changed =
                        patrols_use::change_log(c, &p, (&log, version), body, now).await?;
                    log_view(c, changed).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Read a patrol log
///
/// With its visits and findings (and their photos).
#[utoipa::path(tag = "patrols", params(("patrol_log_id" = Uuid, Path, description = "Log id")), responses((status = 200, body = LogView)))]
#[get("/patrol-logs/{patrol_log_id}")]
pub async fn get_log(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // One's own log is one's own; another's needs patrol.read on its grid.
    let mine = state
        .as_self(caller.clone(), move |c, p| {
            Box::pin(async move {
                let log = patrols::get(c, id).await?;
                if log.worker_id == p.accountable_user() {
                    Ok(Some(log_view(c, log).await?))
                } else {
                    Ok(None)
                }
            })
        })
        .await?;
    let view = match mine {
        Some(view) => view,
        None => {
            state
                .on_row(
                    caller,
                    Action::PatrolRead,
                    move |c| Box::pin(patrols::get(c, id)),
                    move |c, _, log| Box::pin(log_view(c, log)),
                )
                .await?
        }
    };
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Filters of the log list.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Default: the caller's own logs.
    pub worker_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Whether a list asks for logs other than the caller's own.
fn someone_else(q: &LogQuery, p: &Principal) -> bool {
    q.worker_id.is_some_and(|w| w != p.accountable_user())
        || q.grid_id.is_some()
        || q.community_id.is_some()
}

/// The logs a list asks for: the caller's own, or those of the area where
/// they read patrol logs.
async fn list(c: &mut Conn, p: &Principal, q: LogQuery, limit: i64) -> ApiResult<Vec<LogView>> {
    let me = p.accountable_user();
    let filter = patrols::Filter {
        me,
        area: area(&p.grants, Action::PatrolRead),
        worker_id: if someone_else(&q, p) {
            q.worker_id
        } else {
            Some(me)
        },
        grid_id: q.grid_id,
        community_id: q.community_id,
        from: q.from,
        to: q.to,
    };
    let logs = patrols::list(c, &filter, limit).await?;
    log_views(c, logs).await
}

/// List patrol logs
///
/// One's own history by default; chiefs and admins filter by worker, grid
/// or community. Newest day first, with visits and findings.
#[utoipa::path(tag = "patrols", params(LogQuery), responses((status = 200, body = Vec<LogView>)))]
#[get("/patrol-logs")]
pub async fn list_logs(
    state: Data<AppState>,
    caller: Caller,
    q: Query<LogQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(31);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "limit must be between 1 and 200",
        ));
    }
    // One's own history is one's own; anyone else's needs patrol.read.
    let mine = state
        .as_self(caller.clone(), move |c, p| {
            Box::pin(async move {
                if someone_else(&q, &p) {
                    return Ok(None);
                }
                Ok(Some(list(c, &p, q, limit).await?))
            })
        })
        .await?;
    let views = match mine {
        Some(views) => views,
        None => {
            state
                .checked(caller, Action::PatrolRead, On::Anywhere, move |c, p, _| {
                    Box::pin(async move { list(c, &p, q, limit).await })
                })
                .await?
        }
    };
    Ok(HttpResponse::Ok().json(views))
}
