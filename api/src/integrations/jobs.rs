//! The worker's jobs as a district admin sees them: what waits, runs, ran and
//! failed for good, and a replay for the failed.

use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::jobs::JobState;
use onegrid_domain::permissions::Action;
use onegrid_store::integrations::jobs::{self, Job, JobFilter};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::Paged;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A job of the worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub queue: String,
    pub kind: String,
    pub state: JobState,
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub street_id: Option<Uuid>,
    /// Ids only (never personal data).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn view(j: Job) -> JobView {
    JobView {
        id: j.id,
        queue: j.queue,
        kind: j.kind,
        state: j.state,
        attempt: j.attempt,
        max_attempts: j.max_attempts,
        run_at: j.run_at,
        street_id: j.street_id,
        payload: j.payload,
        last_error: j.last_error,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
    }
}

/// Filters of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub queue: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(JobQuery);

/// List the worker's jobs
///
/// The district's jobs, newest first; `state=failed` lists those that ran
/// out of attempts, with their last error.
#[utoipa::path(tag = "operations", params(JobQuery), responses((status = 200, body = Paged<JobView>)))]
#[get("/jobs")]
pub async fn list_jobs(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<JobQuery>,
) -> ApiResult<HttpResponse> {
    let filter = JobFilter {
        state: q.state,
        queue: q.queue,
    };
    let rows = state
        .proven(caller, Action::JobsManage, On::District, move |c| {
            Box::pin(async move { jobs::list(c, &filter, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, view)))
}

/// Read a job
///
/// One job with its attempts and last error.
#[utoipa::path(tag = "operations", params(("job_id" = Uuid, Path, description = "Job id")), responses((status = 200, body = JobView)))]
#[get("/jobs/{job_id}")]
pub async fn get_job(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let job = state
        .load_checked(caller, Action::JobsManage, move |c| {
            Box::pin(jobs::get(c, id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(job)))
}

/// Replay a failed job
///
/// Puts a job that failed for good (or was discarded) back in its queue with
/// fresh attempts; its effects still happen at most once. 409 for a job in any
/// other state.
#[utoipa::path(tag = "operations", params(("job_id" = Uuid, Path, description = "Job id")), responses((status = 200, body = JobView)))]
#[post("/jobs/{job_id}/replay")]
pub async fn replay_job(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let job = state
        .on_row(
            caller,
            Action::JobsManage,
            move |c| Box::pin(jobs::get(c, id)),
            move |c, _, job| {
                Box::pin(async move {
                    if !jobs::replay(c, job.id, now).await? {
                        return Err(ApiError::new(
                            Code::Conflict,
                            format!(
                                "only failed or discarded jobs are replayed; this one is {}",
                                job.state
                            ),
                        ));
                    }
                    Ok(jobs::get(c, id).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view(job)))
}
