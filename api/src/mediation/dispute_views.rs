//! What a dispute looks like to its reader: parties (phones masked),
//! sessions, follow-ups and documents.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::masking::{mask_name, mask_phone};
use onegrid_domain::mediation::{Level, Status};
use onegrid_store::files::{self, Shelf, StoredFile};
use onegrid_store::mediation::disputes::{self, Dispute, FollowUp, Party, Session};
use onegrid_store::{Conn, Principal};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::http::upload::hex;
use crate::state::AppState;

/// A party to a dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    pub id: Uuid,
    /// applicant, respondent or other.
    pub role: String,
    /// resident (of the registry), person or organisation.
    pub kind: String,
    pub resident_id: Option<Uuid>,
    /// Masked for department staff.
    pub name: String,
    /// Always masked; reveal with a purpose.
    pub phone: Option<String>,
}

/// A mediation session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub held_at: DateTime<Utc>,
    /// e.g. the community's mediation room, the 法官工作站.
    pub place: String,
    /// The level the dispute was at.
    pub level: String,
    pub mediators: Vec<String>,
    pub department_ids: Vec<Uuid>,
    pub notes: Option<String>,
    /// adjourned, agreement or failed.
    pub result: String,
    pub referral: Option<String>,
    pub agreement_document_id: Option<Uuid>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// A follow-up visit after the outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    pub seq: i16,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub notes: Option<String>,
}

/// A document of a dispute (the agreement).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

/// A dispute with its parties, sessions, documents and follow-ups.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeView {
    pub id: Uuid,
    pub number: i64,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub kind: String,
    /// grid, community, street or centre.
    pub level: Level,
    /// open, settled, referred or closed.
    pub status: Status,
    pub summary: String,
    pub case_id: Option<Uuid>,
    /// Where it was settled or referred from.
    pub settled_level: Option<String>,
    pub referral: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
    pub parties: Vec<PartyView>,
    pub sessions: Vec<SessionView>,
    pub documents: Vec<DocumentView>,
    pub follow_ups: Vec<FollowUpView>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A dispute in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeSummary {
    pub id: Uuid,
    pub number: i64,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub kind: String,
    pub level: Level,
    pub status: Status,
    pub summary: String,
    pub settled_level: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

pub(crate) fn summary(d: Dispute) -> DisputeSummary {
    DisputeSummary {
        id: d.id,
        number: d.number,
        street_id: d.street_id,
        community_id: d.community_id,
        grid_id: d.grid_id,
        kind: d.kind,
        level: d.level,
        status: d.status,
        summary: d.summary,
        settled_level: d.settled_level,
        created_at: d.created_at,
        version: d.version,
    }
}

pub(crate) fn party_view(state: &AppState, p: &Principal, party: Party) -> PartyView {
    let phone = match party.phone(&state.keys) {
        Ok(v) => v.map(|v| mask_phone(&v)),
        Err(_) => Some("***".to_owned()),
    };
    // Department staff work the matter, not the people: names masked.
    let name = if p.department_only() {
        mask_name(&party.name)
    } else {
        party.name
    };
    PartyView {
        id: party.id,
        role: party.role,
        kind: party.kind,
        resident_id: party.resident_id,
        name,
        phone,
    }
}

fn session_view(s: Session) -> SessionView {
    SessionView {
        id: s.id,
        held_at: s.held_at,
        place: s.place,
        level: s.level,
        mediators: s.mediators,
        department_ids: s.department_ids,
        notes: s.notes,
        result: s.result,
        referral: s.referral,
        agreement_document_id: s.agreement_document_id,
        recorded_by: s.recorded_by,
        recorded_at: s.recorded_at,
    }
}

fn follow_up_view(f: FollowUp) -> FollowUpView {
    FollowUpView {
        seq: f.seq,
        due_on: f.due_on,
        done_at: f.done_at,
        done_by: f.done_by,
        notes: f.notes,
    }
}

pub(crate) fn document_view(d: &StoredFile) -> DocumentView {
    DocumentView {
        id: d.id,
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        size_bytes: d.size_bytes,
        sha256: hex(&d.sha256),
        uploaded_by: d.uploaded_by,
        uploaded_at: d.uploaded_at,
    }
}

pub(crate) async fn detail(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    d: Dispute,
) -> ApiResult<DisputeView> {
    let parties = disputes::parties(c, &d).await?;
    let sessions = disputes::sessions(c, &d).await?;
    let documents = files::of(c, Shelf::DisputeDocuments, &[d.street_id], &[d.id]).await?;
    let follow_ups = disputes::follow_ups(c, &d).await?;
    Ok(DisputeView {
        id: d.id,
        number: d.number,
        street_id: d.street_id,
        community_id: d.community_id,
        grid_id: d.grid_id,
        kind: d.kind,
        level: d.level,
        status: d.status,
        summary: d.summary,
        case_id: d.case_id,
        settled_level: d.settled_level,
        referral: d.referral,
        outcome_at: d.outcome_at,
        parties: parties
            .into_iter()
            .map(|x| party_view(state, p, x))
            .collect(),
        sessions: sessions.into_iter().map(session_view).collect(),
        documents: documents.iter().map(document_view).collect(),
        follow_ups: follow_ups.into_iter().map(follow_up_view).collect(),
        created_by: d.created_by,
        created_at: d.created_at,
        updated_at: d.updated_at,
        version: d.version,
    })
}
