//! Operations: liveness, readiness, metrics, and the error catalogue.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code};
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
/// the API unready: without it the platform works, only less shared.
#[utoipa::path(tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    let (pg, redis) = tokio::join!(state.db.ping(), state.cache.ping());
    let body = Readiness {
        status: if pg.is_ok() { "ready" } else { "unready" },
        postgres: if pg.is_ok() { "up" } else { "down" },
        redis: if redis.is_ok() { "up" } else { "down" },
    };
    if pg.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Metrics
///
/// Prometheus text exposition: request counts and latencies by route, pool state.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    let (size, available) = state.db.status();
    crate::metrics::record_pool(size, available);
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
