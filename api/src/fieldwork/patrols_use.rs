//! The use cases of the daily patrol (网格日巡): the day's log opened in a
//! grid, a household of the log's grid visited, a finding filed as a case
//! and linked both ways, the coverage of a community's workers. They know no
//! HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::channels::Channel;
use onegrid_domain::channels::ServiceMode;
use onegrid_domain::geo::Point;
use onegrid_domain::permissions::Target;
use onegrid_domain::text::Text;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::fieldwork::patrols::{
    self, CoverageRow, Finding, Log, LogFields, NewVisit, Visit,
};
use onegrid_store::registry::households;
use onegrid_store::{Conn, Principal, StoreError, ViolationKind, cases::setup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::service::{self, Filing};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};

/// One full-time worker's patrol coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerCoverage {
    pub worker_id: Uuid,
    pub display_name: String,
    pub grid_id: Uuid,
    pub logs: i64,
    pub visits: i64,
    pub households_visited: i64,
    pub findings: i64,
    /// Working days of the period (the district's calendar, up to today) with no log.
    pub missing_days: Vec<NaiveDate>,
}

/// The case a finding becomes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingCaseBody {
    pub category_id: Uuid,
    /// Defaults to the start of the finding's description.
    pub title: Option<Text<200>>,
    /// The category's extra fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A household visit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    pub household_id: Uuid,
    /// e.g. 走访慰问, 政策宣传.
    pub purpose: Text<200>,
    pub service_mode: Option<ServiceMode>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    pub next_visit_on: Option<NaiveDate>,
}

/// The fields of a log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    /// Open the day's log in this grid (required when opening).
    pub grid_id: Option<Uuid>,
    /// China date; defaults to today.
    pub day: Option<NaiveDate>,
    pub check_in_at: Option<DateTime<Utc>>,
    pub check_out_at: Option<DateTime<Utc>>,
    /// A GeoJSON LineString of the route walked.
    #[schema(value_type = Option<Object>)]
    pub track: Option<serde_json::Value>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

fn check_fields(b: &LogBody, errors: &mut Vec<FieldError>) {
    if let Some(t) = &b.track
        && let Err(m) = onegrid_domain::geo::check_track(t)
    {
        errors.push(FieldError {
            field: "track".into(),
            message: m.into(),
        });
    }
    if let (Some(i), Some(o)) = (b.check_in_at, b.check_out_at)
        && o < i
    {
        errors.push(FieldError {
            field: "check_out_at".into(),
            message: "after check_in_at".into(),
        });
    }
}

/// The stored fields of a log body.
pub fn fields(b: LogBody) -> LogFields {
    LogFields {
        check_in_at: b.check_in_at,
        check_out_at: b.check_out_at,
        track: b.track,
        notes: b.notes,
    }
}

/// An opening's rules: it names its grid, its fields agree, and its day
/// (today by default) is not in the future. Returns the grid and the day.
pub fn check_opening(body: &LogBody, today: NaiveDate) -> ApiResult<(Uuid, NaiveDate)> {
    let mut errors = Vec::new();
    if body.grid_id.is_none() {
        errors.push(FieldError {
            field: "grid_id".into(),
            message: "the grid patrolled".into(),
        });
    }
    check_fields(body, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let day = body.day.unwrap_or(today);
    if day > today {
        return Err(ApiError::field("day", "not a future day"));
    }
    Ok((body.grid_id.unwrap_or_default(), day))
}

/// A change's rules: a log keeps its grid and day, and its fields agree.
pub fn check_change(body: &LogBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    if body.grid_id.is_some() || body.day.is_some() {
        errors.push(FieldError {
            field: "grid_id".into(),
            message: "a log's grid and day do not change".into(),
        });
    }
    check_fields(body, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Opens `p`'s log of `day` in grid `grid_id` (at `at`, its proven place):
/// 409 when the day has one already.
pub async fn open_log(
    c: &mut Conn,
    p: &Principal,
    (at, grid_id): (&Target, Uuid),
    (day, fields): (NaiveDate, LogFields),
    now: DateTime<Utc>,
) -> ApiResult<Log> {
    patrols::open(
        c,
        p.district_id,
        at.street.unwrap_or_default(),
        at.community.unwrap_or_default(),
        grid_id,
        p.accountable_user(),
        day,
        fields,
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Violation(v) if v.kind == ViolationKind::Unique => ApiError::new(
            Code::Conflict,
            format!("there is already a log for {day}; change it instead"),
        ),
        e => e.into(),
    })
}

/// Only its keeper writes a log (a rule of the log, not of a place).
pub fn own(p: &Principal, log: &Log) -> ApiResult<()> {
    if log.worker_id == p.accountable_user() {
        Ok(())
    } else {
        Err(ApiError::forbidden("patrol.keep (one's own log)"))
    }
}

/// Changes `log`, read at `version`, with `body`: its keeper only.
pub async fn change_log(
    c: &mut Conn,
    p: &Principal,
    (log, version): (&Log, i32),
    body: LogBody,
    now: DateTime<Utc>,
) -> ApiResult<Log> {
    own(p, log)?;
    patrols::change(c, log, version, fields(body), now)
        .await?
        .ok_or_else(|| {
            StoreError::VersionMismatch {
                current: log.version,
            }
            .into()
        })
}

/// Records a visit of `body`'s household, one of `log`'s grid, on `log`.
pub async fn add_visit(
    c: &mut Conn,
    log: &Log,
    body: VisitBody,
    now: DateTime<Utc>,
) -> ApiResult<Visit> {
    let household = households::get_household(c, body.household_id)
        .await
        .map_err(reference("household_id"))?;
    if household.grid_id != log.grid_id {
        return Err(ApiError::new(
            Code::InvalidReference,
            "household_id is not a household of the log's grid",
        ));
    }
    let v = NewVisit {
        household_id: household.id,
        purpose: body.purpose.trim().to_owned(),
        service_mode: body.service_mode.map(|m| m.as_str()),
        notes: body.notes,
        next_visit_on: body.next_visit_on,
    };
    Ok(patrols::add_visit(c, log, v, now).await?)
}

/// Files untracked finding `id` of `log` as a case through the patrol
/// channel in the log's grid, with its description, location and address,
/// linked both ways; returns the finding as it is now.
pub async fn finding_to_case(
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    (log, id): (&Log, Uuid),
    case: FindingCaseBody,
    now: DateTime<Utc>,
) -> ApiResult<Finding> {
    let finding = patrols::get_finding(c, id).await?;
    if finding.case_id.is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            "the finding is already tracked by a case",
        ));
    }
    let title = case.title.map_or_else(
        || finding.description.chars().take(40).collect(),
        |t| t.trim().to_owned(),
    );
    let filing = Filing {
        location: finding
            .lon
            .zip(finding.lat)
            .map(|(lon, lat)| Point { lon, lat }),
        address: finding.address.clone(),
        extra: case.extra,
        links: vec![("patrol_finding", finding.id)],
        ..Filing::by_staff(
            Channel::Patrol,
            case.category_id,
            title,
            finding.description.clone(),
            log.grid_id,
        )
    };
    let filed = service::file(keys, c, p, filing, now).await?;
    if !patrols::track(c, &finding, filed.id).await? {
        return Err(ApiError::new(
            Code::Conflict,
            "the finding is already tracked by a case",
        ));
    }
    Ok(patrols::get_finding(c, finding.id).await?)
}

/// Each full-time worker of `community_id` in the period `from`..=`to`:
/// logs, visits, households, findings, and the working days (up to `today`)
/// with no log.
pub async fn coverage(
    c: &mut Conn,
    p: &Principal,
    community_id: Uuid,
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> ApiResult<Vec<WorkerCoverage>> {
    let cal = setup::calendar(c, p.district_id).await?;
    let rows = patrols::coverage(c, community_id, from, to).await?;
    let working: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d <= to && *d <= today)
        .filter(|d| cal.is_working_day(*d))
        .collect();
    Ok(rows.into_iter().map(|r| worker(r, &working)).collect())
}

fn worker(r: CoverageRow, working: &[NaiveDate]) -> WorkerCoverage {
    WorkerCoverage {
        missing_days: working
            .iter()
            .filter(|d| !r.days_logged.contains(d))
            .copied()
            .collect(),
        worker_id: r.worker_id,
        display_name: r.display_name,
        grid_id: r.grid_id,
        logs: r.logs,
        visits: r.visits,
        households_visited: r.households_visited,
        findings: r.findings,
    }
}
