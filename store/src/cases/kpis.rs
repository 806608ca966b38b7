//! The case KPIs (三率 and their companions) for any scope and period, grouped
//! by grid, community, street, department or worker, computed in one query
//! over the cases filed in the period (decomposed tasks excluded: they are
//! parts of a resident's need, not needs).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Int2, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use onegrid_domain::cases::{Kind, Status, Step};
use onegrid_domain::sla::{ClockKind, ClockOutcome};
use uuid::Uuid;

use crate::cases::Reach;
use crate::db::Conn;
use crate::error::StoreResult;
use crate::sql::names;

/// How KPI rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One row for everything in scope.
    All,
    /// One row per street.
    Street,
    /// One row per community.
    Community,
    /// One row per grid.
    Grid,
    /// The department a case is (now) routed to.
    Department,
    /// The staff member a case is (now) assigned to.
    Worker,
}

impl GroupBy {
    fn column(self) -> &'static str {
        match self {
            GroupBy::All => "NULL::text",
            GroupBy::Street => "c.street_id::text",
            GroupBy::Community => "c.community_id::text",
            GroupBy::Grid => "c.grid_id::text",
            GroupBy::Department => "c.assignee_department_id::text",
            GroupBy::Worker => "c.assignee_user_id::text",
        }
    }
}

/// The counts behind the KPIs of one group.
#[derive(Debug, Clone, QueryableByName)]
pub struct KpiCounts {
    /// The group's id (`None` for [`GroupBy::All`], or cases not routed/assigned).
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    /// Cases filed in the period.
    #[diesel(sql_type = BigInt)]
    pub filed: i64,
    /// Of those, not rejected.
    #[diesel(sql_type = BigInt)]
    pub accepted: i64,
    /// Whose first-response clock has been decided (stopped, or past due).
    #[diesel(sql_type = BigInt)]
    pub response_decided: i64,
    /// Of those, responded within the clock.
    #[diesel(sql_type = BigInt)]
    pub responded_on_time: i64,
    /// Resolved or closed now.
    #[diesel(sql_type = BigInt)]
    pub resolved: i64,
    /// Not rejected, whose first resolution clock stopped or fell due (by the
    /// end of the period, or now if that is earlier).
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    /// Of those, with an approved extension (延期).
    #[diesel(sql_type = BigInt)]
    pub deferred: i64,
    /// Of the due and not deferred, resolved within the clock.
    #[diesel(sql_type = BigInt)]
    pub closed_on_time: i64,
    /// With a rating, or unrated for 7 days after resolution (counted as the default score).
    #[diesel(sql_type = BigInt)]
    pub rated: i64,
    /// Of those, rated 10 or 8 (满意, 基本满意).
    #[diesel(sql_type = BigInt)]
    pub satisfied: i64,
    /// Sum of the (effective) scores, for the mean.
    #[diesel(sql_type = BigInt)]
    pub score_sum: i64,
    /// Ever dispatched.
    #[diesel(sql_type = BigInt)]
    pub dispatched: i64,
    /// Of those, returned (退回) at least once.
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    /// Resolved at least once.
    #[diesel(sql_type = BigInt)]
    pub ever_resolved: i64,
    /// Of those, reopened for rework at least once.
    #[diesel(sql_type = BigInt)]
    pub reworked: i64,
}

/// A KPI question: the period, the caller's reach, optional narrowing, the grouping.
#[derive(Debug, Clone)]
pub struct KpiQuery {
    /// The start of the period (inclusive): cases filed from then.
    pub from: DateTime<Utc>,
    /// The end of the period (exclusive).
    pub to: DateTime<Utc>,
    /// `None`: district-wide reader.
    pub reach: Option<Reach>,
    /// Only this street.
    pub street_id: Option<Uuid>,
    /// Only this community.
    pub community_id: Option<Uuid>,
    /// Only this grid.
    pub grid_id: Option<Uuid>,
    /// Only cases routed to this department.
    pub department_id: Option<Uuid>,
    /// How the rows are grouped.
    pub group_by: GroupBy,
    /// The score an unrated case counts as 7 days after resolution.
    pub unrated_score: i16,
    /// The instant the figures are taken at: clocks still running then count as undecided.
    pub now: DateTime<Utc>,
}

/// The KPI counts per group, largest groups first.
pub async fn kpis(conn: &mut Conn, q: &KpiQuery) -> StoreResult<Vec<KpiCounts>> {
    use diesel::sql_types::{Array, Bool};
    let reach = q.reach.clone().unwrap_or_default();
    let sql = format!(
        "SELECT {key} AS key,
            count(*) AS filed,
            count(*) FILTER (WHERE c.status <> {rejected}) AS accepted,
            count(*) FILTER (WHERE resp.outcome IS NOT NULL OR resp.due_at <= $4) AS response_decided,
            count(*) FILTER (WHERE resp.outcome = {met}) AS responded_on_time,
            count(*) FILTER (WHERE c.status IN ({done})) AS resolved,
            count(*) FILTER (WHERE c.status <> {rejected}
                AND (res.outcome IS NOT NULL OR res.due_at <= least($2, $4))) AS due,
            count(*) FILTER (WHERE c.status <> {rejected}
                AND (res.outcome IS NOT NULL OR res.due_at <= least($2, $4)) AND res.extended_minutes > 0) AS deferred,
            count(*) FILTER (WHERE c.status <> {rejected} AND res.outcome = {met} AND res.extended_minutes = 0)
                AS closed_on_time,
            count(*) FILTER (WHERE eff.score IS NOT NULL) AS rated,
            count(*) FILTER (WHERE eff.score >= 8) AS satisfied,
            coalesce(sum(eff.score), 0)::bigint AS score_sum,
            count(*) FILTER (WHERE ev.dispatched) AS dispatched,
            count(*) FILTER (WHERE ev.returned) AS returned,
            count(*) FILTER (WHERE ev.resolved) AS ever_resolved,
            count(*) FILTER (WHERE c.rework_cycle > 0) AS reworked
        FROM cases c
        LEFT JOIN case_clocks resp ON resp.street_id = c.street_id AND resp.case_id = c.id
            AND resp.kind = {response} AND resp.cycle = 0
        LEFT JOIN case_clocks res ON res.street_id = c.street_id AND res.case_id = c.id
            AND res.kind = {resolution} AND res.cycle = 0
        LEFT JOIN LATERAL (
            SELECT bool_or(e.step = {dispatch}) AS dispatched,
                   bool_or(e.step = {ret}) AS returned,
                   bool_or(e.step = {resolve}) AS resolved
            FROM case_events e WHERE e.street_id = c.street_id AND e.case_id = c.id
        ) ev ON true
        LEFT JOIN LATERAL (
            SELECT coalesce(
                (SELECT r.score FROM case_ratings r WHERE r.street_id = c.street_id AND r.case_id = c.id
                 ORDER BY r.cycle DESC LIMIT 1),
                CASE WHEN c.status = {resolved} AND c.resolved_at <= $4 - interval '7 days' THEN $5 END
            )::int AS score
        ) eff ON true
        WHERE c.kind <> {task} AND c.created_at >= $1 AND c.created_at < $2
          AND ($3 OR c.street_id = ANY($6) OR c.community_id = ANY($7) OR c.grid_id = ANY($8)
               OR c.assignee_department_id = ANY($9))
          AND ($10::uuid IS NULL OR c.street_id = $10)
          AND ($11::uuid IS NULL OR c.community_id = $11)
          AND ($12::uuid IS NULL OR c.grid_id = $12)
          AND ($13::uuid IS NULL OR c.assignee_department_id = $13)
        GROUP BY 1
        ORDER BY 2 DESC, 1",
        key = q.group_by.column(),
        rejected = names(&[Status::Rejected.as_str()]),
        met = names(&[ClockOutcome::Met.as_str()]),
        done = names(&[Status::Resolved.as_str(), Status::Closed.as_str()]),
        resolved = names(&[Status::Resolved.as_str()]),
        response = names(&[ClockKind::Response.as_str()]),
        resolution = names(&[ClockKind::Resolution.as_str()]),
        dispatch = names(&[Step::Dispatch.as_str()]),
        ret = names(&[Step::Return.as_str()]),
        resolve = names(&[Step::Resolve.as_str()]),
        task = names(&[Kind::Task.as_str()]),
    );
    Ok(diesel::sql_query(sql)
        .bind::<Timestamptz, _>(q.from)
        .bind::<Timestamptz, _>(q.to)
        .bind::<Bool, _>(q.reach.is_none())
        .bind::<Timestamptz, _>(q.now)
        .bind::<Int2, _>(q.unrated_score)
        .bind::<Array<SqlUuid>, _>(reach.streets)
        .bind::<Array<SqlUuid>, _>(reach.communities)
        .bind::<Array<SqlUuid>, _>(reach.grids)
        .bind::<Array<SqlUuid>, _>(reach.departments)
        .bind::<Nullable<SqlUuid>, _>(q.street_id)
        .bind::<Nullable<SqlUuid>, _>(q.community_id)
        .bind::<Nullable<SqlUuid>, _>(q.grid_id)
        .bind::<Nullable<SqlUuid>, _>(q.department_id)
        .load(conn)
        .await?)
}
