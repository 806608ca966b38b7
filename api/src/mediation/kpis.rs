//! The mediation figures and rankings of a period (counted and ranked in
//! [`kpis_use`](super::kpis_use)).

use crate::http::input::Query;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::targets::On;
use serde::Deserialize;
use utoipa::IntoParams;

use super::kpis_use::{self, MediationFigures};

use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// The period of the figures.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive); at most 366 days after `from`.
    pub to: DateTime<Utc>,
}

/// Mediation figures and rankings
///
/// For a period and the caller's streets: per department the on-time
/// report-in rate, average report-in time and the streets' ratings (ranked);
/// per street disputes, whistles and the whistle rate (ranked); the share of
/// settled disputes settled at each level.
#[utoipa::path(tag = "mediation", params(KpiQuery), responses((status = 200, body = MediationFigures)))]
#[get("/mediation-kpis")]
pub async fn get_mediation_kpis(
    state: Data<AppState>,
    caller: Caller,
    q: Query<KpiQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.to <= q.from || q.to - q.from > chrono::Duration::days(366) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "to is after from, at most 366 days later",
        ));
    }
    let now = state.clock.now();
    let period = (q.from, q.to);
    let figures = state
        .checked(
            caller,
            Action::MediationKpis,
            On::Anywhere,
            move |c, p, _| Box::pin(async move { kpis_use::figures(c, &p, period, now).await }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
