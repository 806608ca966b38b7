//! Operations: liveness, readiness, metrics, and the error catalogue.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

/// Readiness of the process and its dependencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when PostgreSQL answers (Redis is optional).
    pub status: &'static str,
    /// `up` or `down`.
    pub postgres: &'static str,
    /// `up` or `down` (the platform keeps working without Redis).
    pub redis: &'static str,
    /// Whether every district's working calendar covers next year. A gap
    /// does not make the API unready.
    pub calendar: CalendarReadiness,
}

/// Next year's working calendar, as readiness sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarReadiness {
    /// The year after today's (China time).
    pub next_year: i32,
    /// Whether it should be loaded by now (from 1 December).
    pub due: bool,
    /// Codes of the districts whose calendar lists no day of `next_year`
    /// (checked once it is due; empty before, or when PostgreSQL is down).
    pub missing_districts: Vec<String>,
}

/// Next year's calendar across districts; sets the
/// `onegrid_calendar_next_year_missing_districts` gauge.
async fn calendar_readiness(state: &AppState) -> CalendarReadiness {
    use chrono::Datelike;
    let today = state.clock.today();
    let due = onegrid_domain::calendar::next_year_due(today);
    let next_year = today.year() + 1;
    let missing_districts = match due {
        Some(year) => state
            .db
            .acting::<_, onegrid_store::StoreError, _>(onegrid_store::Acting::Nobody, move |c| {
                Box::pin(async move {
                    onegrid_store::cases::calendar_years::districts_missing(c, year).await
                })
            })
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    crate::metrics::record_calendar_gaps(missing_districts.len());
    CalendarReadiness {
        next_year,
        due: due.is_some(),
        missing_districts,
    }
}

/// An entry of the error catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemType {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
}

/// Liveness
///
/// 200 while the process runs.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = String)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness
///
/// 200 when PostgreSQL answers, else 503. Redis is reported but does not make
/// the API unready: without it the platform works, only less shared. From 1
/// December `calendar` lists the districts whose working calendar lacks next
/// year (still ready: their working-day clocks then follow Monday to Friday).
#[utoipa::path(tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    let (pg, redis) = tokio::join!(state.db.ping(), state.cache.ping());
    let calendar = calendar_readiness(&state).await;
    let body = Readiness {
        status: if pg.is_ok() { "ready" } else { "unready" },
        postgres: if pg.is_ok() { "up" } else { "down" },
        redis: if redis.is_ok() { "up" } else { "down" },
        calendar,
    };
    if pg.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Metrics
///
/// Prometheus text exposition: request counts and latencies by route, pool
/// state and the statements the pool has sent.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    let (size, available) = state.db.status();
    crate::metrics::record_pool(size, available, state.db.statements());
    calendar_readiness(&state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// Error catalogue
///
/// Every stable error code with its HTTP status and title.
#[utoipa::path(tag = "operations", responses((status = 200, body = Vec<ProblemType>)))]
#[get("/problems")]
pub async fn problems() -> HttpResponse {
    HttpResponse::Ok().json(
        Code::ALL
            .iter()
            .map(|c| ProblemType {
                code: c.as_str(),
                status: c.status_u16(),
                title: c.title(),
            })
            .collect::<Vec<_>>(),
    )
}

/// Error type
///
/// One entry of the error catalogue: what a problem `type` URI points at.
#[utoipa::path(tag = "operations", params(("code" = String, Path, description = "Error code")), responses((status = 200, body = ProblemType)))]
#[get("/problems/{code}")]
pub async fn problem(code: Path<String>) -> ApiResult<HttpResponse> {
    let c = Code::ALL
        .iter()
        .find(|c| c.as_str() == code.as_str())
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such error code"))?;
    Ok(HttpResponse::Ok().json(ProblemType {
        code: c.as_str(),
        status: c.status_u16(),
        title: c.title(),
    }))
}
