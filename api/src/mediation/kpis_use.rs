//! The use case of the mediation figures of a period: per department the
//! report-in record (ranked), per street the whistle rate (ranked), and where
//! settled disputes were settled. It knows no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::mediation::Level;
use onegrid_domain::permissions::{Action, Target};
use onegrid_store::mediation::kpis::{self, DepartmentRow, StreetRow};
use onegrid_store::{Conn, Principal};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;

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

/// The figures of `[from, to)` over `p`'s streets, counted at `now`.
pub async fn figures(
    c: &mut Conn,
    p: &Principal,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> ApiResult<MediationFigures> {
    let deps = kpis::departments(c, from, to, now).await?;
    let mut streets = kpis::streets(c, from, to).await?;
    streets.retain(|s| {
        p.can(
            Action::MediationKpis,
            &Target::street(p.district_id, s.street_id),
        )
    });
    let levels = kpis::settled_levels(c, from, to).await?;
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
    Ok(MediationFigures {
        from,
        to,
        departments: rank_departments(deps),
        streets: rank_streets(streets),
        settled_at,
    })
}

/// Departments by on-time rate, then faster average report-in, then code.
fn rank_departments(deps: Vec<DepartmentRow>) -> Vec<DepartmentFigures> {
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
    departments
}

/// Streets by whistle rate (lowest first), then whistles, then name.
fn rank_streets(streets: Vec<StreetRow>) -> Vec<StreetFigures> {
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
    streets
}
