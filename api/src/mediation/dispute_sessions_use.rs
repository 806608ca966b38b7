//! The use cases of a dispute's mediation sessions (调解) and follow-up
//! visits (回访): a session names documents of its dispute and departments
//! of the district; an agreement settles, a failure refers on, and both
//! schedule the visits; the last visit closes the dispute. They know no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::mediation::Referral;
use onegrid_store::files::{self, Shelf};
use onegrid_store::mediation::disputes::{self, Dispute, NewSession};
use onegrid_store::{Conn, Principal, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::disputes_use::refused;
use crate::http::error::{ApiError, ApiResult, Code, FieldError};

/// How a session ended.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionResult {
    /// Another session will follow.
    Adjourned,
    /// A mediation agreement: the dispute is settled at its level.
    Agreement,
    /// Mediation failed: the dispute is referred on.
    Failed,
}

/// A mediation session to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub mediators: Vec<String>,
    /// Departments that took part.
    #[serde(default)]
    pub department_ids: Vec<Uuid>,
    pub notes: Option<String>,
    pub result: SessionResult,
    /// For `failed`: where it goes.
    pub referral: Option<Referral>,
    /// For `agreement`: the signed agreement (uploaded to the dispute first).
    pub agreement_document_id: Option<Uuid>,
}

/// 422 naming every field of a session that needs no database to refuse.
pub fn check_session(b: &SessionBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    if b.place.trim().is_empty() || b.place.chars().count() > 100 {
        push("place", "1 to 100 characters");
    }
    if b.mediators.is_empty()
        || b.mediators.len() > 20
        || b.mediators
            .iter()
            .any(|m| m.trim().is_empty() || m.chars().count() > 50)
    {
        push("mediators", "1 to 20 names of 1 to 50 characters");
    }
    if b.notes.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        push("notes", "at most 4000 characters");
    }
    match (
        b.result,
        b.referral.is_some(),
        b.agreement_document_id.is_some(),
    ) {
        (SessionResult::Agreement, _, false) => {
            push("agreement_document_id", "an agreement names its document");
        }
        (SessionResult::Failed, false, _) => push("referral", "say where it is referred"),
        (SessionResult::Agreement | SessionResult::Adjourned, true, _) => {
            push("referral", "only a failed mediation is referred");
        }
        (SessionResult::Failed | SessionResult::Adjourned, _, true) => {
            push("agreement_document_id", "only an agreement has a document");
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Records session `body` on `d` at `version` as `p`.
pub async fn record(
    c: &mut Conn,
    p: &Principal,
    (d, version): (&Dispute, i32),
    body: SessionBody,
    now: DateTime<Utc>,
) -> ApiResult<Dispute> {
    if let Some(doc) = body.agreement_document_id
        && !files::of(c, Shelf::DisputeDocuments, &[d.street_id], &[d.id])
            .await?
            .iter()
            .any(|x| x.id == doc)
    {
        return Err(ApiError::new(
            Code::InvalidReference,
            "agreement_document_id is not a document of this dispute",
        ));
    }
    if let Some(bad) = onegrid_store::registry::departments::unknown(c, &body.department_ids)
        .await?
        .first()
    {
        return Err(ApiError::new(
            Code::InvalidReference,
            format!("department_ids: {bad} is not a department of the district"),
        ));
    }
    let session = NewSession {
        held_at: body.held_at,
        place: body.place.trim().to_owned(),
        mediators: body.mediators.iter().map(|m| m.trim().to_owned()).collect(),
        department_ids: body.department_ids,
        notes: body.notes,
        result: match body.result {
            SessionResult::Adjourned => "adjourned",
            SessionResult::Agreement => "agreement",
            SessionResult::Failed => "failed",
        },
        referral: body.referral.map(Referral::as_str),
        agreement_document_id: body.agreement_document_id,
        recorded_by: p.accountable_user(),
    };
    let (_, updated) = disputes::record_session(c, d, version, session, now)
        .await?
        .map_err(refused)?;
    Ok(updated)
}

/// Notes of a follow-up visit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    pub notes: Option<String>,
}

/// 422 unless the notes fit in 2000 characters.
pub fn check_follow_up(body: &FollowUpBody) -> ApiResult<()> {
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 2000)
    {
        return Err(ApiError::field("notes", "at most 2000 characters"));
    }
    Ok(())
}

/// Records visit `seq` of `d` as done by `p`; 404 for a visit `d` does not
/// have, 409 for one already recorded.
pub async fn complete_follow_up(
    c: &mut Conn,
    p: &Principal,
    (d, seq): (&Dispute, i16),
    body: FollowUpBody,
    now: DateTime<Utc>,
) -> ApiResult<Dispute> {
    let follow_ups = disputes::follow_ups(c, d).await?;
    if !follow_ups.iter().any(|f| f.seq == seq) {
        return Err(StoreError::NotFound.into());
    }
    let updated =
        disputes::complete_follow_up(c, d, seq, p.accountable_user(), body.notes, now).await?;
    updated
        .ok_or_else(|| ApiError::new(Code::Conflict, format!("visit {seq} was already recorded")))
}
