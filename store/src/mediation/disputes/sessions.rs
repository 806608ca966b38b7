//! A dispute's documents, mediation sessions and the follow-ups a settled
//! dispute schedules.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{FOLLOW_UP_DAYS, Status};
use uuid::Uuid;

use super::{Dispute, FollowUp, NewEvent, Refused, Session, append_event};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{dispute_follow_ups, disputes, mediation_sessions};

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// Where it was held, 1 to 100 characters.
    pub place: String,
    /// The mediators' names.
    pub mediators: Vec<String>,
    /// Departments that took part (empty: none).
    pub department_ids: Vec<Uuid>,
    /// What was said, up to 4,000 characters, if noted.
    pub notes: Option<String>,
    /// adjourned, agreement or failed.
    pub result: &'static str,
    /// Where a failed mediation is referred: `court`, `arbitration` or `petition`; only
    /// with `failed`.
    pub referral: Option<&'static str>,
    /// The signed agreement's uploaded document; required with `agreement`.
    pub agreement_document_id: Option<Uuid>,
    /// The user recording it.
    pub recorded_by: Uuid,
}

/// Records a mediation session of an open dispute (under its version). An
/// agreement settles the dispute at its level; a failure refers it on; both
/// schedule the follow-up visits.
pub async fn record_session(
    conn: &mut Conn,
    d: &Dispute,
    version: i32,
    s: NewSession,
    at: DateTime<Utc>,
) -> StoreResult<Result<(Session, Dispute), Refused>> {
    if !d.is_open() {
        return Ok(Err(Refused::Status(d.status)));
    }
    let status = match s.result {
        "agreement" => Some(Status::Settled),
        "failed" => Some(Status::Referred),
        _ => None,
    };
    let updated: Option<Dispute> = diesel::update(
        disputes::table
            .filter(disputes::street_id.eq(d.street_id))
            .filter(disputes::id.eq(d.id))
            .filter(disputes::version.eq(version))
            .filter(disputes::status.eq(Status::Open)),
    )
    .set((
        disputes::status.eq(status.unwrap_or(Status::Open)),
        disputes::settled_level.eq(status.map(|_| d.level)),
        disputes::referral.eq(s.referral),
        disputes::outcome_at.eq(status.map(|_| at)),
        disputes::version.eq(disputes::version + 1),
        disputes::updated_at.eq(at),
    ))
    .returning(Dispute::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(updated) = updated else {
        return Ok(Err(Refused::Version(d.version)));
    };
    let session: Session = diesel::insert_into(mediation_sessions::table)
        .values((
            mediation_sessions::street_id.eq(d.street_id),
            mediation_sessions::id.eq(Uuid::now_v7()),
            mediation_sessions::dispute_id.eq(d.id),
            mediation_sessions::held_at.eq(s.held_at),
            mediation_sessions::place.eq(s.place),
            mediation_sessions::level.eq(&d.level),
            mediation_sessions::mediators.eq(s.mediators),
            mediation_sessions::department_ids.eq(s.department_ids),
            mediation_sessions::notes.eq(s.notes),
            mediation_sessions::result.eq(s.result),
            mediation_sessions::referral.eq(s.referral),
            mediation_sessions::agreement_document_id.eq(s.agreement_document_id),
            mediation_sessions::recorded_by.eq(s.recorded_by),
            mediation_sessions::recorded_at.eq(at),
        ))
        .returning(Session::as_returning())
        .get_result(conn)
        .await?;
    if status.is_some() {
        let today = onegrid_domain::clock::china_date(at);
        let rows: Vec<_> = FOLLOW_UP_DAYS
            .iter()
            .zip(1_i16..)
            .map(|(days, seq)| {
                (
                    dispute_follow_ups::street_id.eq(d.street_id),
                    dispute_follow_ups::dispute_id.eq(d.id),
                    dispute_follow_ups::seq.eq(seq),
                    dispute_follow_ups::due_on.eq(today + Duration::days(*days)),
                )
            })
            .collect();
        diesel::insert_into(dispute_follow_ups::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    append_event(
        conn,
        &updated,
        NewEvent {
            step: match s.result {
                "agreement" => "settle",
                "failed" => "refer",
                _ => "session",
            },
            from_level: None,
            to_level: None,
            reason: None,
            actor_id: s.recorded_by,
            data: serde_json::json!({"session_id": session.id, "result": session.result, "referral": session.referral}),
            at,
        },
    )
    .await?;
    Ok(Ok((session, updated)))
}

/// The sessions of a dispute, oldest first.
pub async fn sessions(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Session>> {
    Ok(mediation_sessions::table
        .filter(mediation_sessions::street_id.eq(d.street_id))
        .filter(mediation_sessions::dispute_id.eq(d.id))
        .select(Session::as_select())
        .order(mediation_sessions::id)
        .load(conn)
        .await?)
}

/// The follow-up visits of a dispute, in due order.
pub async fn follow_ups(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<FollowUp>> {
    Ok(dispute_follow_ups::table
        .filter(dispute_follow_ups::street_id.eq(d.street_id))
        .filter(dispute_follow_ups::dispute_id.eq(d.id))
        .select(FollowUp::as_select())
        .order(dispute_follow_ups::seq)
        .load(conn)
        .await?)
}

/// Records follow-up visit `seq` as done; the last one closes the dispute.
/// `None`: no such visit, or it was already done.
pub async fn complete_follow_up(
    conn: &mut Conn,
    d: &Dispute,
    seq: i16,
    by: Uuid,
    notes: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Dispute>> {
    let done = diesel::update(
        dispute_follow_ups::table
            .filter(dispute_follow_ups::street_id.eq(d.street_id))
            .filter(dispute_follow_ups::dispute_id.eq(d.id))
            .filter(dispute_follow_ups::seq.eq(seq))
            .filter(dispute_follow_ups::done_at.is_null()),
    )
    .set((
        dispute_follow_ups::done_at.eq(Some(at)),
        dispute_follow_ups::done_by.eq(Some(by)),
        dispute_follow_ups::notes.eq(notes),
    ))
    .execute(conn)
    .await?;
    if done == 0 {
        return Ok(None);
    }
    let left: i64 = dispute_follow_ups::table
        .filter(dispute_follow_ups::street_id.eq(d.street_id))
        .filter(dispute_follow_ups::dispute_id.eq(d.id))
        .filter(dispute_follow_ups::done_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    let updated: Dispute = diesel::update(
        disputes::table
            .filter(disputes::street_id.eq(d.street_id))
            .filter(disputes::id.eq(d.id)),
    )
    .set((
        disputes::status.eq(if left == 0 {
            Status::Closed.as_str()
        } else {
            d.status.as_str()
        }),
        disputes::version.eq(disputes::version + 1),
        disputes::updated_at.eq(at),
    ))
    .returning(Dispute::as_returning())
    .get_result(conn)
    .await?;
    append_event(
        conn,
        &updated,
        NewEvent {
            step: if left == 0 { "close" } else { "follow_up" },
            from_level: None,
            to_level: None,
            reason: None,
            actor_id: by,
            data: serde_json::json!({"seq": seq}),
            at,
        },
    )
    .await?;
    Ok(Some(updated))
}
