//! Mediation sessions (调解) with their outcome, and the follow-ups (回访)
//! a settled dispute schedules.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::Referral;
use onegrid_domain::permissions::Action;
use onegrid_store::StoreError;
use onegrid_store::files::{self, Shelf};
use onegrid_store::mediation::disputes::{self, NewSession};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dispute_views::{DisputeView, detail};
use super::disputes::refused;
use crate::http::error::{ApiError, ApiResult, Code, FieldError};
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

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

fn check_session(b: &SessionBody) -> ApiResult<()> {
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

/// Record a mediation session
///
/// Under If-Match. `agreement` settles the dispute where it stands (its
/// agreement document uploaded first); `failed` refers it to the court,
/// arbitration or petitions; both schedule three follow-up visits (after 7,
/// 30 and 90 days). `adjourned` changes nothing but the record.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), request_body = SessionBody, responses((status = 201, body = DisputeView)))]
#[post("/disputes/{dispute_id}/sessions")]
pub async fn record_session(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<SessionBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    check_session(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::DisputeRecord,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, p, d| {
                Box::pin(async move {
                    let version = if_match.version()?;
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
                    if let Some(bad) =
                        onegrid_store::registry::departments::unknown(c, &body.department_ids)
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
                    let (_, updated) = disputes::record_session(c, &d, version, session, now)
                        .await?
                        .map_err(refused)?;
                    detail(&st, c, &p, updated).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("etag", crate::http::etag(view.version)))
        .json(view))
}

/// Notes of a follow-up visit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    pub notes: Option<String>,
}

/// Record a follow-up visit
///
/// Visit `seq` (1, 2, 3) is done; the last one closes the dispute. 409 if it
/// was already recorded.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("seq" = i16, Path, description = "Visit number")), request_body = FollowUpBody, responses((status = 200, body = DisputeView)))]
#[post("/disputes/{dispute_id}/follow-ups/{seq}/complete")]
pub async fn complete_follow_up(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, i16)>,
    body: Json<FollowUpBody>,
) -> ApiResult<HttpResponse> {
    let ((id, seq), body) = (ids.into_inner(), body.into_inner());
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 2000)
    {
        return Err(ApiError::field("notes", "at most 2000 characters"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::DisputeRecord,
            move |c| Box::pin(disputes::get(c, id)),
            move |c, p, d| {
                Box::pin(async move {
                    let follow_ups = disputes::follow_ups(c, &d).await?;
                    if !follow_ups.iter().any(|f| f.seq == seq) {
                        return Err(StoreError::NotFound.into());
                    }
                    let updated = disputes::complete_follow_up(
                        c,
                        &d,
                        seq,
                        p.accountable_user(),
                        body.notes,
                        now,
                    )
                    .await?
                    .ok_or_else(|| {
                        ApiError::new(Code::Conflict, format!("visit {seq} was already recorded"))
                    })?;
                    detail(&st, c, &p, updated).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}
