//! The mediation figures of a period, for the caller's streets: per
//! department, report-in timeliness and the street's ratings; per street,
//! disputes, whistles and the whistle rate; and where settled disputes were
//! settled (the share of each level of the ladder).

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;

/// One department's report-in figures over the period.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct DepartmentRow {
    /// The department.
    #[diesel(sql_type = SqlUuid)]
    pub department_id: Uuid,
    /// Its code.
    #[diesel(sql_type = Text)]
    pub code: String,
    /// Its name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Summonses it received in the period.
    #[diesel(sql_type = BigInt)]
    pub summoned: i64,
    /// Summonses whose deadline has passed (the base of the on-time rate).
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    /// Reported in by the deadline.
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    /// Reported in after the deadline.
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    /// Deadline passed and never reported in.
    #[diesel(sql_type = BigInt)]
    pub missed: i64,
    /// Mean minutes from summons to report-in, over those reported in; `None` if none.
    #[diesel(sql_type = Nullable<Double>)]
    pub avg_report_minutes: Option<f64>,
    /// Mean of the street's ratings (10/8/6/3/0), two decimals; `None` if none was rated.
    #[diesel(sql_type = Nullable<Double>)]
    pub avg_rating: Option<f64>,
    /// Summonses rated.
    #[diesel(sql_type = BigInt)]
    pub rated: i64,
}

/// One street's mediation figures over the period.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct StreetRow {
    /// The street.
    #[diesel(sql_type = SqlUuid)]
    pub street_id: Uuid,
    /// Its name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Disputes recorded in the period.
    #[diesel(sql_type = BigInt)]
    pub disputes: i64,
    /// Whistles blown in the period.
    #[diesel(sql_type = BigInt)]
    pub whistles: i64,
}

/// How many disputes were settled by agreement at one level of the ladder.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct LevelRow {
    /// The level settled at: `grid`, `community`, `street` or `centre`.
    #[diesel(sql_type = Text)]
    pub level: String,
    /// Disputes settled there in the period.
    #[diesel(sql_type = BigInt)]
    pub settled: i64,
}

/// Per department, summonses issued in `[from, to)`, as of `now`.
pub async fn departments(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<DepartmentRow>> {
    Ok(diesel::sql_query(
        "SELECT s.department_id, d.code, d.name,
                count(*) AS summoned,
                count(*) FILTER (WHERE s.deadline_at <= $3 OR s.reported_at IS NOT NULL) AS due,
                count(*) FILTER (WHERE s.reported_at <= s.deadline_at) AS on_time,
                count(*) FILTER (WHERE s.reported_at > s.deadline_at) AS late,
                count(*) FILTER (WHERE s.reported_at IS NULL AND s.deadline_at <= $3) AS missed,
                round(avg(extract(epoch FROM s.reported_at - s.summoned_at) / 60), 1)::float8 AS avg_report_minutes,
                round(avg(s.rating), 2)::float8 AS avg_rating,
                count(s.rating) AS rated
         FROM summonses s JOIN departments d ON d.id = s.department_id
         WHERE s.summoned_at >= $1 AND s.summoned_at < $2
         GROUP BY s.department_id, d.code, d.name
         ORDER BY d.code",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?)
}

/// Per visible street: disputes recorded and whistles blown in `[from, to)`.
pub async fn streets(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<StreetRow>> {
    Ok(diesel::sql_query(
        "SELECT st.id AS street_id, st.name,
                (SELECT count(*) FROM disputes x WHERE x.street_id = st.id
                    AND x.created_at >= $1 AND x.created_at < $2) AS disputes,
                (SELECT count(*) FROM whistles w WHERE w.street_id = st.id
                    AND w.blown_at >= $1 AND w.blown_at < $2) AS whistles
         FROM streets st
         WHERE st.id = ANY (og_streets())
         ORDER BY st.code",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}

/// Disputes settled by agreement in `[from, to)`, per level where settled.
pub async fn settled_levels(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<LevelRow>> {
    Ok(diesel::sql_query(
        "SELECT settled_level AS level, count(*) AS settled
         FROM disputes
         WHERE referral IS NULL AND settled_level IS NOT NULL
           AND outcome_at >= $1 AND outcome_at < $2
         GROUP BY settled_level",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}
