//! Whether each district's working calendar covers next year. From 1
//! December a district without next year's days is told once (every district
//! admin gets a notice) and readiness lists it; nothing invents the days.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::next_year_due;
use onegrid_domain::permissions::{Role, ScopeKind};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{calendar_warnings, notifications};
use crate::sql::names;

/// The notice kind district admins receive.
pub const NOTICE: &str = "calendar.next_year_missing";

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    district_code: String,
}

/// The codes of districts whose calendar lists no day of `year` (any session).
pub async fn districts_missing(conn: &mut Conn, year: i32) -> StoreResult<Vec<String>> {
    let rows: Vec<Code> = diesel::sql_query("SELECT district_code FROM og_calendar_missing($1)")
        .bind::<Integer, _>(year)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.district_code).collect())
}

#[derive(QueryableByName)]
struct Admin {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
}

/// On `day`, warns `district` once per year if next year's calendar is due and
/// missing: one notice to each of its district admins (worker session scoped
/// to the district). Returns how many were told (0 when not due, loaded, or
/// already warned).
pub async fn warn_if_missing(
    conn: &mut Conn,
    district: Uuid,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let Some(year) = next_year_due(day) else {
        return Ok(0);
    };
    if !crate::cases::setup::calendar_year(conn, district, year)
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let fresh = diesel::insert_into(calendar_warnings::table)
        .values((
            calendar_warnings::district_id.eq(district),
            calendar_warnings::year.eq(year),
            calendar_warnings::warned_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if fresh == 0 {
        return Ok(0);
    }
    let admins: Vec<Admin> = diesel::sql_query(format!(
        "SELECT DISTINCT user_id FROM role_assignments
         WHERE role = {admin} AND scope_kind = {district} AND district_id = $1
           AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)
         ORDER BY user_id",
        admin = names(&[Role::DistrictAdmin.as_str()]),
        district = names(&[ScopeKind::District.as_str()]),
    ))
    .bind::<diesel::sql_types::Uuid, _>(district)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    let rows: Vec<_> = admins
        .iter()
        .map(|a| {
            (
                notifications::id.eq(Uuid::now_v7()),
                notifications::user_id.eq(a.user_id),
                notifications::district_id.eq(district),
                notifications::street_id.eq(None::<Uuid>),
                notifications::kind.eq(NOTICE),
                notifications::title.eq(format!(
                    "{year} 年工作日历尚未导入：工作日时限将按周一至周五计算，节假日与调休不会生效"
                )),
                notifications::body.eq(serde_json::json!({
                    "year": year,
                    "load_with": format!("PUT /api/v1/calendar/{year}"),
                })),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(notifications::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(admins.len())
}
