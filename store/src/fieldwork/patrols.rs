//! The daily patrol log (网格日巡记录本): one log per grid worker and day
//! (check-in, check-out, an optional GPS track, notes), the households
//! visited, the findings (location, photos) and the case a finding became;
//! coverage per worker for a period; the worker's flag for full-time workers
//! with no log on a working day.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use onegrid_domain::permissions::{Area, Role, ScopeKind};
use onegrid_domain::staffing::StaffKind;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{notifications, patrol_findings, patrol_logs, patrol_missing, patrol_visits};
use crate::sql::names;

/// A grid worker's patrol log for one day (网格日巡记录本).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patrol_logs)]
pub struct Log {
    /// The grid's street.
    pub street_id: Uuid,
    /// The log's id (UUIDv7).
    pub id: Uuid,
    /// The district.
    pub district_id: Uuid,
    /// The grid's community.
    pub community_id: Uuid,
    /// The grid patrolled.
    pub grid_id: Uuid,
    /// The grid worker; one log per worker and day.
    pub worker_id: Uuid,
    /// The day patrolled (China's calendar day).
    pub day: NaiveDate,
    /// When the worker checked in, if they have.
    pub check_in_at: Option<DateTime<Utc>>,
    /// When the worker checked out (not before check-in), if they have.
    pub check_out_at: Option<DateTime<Utc>>,
    /// The GPS track walked, a GeoJSON LineString (lon, lat), if recorded.
    pub track: Option<serde_json::Value>,
    /// The worker's notes, up to 4,000 characters, if any.
    pub notes: Option<String>,
    /// Optimistic-locking version, bumped by every change.
    pub version: i32,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A household visited on a patrol (入户走访).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patrol_visits)]
pub struct Visit {
    /// The log's street.
    pub street_id: Uuid,
    /// The visit's id (UUIDv7).
    pub id: Uuid,
    /// The log it was recorded in.
    pub log_id: Uuid,
    /// The household visited.
    pub household_id: Uuid,
    /// What the visit was for, 1 to 200 characters.
    pub purpose: String,
    /// How the service was delivered (a `ServiceMode` name, e.g. `home_visit`), if recorded.
    pub service_mode: Option<String>,
    /// What was found or done, up to 2,000 characters, if noted.
    pub notes: Option<String>,
    /// When to visit next, if planned.
    pub next_visit_on: Option<NaiveDate>,
    /// When the visit was recorded.
    pub at: DateTime<Utc>,
}

/// Something a worker found on patrol; it may become a case.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patrol_findings)]
pub struct Finding {
    /// The log's street.
    pub street_id: Uuid,
    /// The finding's id (UUIDv7).
    pub id: Uuid,
    /// The log it was recorded in.
    pub log_id: Uuid,
    /// What was found, 1 to 2,000 characters.
    pub description: String,
    /// Longitude (WGS 84), set together with `lat`; `None`: not located.
    pub lon: Option<f64>,
    /// Latitude (WGS 84), set together with `lon`; `None`: not located.
    pub lat: Option<f64>,
    /// Where it is, up to 200 characters, if given.
    pub address: Option<String>,
    /// The case it became, once tracked; `None` while untracked.
    pub case_id: Option<Uuid>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A day's log to open (or the fields to change on it).
#[derive(Debug, Clone)]
pub struct LogFields {
    /// When the worker checked in; `None` keeps the log's value (or leaves it unset).
    pub check_in_at: Option<DateTime<Utc>>,
    /// When the worker checked out; `None` keeps the log's value.
    pub check_out_at: Option<DateTime<Utc>>,
    /// The GPS track, a GeoJSON LineString; `None` keeps the log's value.
    pub track: Option<serde_json::Value>,
    /// The worker's notes; `None` keeps the log's value.
    pub notes: Option<String>,
}

/// Opens the worker's log for `day` in `grid` (street, community known).
#[expect(
    clippy::too_many_arguments,
    reason = "the log's identity and its fields"
)]
pub async fn open(
    conn: &mut Conn,
    district: Uuid,
    street: Uuid,
    community: Uuid,
    grid: Uuid,
    worker: Uuid,
    day: NaiveDate,
    f: LogFields,
    at: DateTime<Utc>,
) -> StoreResult<Log> {
    Ok(diesel::insert_into(patrol_logs::table)
        .values((
            patrol_logs::street_id.eq(street),
            patrol_logs::id.eq(Uuid::now_v7()),
            patrol_logs::district_id.eq(district),
            patrol_logs::community_id.eq(community),
            patrol_logs::grid_id.eq(grid),
            patrol_logs::worker_id.eq(worker),
            patrol_logs::day.eq(day),
            patrol_logs::check_in_at.eq(f.check_in_at),
            patrol_logs::check_out_at.eq(f.check_out_at),
            patrol_logs::track.eq(f.track),
            patrol_logs::notes.eq(f.notes),
            patrol_logs::created_at.eq(at),
            patrol_logs::updated_at.eq(at),
        ))
        .returning(Log::as_returning())
        .get_result(conn)
        .await?)
}

/// Changes a log at `version` (absent fields keep their value); `None` if the version moved.
pub async fn change(
    conn: &mut Conn,
    log: &Log,
    version: i32,
    f: LogFields,
    at: DateTime<Utc>,
) -> StoreResult<Option<Log>> {
    Ok(diesel::update(
        patrol_logs::table
            .filter(patrol_logs::street_id.eq(log.street_id))
            .filter(patrol_logs::id.eq(log.id))
            .filter(patrol_logs::version.eq(version)),
    )
    .set((
        patrol_logs::check_in_at.eq(f.check_in_at.or(log.check_in_at)),
        patrol_logs::check_out_at.eq(f.check_out_at.or(log.check_out_at)),
        patrol_logs::track.eq(f.track.or_else(|| log.track.clone())),
        patrol_logs::notes.eq(f.notes.or_else(|| log.notes.clone())),
        patrol_logs::version.eq(patrol_logs::version + 1),
        patrol_logs::updated_at.eq(at),
    ))
    .returning(Log::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// One log visible to the caller.
pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Log> {
    Ok(patrol_logs::table
        .filter(patrol_logs::id.eq(id))
        .select(Log::as_select())
        .first(conn)
        .await?)
}

/// Filters of the log list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The caller's own logs are always listed, others' only in this area.
    pub me: Uuid,
    /// Where the caller reads others' logs: its streets, communities and grids.
    pub area: Area,
    /// Only this worker's logs.
    pub worker_id: Option<Uuid>,
    /// Only logs of this grid.
    pub grid_id: Option<Uuid>,
    /// Only logs of this community.
    pub community_id: Option<Uuid>,
    /// Only logs on or after this day.
    pub from: Option<NaiveDate>,
    /// Only logs on or before this day.
    pub to: Option<NaiveDate>,
}

/// Logs visible to the caller, newest day first.
pub async fn list(conn: &mut Conn, f: &Filter, limit: i64) -> StoreResult<Vec<Log>> {
    let mut q = patrol_logs::table
        .select(Log::as_select())
        .order((patrol_logs::day.desc(), patrol_logs::id.desc()))
        .limit(limit)
        .into_boxed();
    let a = &f.area;
    if !a.everywhere {
        q = q.filter(
            patrol_logs::worker_id
                .eq(f.me)
                .or(patrol_logs::street_id.eq_any(a.streets.clone()))
                .or(patrol_logs::community_id.eq_any(a.communities.clone()))
                .or(patrol_logs::grid_id.eq_any(a.grids.clone())),
        );
    }
    if let Some(w) = f.worker_id {
        q = q.filter(patrol_logs::worker_id.eq(w));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(patrol_logs::grid_id.eq(g));
    }
    if let Some(c) = f.community_id {
        q = q.filter(patrol_logs::community_id.eq(c));
    }
    if let Some(from) = f.from {
        q = q.filter(patrol_logs::day.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(patrol_logs::day.le(to));
    }
    Ok(q.load(conn).await?)
}

/// A household visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The household visited (in the log's street).
    pub household_id: Uuid,
    /// What the visit is for, 1 to 200 characters.
    pub purpose: String,
    /// How the service is delivered (a `ServiceMode` name), if recorded.
    pub service_mode: Option<&'static str>,
    /// What was found or done, if noted.
    pub notes: Option<String>,
    /// When to visit next, if planned.
    pub next_visit_on: Option<NaiveDate>,
}

/// Records a household visit on a log.
pub async fn add_visit(
    conn: &mut Conn,
    log: &Log,
    v: NewVisit,
    at: DateTime<Utc>,
) -> StoreResult<Visit> {
    Ok(diesel::insert_into(patrol_visits::table)
        .values((
            patrol_visits::street_id.eq(log.street_id),
            patrol_visits::id.eq(Uuid::now_v7()),
            patrol_visits::log_id.eq(log.id),
            patrol_visits::household_id.eq(v.household_id),
            patrol_visits::purpose.eq(v.purpose),
            patrol_visits::service_mode.eq(v.service_mode),
            patrol_visits::notes.eq(v.notes),
            patrol_visits::next_visit_on.eq(v.next_visit_on),
            patrol_visits::at.eq(at),
        ))
        .returning(Visit::as_returning())
        .get_result(conn)
        .await?)
}

/// The visits of `logs`, in one statement, oldest first.
pub async fn visits(conn: &mut Conn, logs: &[Log]) -> StoreResult<Vec<Visit>> {
    let (streets, ids) = keys(logs);
    Ok(patrol_visits::table
        .filter(patrol_visits::street_id.eq_any(streets))
        .filter(patrol_visits::log_id.eq_any(ids))
        .select(Visit::as_select())
        .order(patrol_visits::id)
        .load(conn)
        .await?)
}

/// A finding to record.
#[derive(Debug, Clone)]
pub struct NewFinding {
    /// What was found, 1 to 2,000 characters.
    pub description: String,
    /// `(lon, lat)` in WGS 84, if located.
    pub location: Option<(f64, f64)>,
    /// Where it is, if given.
    pub address: Option<String>,
}

/// Records a finding on a log, untracked.
pub async fn add_finding(
    conn: &mut Conn,
    log: &Log,
    f: NewFinding,
    at: DateTime<Utc>,
) -> StoreResult<Finding> {
    Ok(diesel::insert_into(patrol_findings::table)
        .values((
            patrol_findings::street_id.eq(log.street_id),
            patrol_findings::id.eq(Uuid::now_v7()),
            patrol_findings::log_id.eq(log.id),
            patrol_findings::description.eq(f.description),
            patrol_findings::lon.eq(f.location.map(|l| l.0)),
            patrol_findings::lat.eq(f.location.map(|l| l.1)),
            patrol_findings::address.eq(f.address),
            patrol_findings::at.eq(at),
        ))
        .returning(Finding::as_returning())
        .get_result(conn)
        .await?)
}

/// The streets and ids of `logs`, for one statement over all of them.
fn keys(logs: &[Log]) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut streets: Vec<Uuid> = logs.iter().map(|l| l.street_id).collect();
    streets.sort_unstable();
    streets.dedup();
    (streets, logs.iter().map(|l| l.id).collect())
}

/// The findings of `logs`, in one statement, oldest first.
pub async fn findings(conn: &mut Conn, logs: &[Log]) -> StoreResult<Vec<Finding>> {
    let (streets, ids) = keys(logs);
    Ok(patrol_findings::table
        .filter(patrol_findings::street_id.eq_any(streets))
        .filter(patrol_findings::log_id.eq_any(ids))
        .select(Finding::as_select())
        .order(patrol_findings::id)
        .load(conn)
        .await?)
}

/// One finding visible to the caller.
pub async fn get_finding(conn: &mut Conn, id: Uuid) -> StoreResult<Finding> {
    Ok(patrol_findings::table
        .filter(patrol_findings::id.eq(id))
        .select(Finding::as_select())
        .first(conn)
        .await?)
}

/// Links a finding to the case it became, if it has none yet; false if it had one.
pub async fn track(conn: &mut Conn, f: &Finding, case_id: Uuid) -> StoreResult<bool> {
    let n = diesel::update(
        patrol_findings::table
            .filter(patrol_findings::street_id.eq(f.street_id))
            .filter(patrol_findings::id.eq(f.id))
            .filter(patrol_findings::case_id.is_null()),
    )
    .set(patrol_findings::case_id.eq(Some(case_id)))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// One worker's patrol coverage in a period.
#[derive(Debug, Clone, QueryableByName)]
pub struct CoverageRow {
    /// The full-time worker.
    #[diesel(sql_type = SqlUuid)]
    pub worker_id: Uuid,
    /// Their display name.
    #[diesel(sql_type = Text)]
    pub display_name: String,
    /// The grid they are assigned to.
    #[diesel(sql_type = SqlUuid)]
    pub grid_id: Uuid,
    /// Days they kept a log in the period.
    #[diesel(sql_type = BigInt)]
    pub logs: i64,
    /// Household visits they recorded in the period.
    #[diesel(sql_type = BigInt)]
    pub visits: i64,
    /// Distinct households they visited.
    #[diesel(sql_type = BigInt)]
    pub households_visited: i64,
    /// Findings they recorded in the period.
    #[diesel(sql_type = BigInt)]
    pub findings: i64,
    /// The days they kept a log, in order.
    #[diesel(sql_type = diesel::sql_types::Array<Date>)]
    pub days_logged: Vec<NaiveDate>,
}

/// The full-time workers of `community` (or of every visible grid) with
/// their logs, visits, distinct households and findings in `[from, to]`.
pub async fn coverage(
    conn: &mut Conn,
    community: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<CoverageRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT a.user_id AS worker_id, u.display_name, a.grid_id,
                count(DISTINCT l.id) AS logs,
                count(v.id) AS visits,
                count(DISTINCT v.household_id) AS households_visited,
                (SELECT count(*) FROM patrol_findings f JOIN patrol_logs l2
                    ON l2.street_id = f.street_id AND l2.id = f.log_id
                 WHERE l2.worker_id = a.user_id AND l2.day BETWEEN $2 AND $3) AS findings,
                coalesce(array_agg(DISTINCT l.day) FILTER (WHERE l.day IS NOT NULL), '{{}}') AS days_logged
         FROM grid_assignments a
         JOIN grids g ON g.street_id = a.street_id AND g.id = a.grid_id
         JOIN users u ON u.id = a.user_id
         LEFT JOIN patrol_logs l ON l.street_id = a.street_id AND l.worker_id = a.user_id
              AND l.day BETWEEN $2 AND $3
         LEFT JOIN patrol_visits v ON v.street_id = l.street_id AND v.log_id = l.id
         WHERE g.community_id = $1 AND a.kind = {full_time}
           AND a.valid_from <= $3 AND (a.valid_to IS NULL OR a.valid_to >= $2)
         GROUP BY a.user_id, u.display_name, a.grid_id
         ORDER BY u.display_name",
        full_time = names(&[StaffKind::FullTime.as_str()]),
    ))
    .bind::<SqlUuid, _>(community)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?)
}

/// Flags every full-time worker of the street with no log for `day`, once
/// (worker session, scoped to the street): the worker and the community's
/// grid chiefs are told. The number flagged.
pub async fn flag_missing(
    conn: &mut Conn,
    district: Uuid,
    street: Uuid,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    #[derive(QueryableByName)]
    struct Missing {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        grid_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        community_id: Uuid,
        #[diesel(sql_type = Text)]
        grid_name: String,
    }
    let missing: Vec<Missing> = diesel::sql_query(format!(
        "SELECT a.user_id, a.grid_id, g.community_id, g.name AS grid_name
         FROM grid_assignments a JOIN grids g ON g.street_id = a.street_id AND g.id = a.grid_id
         WHERE a.street_id = $1 AND a.kind = {full_time}
           AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to >= $2)
           AND NOT EXISTS (SELECT 1 FROM patrol_logs l
               WHERE l.street_id = a.street_id AND l.worker_id = a.user_id AND l.day = $2)
         ORDER BY a.user_id",
        full_time = names(&[StaffKind::FullTime.as_str()]),
    ))
    .bind::<SqlUuid, _>(street)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    let mut flagged = 0;
    for m in missing {
        let fresh = diesel::insert_into(patrol_missing::table)
            .values((
                patrol_missing::street_id.eq(street),
                patrol_missing::worker_id.eq(m.user_id),
                patrol_missing::day.eq(day),
                patrol_missing::grid_id.eq(m.grid_id),
                patrol_missing::flagged_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if fresh == 0 {
            continue;
        }
        let chiefs: Vec<Uuid> = diesel::sql_query(format!(
            "SELECT user_id AS id FROM role_assignments
             WHERE role = {chief} AND scope_kind = {community} AND community_id = $1
               AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)",
            chief = names(&[Role::GridChief.as_str()]),
            community = names(&[ScopeKind::Community.as_str()]),
        ))
        .bind::<SqlUuid, _>(m.community_id)
        .bind::<Date, _>(day)
        .load::<IdRow>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let mut to = vec![m.user_id];
        to.extend(chiefs);
        to.sort_unstable();
        to.dedup();
        let rows: Vec<_> = to
            .iter()
            .map(|u| {
                (
                    notifications::id.eq(Uuid::now_v7()),
                    notifications::user_id.eq(*u),
                    notifications::district_id.eq(district),
                    notifications::street_id.eq(Some(street)),
                    notifications::kind.eq("patrol.missing_log"),
                    notifications::title.eq(format!("{}：{day} 未填写网格日巡记录", m.grid_name)),
                    notifications::body.eq(serde_json::json!({
                        "worker_id": m.user_id, "grid_id": m.grid_id, "day": day,
                    })),
                    notifications::created_at.eq(at),
                )
            })
            .collect();
        diesel::insert_into(notifications::table)
            .values(rows)
            .execute(conn)
            .await?;
        flagged += 1;
    }
    Ok(flagged)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}
