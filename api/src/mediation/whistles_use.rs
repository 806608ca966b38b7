//! The use case of blowing the whistle (街道吹哨): on an open dispute that
//! has reached the street, or an open case, the street summons departments
//! of the district's panel; the dispute's or case's history records it. It
//! knows no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::mediation::{Level, WhistleReason};
use onegrid_store::cases::Case;
use onegrid_store::mediation::disputes::Dispute;
use onegrid_store::mediation::whistles::{self, NewWhistle, Whistle};
use onegrid_store::{Conn, Principal, cases, mediation::disputes};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError};

/// A whistle to blow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhistleBody {
    /// A dispute at the street (or the centre); or give `case_id`.
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: WhistleReason,
    /// What the street asks of the departments (1 to 500 characters).
    pub summary: String,
    /// Departments of the district's panel, 1 or more.
    pub department_ids: Vec<Uuid>,
}

/// 422 naming every field of `body` that needs no database to refuse.
pub fn check_body(body: &WhistleBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    if body.dispute_id.is_some() == body.case_id.is_some() {
        errors.push(FieldError {
            field: "dispute_id".into(),
            message: "give a dispute_id or a case_id".into(),
        });
    }
    if body.summary.trim().is_empty() || body.summary.chars().count() > 500 {
        errors.push(FieldError {
            field: "summary".into(),
            message: "1 to 500 characters".into(),
        });
    }
    let mut distinct = body.department_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if body.department_ids.is_empty() || distinct.len() != body.department_ids.len() {
        errors.push(FieldError {
            field: "department_ids".into(),
            message: "one or more distinct departments".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Blows the whistle on dispute `d`: 409 unless it is open and at the
/// street or above.
pub async fn on_dispute(
    c: &mut Conn,
    p: &Principal,
    d: Dispute,
    body: WhistleBody,
    now: DateTime<Utc>,
) -> ApiResult<Whistle> {
    if !d.is_open() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("the dispute is {}", d.status),
        ));
    }
    if d.level < Level::Street {
        return Err(ApiError::new(
            Code::Conflict,
            "the dispute is still at the grid or community: move it up to the street first",
        ));
    }
    blow(c, p, d.street_id, body, now).await
}

/// Blows the whistle on `case`: 409 unless it is open.
pub async fn on_case(
    c: &mut Conn,
    p: &Principal,
    case: Case,
    body: WhistleBody,
    now: DateTime<Utc>,
) -> ApiResult<Whistle> {
    if !case.status.is_open() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("the case is {}", case.status),
        ));
    }
    blow(c, p, case.street_id, body, now).await
}

/// Summons the panel departments of `body` on the street's dispute or case.
async fn blow(
    c: &mut Conn,
    p: &Principal,
    street: Uuid,
    body: WhistleBody,
    now: DateTime<Utc>,
) -> ApiResult<Whistle> {
    let settings = whistles::settings(c, p.district_id).await?;
    if let Some(bad) = body
        .department_ids
        .iter()
        .find(|d| !settings.panel.contains(d))
    {
        return Err(ApiError::new(
            Code::InvalidReference,
            format!("department_ids: {bad} is not on the district's mediation panel"),
        ));
    }
    let (w, _) = whistles::blow(
        c,
        NewWhistle {
            district_id: p.district_id,
            street_id: street,
            dispute_id: body.dispute_id,
            case_id: body.case_id,
            reason: body.reason,
            summary: body.summary.trim().to_owned(),
            departments: body.department_ids,
            blown_by: p.accountable_user(),
        },
        settings.windows(),
        now,
    )
    .await?;
    let data = serde_json::json!({"whistle_id": w.id, "reason": w.reason});
    if let Some(id) = w.dispute_id {
        let d = disputes::get(c, id).await?;
        disputes::append_event(
            c,
            &d,
            disputes::NewEvent {
                step: "whistle",
                from_level: None,
                to_level: None,
                reason: Some(w.summary.clone()),
                actor_id: p.accountable_user(),
                data,
                at: now,
            },
        )
        .await?;
    } else if let Some(id) = w.case_id {
        let case = cases::get_case(c, id).await?;
        let calendar = onegrid_store::cases::setup::calendar(c, p.district_id).await?;
        let actor = cases::Actor {
            id: p.accountable_user(),
            kind: "user",
        };
        let note = cases::note(&case, "whistle", actor, data, now, &calendar);
        cases::record_step(c, &case, case.version, note).await?;
    }
    Ok(w)
}
