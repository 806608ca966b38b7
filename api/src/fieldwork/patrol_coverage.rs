//! Patrol coverage: the households each worker visited in a period.

use crate::http::input::Query;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::NaiveDate;
use onegrid_domain::permissions::Action;
use onegrid_store::targets::On;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::patrols_use;
use crate::fieldwork::patrols_use::WorkerCoverage;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// The period of a coverage report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    pub community_id: Uuid,
    pub from: NaiveDate,
    /// At most 92 days after `from`.
    pub to: NaiveDate,
}

/// Patrol coverage of a community
///
/// For each full-time grid worker of the community in the period: logs,
/// visits, distinct households visited, findings, and the working days with
/// no log.
#[utoipa::path(tag = "patrols", params(CoverageQuery), responses((status = 200, body = Vec<WorkerCoverage>)))]
#[get("/patrol-coverage")]
pub async fn coverage(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.to < q.from || (q.to - q.from).num_days() > 92 {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "to is on or after from, at most 92 days later",
        ));
    }
    let today = state.clock.today();
    let rows = state
        .checked(
            caller,
            Action::PatrolRead,
            On::Community(q.community_id),
            move |c, p, _| {
                Box::pin(async move {
                    let period = (q.from, q.to);
                    patrols_use::coverage(c, &p, q.community_id, period, today).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
