//! The case KPIs for any scope and period: response, resolution and
//! satisfaction rates (三率), on-time closure, return and rework rates, per
//! street, community, grid, department or worker.

use crate::http::input::Query;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use onegrid_domain::clock::CHINA;
use onegrid_domain::permissions::Action;
use onegrid_store::cases::kpis::{self, GroupBy, KpiCounts, KpiQuery};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cases::work_lists::read_reach;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiGroup {
    /// One row for the whole scope.
    #[default]
    All,
    Street,
    Community,
    Grid,
    Department,
    Worker,
}

/// A KPI question.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    /// First day (China time) of the period, inclusive.
    pub from: NaiveDate,
    /// Last day of the period, inclusive (at most 366 days after `from`).
    pub to: NaiveDate,
    pub group_by: Option<KpiGroup>,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// The KPIs of one group, with the counts they come from.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiRow {
    /// The street, community, grid, department or worker id; null for `all`
    /// (or cases routed to no department / assigned to nobody).
    pub key: Option<String>,
    pub filed: i64,
    /// responded on time ÷ cases whose first-response clock is decided.
    pub response_rate: Option<f64>,
    /// resolved or closed ÷ accepted (not rejected).
    pub resolution_rate: Option<f64>,
    /// rated 10 or 8 ÷ rated (unrated 7 days after resolution counts as the configured score).
    pub satisfaction_rate: Option<f64>,
    pub mean_score: Option<f64>,
    /// closed on time ÷ (due − deferred).
    pub on_time_rate: Option<f64>,
    /// returned (退回) at least once ÷ dispatched.
    pub return_rate: Option<f64>,
    /// reopened for rework ÷ resolved at least once.
    pub rework_rate: Option<f64>,
    pub accepted: i64,
    pub response_decided: i64,
    pub responded_on_time: i64,
    pub resolved: i64,
    pub due: i64,
    pub deferred: i64,
    pub closed_on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub dispatched: i64,
    pub returned: i64,
    pub ever_resolved: i64,
    pub reworked: i64,
}

#[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn row(c: KpiCounts) -> KpiRow {
    KpiRow {
        key: c.key,
        filed: c.filed,
        response_rate: ratio(c.responded_on_time, c.response_decided),
        resolution_rate: ratio(c.resolved, c.accepted),
        satisfaction_rate: ratio(c.satisfied, c.rated),
        mean_score: ratio(c.score_sum, c.rated),
        on_time_rate: ratio(c.closed_on_time, c.due - c.deferred),
        return_rate: ratio(c.returned, c.dispatched),
        rework_rate: ratio(c.reworked, c.ever_resolved),
        accepted: c.accepted,
        response_decided: c.response_decided,
        responded_on_time: c.responded_on_time,
        resolved: c.resolved,
        due: c.due,
        deferred: c.deferred,
        closed_on_time: c.closed_on_time,
        rated: c.rated,
        satisfied: c.satisfied,
        dispatched: c.dispatched,
        returned: c.returned,
        ever_resolved: c.ever_resolved,
        reworked: c.reworked,
    }
}

/// The KPIs of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: KpiGroup,
    /// The score unrated cases count as.
    pub unrated_score: i16,
    pub rows: Vec<KpiRow>,
}

/// The instants a period of China dates runs between: `to` on or after
/// `from`, at most 366 days later, both inclusive.
fn period(from: NaiveDate, to: NaiveDate) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "to is on or after from, at most 366 days later",
        ));
    }
    let start = |d: NaiveDate| {
        CHINA
            .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .single()
            .map(|t| t.to_utc())
            .ok_or_else(|| ApiError::new(Code::InvalidParameter, "bad date"))
    };
    Ok((start(from)?, start(to)? + Duration::days(1)))
}

impl From<KpiGroup> for GroupBy {
    fn from(group: KpiGroup) -> GroupBy {
        match group {
            KpiGroup::All => GroupBy::All,
            KpiGroup::Street => GroupBy::Street,
            KpiGroup::Community => GroupBy::Community,
            KpiGroup::Grid => GroupBy::Grid,
            KpiGroup::Department => GroupBy::Department,
            KpiGroup::Worker => GroupBy::Worker,
        }
    }
}

/// Read case KPIs
///
/// For the cases filed in a period (China dates, inclusive) that the caller
/// may read: response rate, resolution rate, satisfaction, on-time closure
/// rate (closed on time ÷ (due − deferred)), return rate and rework rate,
/// grouped by street, community, grid, department or worker, each with the
/// counts it is computed from. Decomposed tasks are not counted.
#[utoipa::path(tag = "cases", params(KpiParams), responses((status = 200, body = KpiReport)))]
#[get("/case-kpis")]
pub async fn get_kpis(
    state: Data<AppState>,
    caller: Caller,
    q: Query<KpiParams>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let (from, to) = period(q.from, q.to)?;
    let group = q.group_by.unwrap_or_default();
    let group_by = GroupBy::from(group);
    let now = state.clock.now();
    let unrated_score = state.config.unrated_score;
    let rows = state
        .checked(caller, Action::CaseRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let query = KpiQuery {
                    from,
                    to,
                    reach: read_reach(&p),
                    street_id: q.street_id,
                    community_id: q.community_id,
                    grid_id: q.grid_id,
                    department_id: q.department_id,
                    group_by,
                    unrated_score,
                    now,
                };
                Ok(kpis::kpis(c, &query).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(KpiReport {
        from: q.from,
        to: q.to,
        group_by: group,
        unrated_score,
        rows: rows.into_iter().map(row).collect(),
    }))
}
