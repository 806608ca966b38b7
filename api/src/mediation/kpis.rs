//! The mediation figures and rankings of a period.

use crate::http::input::Query;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::Level;
use onegrid_domain::permissions::{Action, Target};
use onegrid_store::mediation::kpis;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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

/// A department's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentFigures {
    /// 1 = best on-time rate (ties: faster average report-in).
    pub rank: usize,
    pub department_id: Uuid,
    pub code: String,
    pub name: String,
    pub summoned: i64,
    pub on_time: i64,
    pub late: i64,
    /// Deadline passed, never reported in.
    pub missed: i64,
    /// on_time ÷ summonses whose deadline has passed or that were reported.
    pub on_time_rate: Option<f64>,
    pub avg_report_minutes: Option<f64>,
    pub avg_rating: Option<f64>,
    pub rated: i64,
}

/// A street's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetFigures {
    /// 1 = lowest whistle rate.
    pub rank: usize,
    pub street_id: Uuid,
    pub name: String,
    pub disputes: i64,
    pub whistles: i64,
    /// whistles ÷ disputes recorded in the period.
    pub whistle_rate: Option<f64>,
}

/// Where settled disputes were settled.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelShare {
    pub level: String,
    pub settled: i64,
    pub share: Option<f64>,
}

/// The mediation figures of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediationFigures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub departments: Vec<DepartmentFigures>,
    pub streets: Vec<StreetFigures>,
    /// grid, community, street and centre, in that order.
    pub settled_at: Vec<LevelShare>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    (b > 0).then(|| ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0)
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
    let (from, to) = (q.from, q.to);
    let (deps, streets, levels) = state
        .checked(
            caller,
            Action::MediationKpis,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move {
                    let deps = kpis::departments(c, from, to, now).await?;
                    let mut streets = kpis::streets(c, from, to).await?;
                    streets.retain(|s| {
                        p.can(
                            Action::MediationKpis,
                            &Target::street(p.district_id, s.street_id),
                        )
                    });
                    let levels = kpis::settled_levels(c, from, to).await?;
                    Ok((deps, streets, levels))
                })
            },
        )
        .await?;
    let mut departments: Vec<DepartmentFigures> = deps
        .into_iter()
        .map(|d| DepartmentFigures {
            rank: 0,
            on_time_rate: ratio(d.on_time, d.due),
            department_id: d.department_id,
            code: d.code,
            name: d.name,
            summoned: d.summoned,
            on_time: d.on_time,
            late: d.late,
            missed: d.missed,
            avg_report_minutes: d.avg_report_minutes,
            avg_rating: d.avg_rating,
            rated: d.rated,
        })
        .collect();
    departments.sort_by(|a, b| {
        b.on_time_rate
            .unwrap_or(-1.0)
            .total_cmp(&a.on_time_rate.unwrap_or(-1.0))
            .then(
                a.avg_report_minutes
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.avg_report_minutes.unwrap_or(f64::MAX)),
            )
            .then(a.code.cmp(&b.code))
    });
    for (i, d) in departments.iter_mut().enumerate() {
        d.rank = i + 1;
    }
    let mut streets: Vec<StreetFigures> = streets
        .into_iter()
        .map(|s| StreetFigures {
            rank: 0,
            whistle_rate: ratio(s.whistles, s.disputes),
            street_id: s.street_id,
            name: s.name,
            disputes: s.disputes,
            whistles: s.whistles,
        })
        .collect();
    streets.sort_by(|a, b| {
        a.whistle_rate
            .unwrap_or(0.0)
            .total_cmp(&b.whistle_rate.unwrap_or(0.0))
            .then(a.whistles.cmp(&b.whistles))
            .then(a.name.cmp(&b.name))
    });
    for (i, s) in streets.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    let total: i64 = levels.iter().map(|l| l.settled).sum();
    let settled_at = Level::ALL
        .into_iter()
        .map(|level| {
            let settled = levels
                .iter()
                .find(|l| l.level == level.as_str())
                .map_or(0, |l| l.settled);
            LevelShare {
                level: level.as_str().into(),
                settled,
                share: ratio(settled, total),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(MediationFigures {
        from,
        to,
        departments,
        streets,
        settled_at,
    }))
}
