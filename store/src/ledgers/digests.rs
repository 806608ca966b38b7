//! Stale-ledger reminders: ledger records not verified within their type's
//! period, gathered into one digest per full-time grid worker per day
//! (counts per grid and ledger type, the oldest verification), delivered to
//! the worker's inbox. The district's schedule fans out one job per street;
//! each street's digests are written once per day (the digest row is the guard).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use onegrid_domain::ledger::RecordStatus;
use onegrid_domain::staffing::StaffKind;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{ledger_stale_digests, notifications};
use crate::sql::names;

/// Stale records of one worker in one grid and ledger type.
#[derive(Debug, Clone, QueryableByName)]
struct StaleRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    grid_id: Uuid,
    #[diesel(sql_type = Text)]
    grid_name: String,
    #[diesel(sql_type = Text)]
    ledger_code: String,
    #[diesel(sql_type = Text)]
    ledger_name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    stale: i64,
    #[diesel(sql_type = Timestamptz)]
    oldest: DateTime<Utc>,
}

/// Writes the day's digest for every full-time grid worker of the street
/// (scoped to it) who has stale records; the number of digests written.
pub async fn street_digest(
    conn: &mut Conn,
    district: Uuid,
    street: Uuid,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let rows: Vec<StaleRow> = diesel::sql_query(format!(
        "SELECT a.user_id, g.id AS grid_id, g.name AS grid_name, t.code AS ledger_code,
                t.name AS ledger_name, count(*) AS stale, min(r.verified_at) AS oldest
         FROM grid_assignments a
         JOIN grids g ON g.street_id = a.street_id AND g.id = a.grid_id
         JOIN ledger_records r ON r.street_id = a.street_id AND r.grid_id = a.grid_id
                               AND r.status = {active}
         JOIN ledger_types t ON t.id = r.ledger_type_id
         WHERE a.street_id = $1 AND a.kind = {full_time}
           AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to >= $2)
           AND r.verified_at < $3 - t.verify_period_days * interval '1 day'
         GROUP BY a.user_id, g.id, g.name, t.code, t.name
         ORDER BY a.user_id, g.name, t.code",
        active = names(&[RecordStatus::Active.as_str()]),
        full_time = names(&[StaffKind::FullTime.as_str()]),
    ))
    .bind::<SqlUuid, _>(street)
    .bind::<Date, _>(day)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?;
    let mut written = 0;
    for chunk in rows.chunk_by(|a, b| a.user_id == b.user_id) {
        let Some(first) = chunk.first() else {
            continue;
        };
        let total: i64 = chunk.iter().map(|r| r.stale).sum();
        let notification = Uuid::now_v7();
        // The guard: one digest per worker and day, whoever runs the job.
        let fresh = diesel::insert_into(ledger_stale_digests::table)
            .values((
                ledger_stale_digests::street_id.eq(street),
                ledger_stale_digests::user_id.eq(first.user_id),
                ledger_stale_digests::digest_for.eq(day),
                ledger_stale_digests::stale.eq(i32::try_from(total).unwrap_or(i32::MAX)),
                ledger_stale_digests::notification_id.eq(notification),
                ledger_stale_digests::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if fresh == 0 {
            continue;
        }
        let items: Vec<serde_json::Value> = chunk
            .iter()
            .map(|r| {
                serde_json::json!({
                    "grid_id": r.grid_id, "grid": r.grid_name, "ledger": r.ledger_code,
                    "ledger_name": r.ledger_name, "stale": r.stale, "oldest_verified_at": r.oldest,
                })
            })
            .collect();
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(notification),
                notifications::user_id.eq(first.user_id),
                notifications::district_id.eq(district),
                notifications::street_id.eq(Some(street)),
                notifications::kind.eq("ledger.stale_digest"),
                notifications::title.eq(format!("台账核验提醒：{total}条记录待核验")),
                notifications::body.eq(serde_json::json!({
                    "day": day, "stale": total, "items": items,
                })),
                notifications::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
        written += 1;
    }
    Ok(written)
}
