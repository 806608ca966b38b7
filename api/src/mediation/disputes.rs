//! Disputes (矛盾纠纷): record one with its parties, move it up the ladder
//! with a reason, attach the agreement, record mediation sessions and their
//! outcome, complete the follow-up visits; parties' phones are sealed, shown
//! masked and revealed only with a purpose (audited). Department staff see a
//! dispute only when it was whistled to their department, with names masked.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::masking::{mask_name, mask_phone};
use onegrid_domain::mediation::{Kind, Level, Referral};
use onegrid_domain::permissions::{Action, Area, Target, area};
use onegrid_store::mediation::disputes::{
    self, Dispute, Document, Event, FollowUp, NewDispute, NewParty, NewSession, Party, Refused,
    Session,
};
use onegrid_store::{
    Conn, Principal, StoreError, cases, platform::audit, registry::hierarchy, registry::households,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::upload::hex;
use crate::http::{IfMatch, PageQuery, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Guard};

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
    pub level: String,
    /// open, settled, referred or closed.
    pub status: String,
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
    pub level: String,
    pub status: String,
    pub summary: String,
    pub settled_level: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

fn summary(d: Dispute) -> DisputeSummary {
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

fn document_view(d: &Document) -> DocumentView {
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

/// Whether the caller may act on a dispute: at its grid or community, or -
/// for department staff, whom the wall shows only disputes whistled to their
/// departments - as one of those departments.
fn may(p: &Principal, action: Action, d: &Dispute) -> bool {
    let base = d.target();
    p.can(action, &base)
        || p.departments().into_iter().any(|department| {
            p.can(
                action,
                &Target {
                    department: Some(department),
                    ..base
                },
            )
        })
}

/// Loads a dispute the caller may act on with `action`.
pub(crate) async fn load(
    c: &mut Conn,
    p: &Principal,
    id: Uuid,
    action: Action,
) -> ApiResult<Dispute> {
    let d = disputes::get(c, id).await?;
    if may(p, action, &d) {
        Ok(d)
    } else {
        Err(ApiError::forbidden(
            onegrid_domain::permissions::rule(action).name,
        ))
    }
}

async fn detail(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    d: Dispute,
) -> ApiResult<DisputeView> {
    let parties = disputes::parties(c, &d).await?;
    let sessions = disputes::sessions(c, &d).await?;
    let documents = disputes::documents(c, &d).await?;
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

/// A party to record: a resident of the registry, or a person or organisation by name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// applicant, respondent or other.
    pub role: PartyRole,
    pub resident_id: Option<Uuid>,
    /// For a person or organisation (a resident's name comes from the registry).
    pub name: Option<String>,
    /// Organisation rather than person (ignored for a resident).
    #[serde(default)]
    pub organisation: bool,
    /// Sealed at once; shown masked.
    pub phone: Option<String>,
}

/// A party's side.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Applicant,
    Respondent,
    Other,
}

impl PartyRole {
    const fn as_str(self) -> &'static str {
        match self {
            PartyRole::Applicant => "applicant",
            PartyRole::Respondent => "respondent",
            PartyRole::Other => "other",
        }
    }
}

/// A dispute to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    /// The grid it arose in (or give `community_id`).
    pub grid_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub kind: Kind,
    /// Where it is handled first (default: grid with a grid, else community).
    pub level: Option<Level>,
    pub summary: String,
    /// The case it came from.
    pub case_id: Option<Uuid>,
    pub parties: Vec<PartyBody>,
}

fn check_body(body: &DisputeBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: String, message: &str| {
        errors.push(FieldError {
            field,
            message: message.into(),
        });
    };
    if body.summary.trim().is_empty() || body.summary.chars().count() > 2000 {
        push("summary".into(), "1 to 2000 characters");
    }
    if body.grid_id.is_none() && body.community_id.is_none() {
        push("grid_id".into(), "give grid_id or community_id");
    }
    if body.level == Some(Level::Grid) && body.grid_id.is_none() {
        push("level".into(), "a grid-level dispute names its grid");
    }
    if body.parties.is_empty() || body.parties.len() > 20 {
        push("parties".into(), "1 to 20 parties");
    }
    for (i, party) in body.parties.iter().enumerate() {
        match (&party.resident_id, &party.name) {
            (Some(_), Some(_)) => push(
                format!("parties[{i}].name"),
                "a resident's name comes from the registry",
            ),
            (None, None) => push(format!("parties[{i}].name"), "give a resident_id or a name"),
            (None, Some(n)) if n.trim().is_empty() || n.chars().count() > 100 => {
                push(format!("parties[{i}].name"), "1 to 100 characters");
            }
            _ => {}
        }
        if let Some(phone) = &party.phone
            && onegrid_domain::identity::normalize_phone(phone).is_none()
        {
            push(format!("parties[{i}].phone"), "not a phone number");
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Record a dispute
///
/// With its parties (residents of the registry, or persons and organisations
/// by name; phones sealed) and, if it came from a case, the case. It starts
/// at the grid (with a grid) or the community's mediation room.
#[utoipa::path(tag = "mediation", request_body = DisputeBody, responses((status = 201, body = DisputeView)))]
#[post("/disputes")]
pub async fn create_dispute(
    state: Data<AppState>,
    caller: Caller,
    body: Json<DisputeBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_body(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let (street, community, grid) = match body.grid_id {
                    Some(g) => {
                        let grid = hierarchy::get_grid(c, g)
                            .await
                            .map_err(reference("grid_id"))?;
                        (grid.street_id, grid.community_id, Some(grid.id))
                    }
                    None => {
                        let id = body.community_id.unwrap_or_default();
                        let community = hierarchy::get_community(c, id)
                            .await
                            .map_err(reference("community_id"))?;
                        (community.street_id, community.id, None)
                    }
                };
                let level = body.level.unwrap_or(if grid.is_some() {
                    Level::Grid
                } else {
                    Level::Community
                });
                let at = match grid {
                    Some(g) => Target::grid(p.district_id, street, community, g),
                    None => Target::community(p.district_id, street, community),
                };
                p.require(Action::DisputeRecord, &at)?;
                if let Some(case_id) = body.case_id {
                    let case = cases::get_case(c, case_id)
                        .await
                        .map_err(reference("case_id"))?;
                    if case.street_id != street {
                        return Err(ApiError::new(
                            Code::InvalidReference,
                            "case_id is a case of another street",
                        ));
                    }
                }
                let mut parties = Vec::with_capacity(body.parties.len());
                for (i, party) in body.parties.into_iter().enumerate() {
                    let phone = party
                        .phone
                        .as_deref()
                        .and_then(onegrid_domain::identity::normalize_phone);
                    let new = match party.resident_id {
                        Some(r) => {
                            let field = format!("parties[{i}].resident_id");
                            let resident = households::get_resident(c, r)
                                .await
                                .map_err(reference(&field))?;
                            crate::cases::filing::readable(c, &p, resident.grid_id, &field).await?;
                            NewParty {
                                role: party.role.as_str(),
                                kind: "resident",
                                resident_id: Some(resident.id),
                                name: resident.name,
                                phone,
                            }
                        }
                        None => NewParty {
                            role: party.role.as_str(),
                            kind: if party.organisation {
                                "organisation"
                            } else {
                                "person"
                            },
                            resident_id: None,
                            name: party.name.unwrap_or_default().trim().to_owned(),
                            phone,
                        },
                    };
                    parties.push(new);
                }
                let d = disputes::create(
                    c,
                    &st.keys,
                    NewDispute {
                        district_id: p.district_id,
                        street_id: street,
                        community_id: community,
                        grid_id: grid,
                        kind: body.kind.as_str(),
                        level,
                        summary: body.summary.trim().to_owned(),
                        case_id: body.case_id,
                        parties,
                        created_by: p.accountable_user(),
                    },
                    now,
                )
                .await?;
                detail(&st, c, &p, d).await
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/disputes/{}", view.id)))
        .insert_header(("etag", crate::http::etag(view.version)))
        .json(view))
}

/// Filters of the dispute list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisputeQuery {
    /// open, settled, referred or closed.
    pub status: Option<String>,
    /// grid, community, street or centre.
    pub level: Option<Level>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// List disputes
///
/// The disputes of the caller's scope (department staff: those whistled to
/// their department), newest first.
#[utoipa::path(tag = "mediation", params(DisputeQuery), responses((status = 200, body = Paged<DisputeSummary>)))]
#[get("/disputes")]
pub async fn list_disputes(
    state: Data<AppState>,
    caller: Caller,
    q: Query<DisputeQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.status
        .as_deref()
        .is_some_and(|s| onegrid_domain::mediation::Status::parse(s).is_none())
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "status is open, settled, referred or closed",
        ));
    }
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    }
    .request()?;
    let mut filter = disputes::Filter {
        area: Area::default(),
        status: q.status,
        level: q.level.map(|l| l.as_str().to_owned()),
        community_id: q.community_id,
        grid_id: q.grid_id,
    };
    let rows = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                if !p.can_anywhere(Action::DisputeRead) && !p.can_anywhere(Action::SummonsRead) {
                    return Err(ApiError::new(
                        Code::Forbidden,
                        "reading disputes needs dispute.read",
                    ));
                }
                filter.area = area(&p.grants, Action::DisputeRead)
                    .union(area(&p.grants, Action::SummonsRead));
                Ok(disputes::list(c, &filter, &page).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, summary)))
}

/// Read a dispute
///
/// With its parties (phones masked; names masked for department staff),
/// sessions, documents and follow-up visits. The ETag is its version.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), responses((status = 200, body = DisputeView)))]
#[get("/disputes/{dispute_id}")]
pub async fn get_dispute(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = disputes::get(c, id).await?;
                if !may(&p, Action::DisputeRead, &d) {
                    load(c, &p, id, Action::SummonsRead).await?;
                }
                detail(&st, c, &p, d).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

fn refused(r: Refused) -> ApiError {
    match r {
        Refused::Version(current) => StoreError::VersionMismatch { current }.into(),
        Refused::Status(s) => {
            ApiError::new(Code::Conflict, format!("not while the dispute is {s}"))
        }
        Refused::Top => ApiError::new(
            Code::Conflict,
            "the dispute is already at the mediation centre, the top of the ladder",
        ),
    }
}

/// Why a dispute moves up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub reason: String,
}

/// Move a dispute up a level
///
/// Grid → community mediation room → street → centre, with a reason, under If-Match.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), request_body = EscalateBody, responses((status = 200, body = DisputeView)))]
#[post("/disputes/{dispute_id}/escalate")]
pub async fn escalate_dispute(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<EscalateBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "1 to 500 characters"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRecord).await?;
                let version = if_match.version()?;
                let moved = disputes::escalate(c, &d, version, reason, p.accountable_user(), now)
                    .await?
                    .map_err(refused)?;
                detail(&st, c, &p, moved).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// A dispute's event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub step: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    pub reason: Option<String>,
    pub actor_id: Uuid,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

fn event_view(e: Event) -> EventView {
    EventView {
        step: e.step,
        from_level: e.from_level,
        to_level: e.to_level,
        reason: e.reason,
        actor_id: e.actor_id,
        data: e.data,
        at: e.at,
    }
}

/// A dispute's history
///
/// Every step (recorded, moved up, sessions, settled or referred, visits,
/// whistled) in order; it cannot be edited.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id")), responses((status = 200, body = Vec<EventView>)))]
#[get("/disputes/{dispute_id}/events")]
pub async fn dispute_events(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRead).await?;
                Ok(disputes::events(c, &d).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(event_view).collect::<Vec<_>>()))
}

/// The upload's display name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    /// Shown to staff; defaults to `agreement`.
    pub name: Option<String>,
}

/// Attach a document to a dispute
///
/// The mediation agreement (调解协议书), a scan or PDF: the body is the file
/// with its Content-Type (JPEG, PNG, WebP or PDF, matching the bytes), at
/// most `ONEGRID_ATTACHMENT_MAX_BYTES`. Name it in a session's outcome.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), DocumentQuery), request_body(content = Vec<u8>, content_type = "application/pdf", description = "The file (JPEG, PNG, WebP or PDF)"), responses((status = 201, body = DocumentView)))]
#[post("/disputes/{dispute_id}/documents")]
pub async fn upload_document(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: Path<Uuid>,
    q: Query<DocumentQuery>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let permitted = crate::http::permit(&state, &caller, move |c, p| {
        Box::pin(async move { load(c, &p, id, Action::DisputeRecord).await.map(|_| ()) })
    })
    .await?;
    let upload = crate::http::upload::read(
        &state,
        &req,
        payload,
        q.into_inner().name,
        "agreement",
        "documents",
        &permitted,
    )
    .await?;
    let now = state.clock.now();
    let st = state.clone();
    let doc = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRecord).await?;
                if disputes::documents(c, &d).await?.len() >= 20 {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "a dispute holds at most 20 documents",
                    ));
                }
                let doc = Document {
                    street_id: d.street_id,
                    id: Uuid::now_v7(),
                    dispute_id: d.id,
                    file_name: upload.name,
                    content_type: upload.content_type,
                    size_bytes: upload.size,
                    sha256: upload.sha256,
                    uploaded_by: p.accountable_user(),
                    uploaded_at: now,
                };
                crate::http::upload::keep(
                    &st,
                    &doc.blob_key(),
                    &upload.bytes,
                    disputes::add_document(c, &doc),
                )
                .await?;
                Ok(doc)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/disputes/{}/documents/{}", doc.dispute_id, doc.id),
        ))
        .json(document_view(&doc)))
}

/// Download a dispute's document
///
/// The stored bytes, checked against their SHA-256 on the way out.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("document_id" = Uuid, Path, description = "Document id")), responses((status = 200, description = "The file", content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp")))))]
#[get("/disputes/{dispute_id}/documents/{document_id}")]
pub async fn download_document(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, document_id) = ids.into_inner();
    let doc = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRead).await?;
                disputes::documents(c, &d)
                    .await?
                    .into_iter()
                    .find(|x| x.id == document_id)
                    .ok_or_else(|| StoreError::NotFound.into())
            })
        })
        .await?;
    crate::http::upload::serve(
        &state,
        &doc.blob_key(),
        &doc.sha256,
        &doc.content_type,
        &doc.file_name,
    )
    .await
}

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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRecord).await?;
                let version = if_match.version()?;
                if let Some(doc) = body.agreement_document_id
                    && !disputes::documents(c, &d)
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
        })
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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputeRecord).await?;
                let follow_ups = disputes::follow_ups(c, &d).await?;
                if !follow_ups.iter().any(|f| f.seq == seq) {
                    return Err(StoreError::NotFound.into());
                }
                let updated =
                    disputes::complete_follow_up(c, &d, seq, p.accountable_user(), body.notes, now)
                        .await?
                        .ok_or_else(|| {
                            ApiError::new(
                                Code::Conflict,
                                format!("visit {seq} was already recorded"),
                            )
                        })?;
                detail(&st, c, &p, updated).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Why a phone is revealed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// Recorded in the audit log (at least 4 characters).
    pub purpose: String,
}

/// A revealed phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyRevealed {
    pub party_id: Uuid,
    pub phone: Option<String>,
}

/// Reveal a party's phone
///
/// With a stated purpose; rate-limited and audited (the audit records who,
/// why and which party, never the number). Department staff only on
/// disputes whistled to their department.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("party_id" = Uuid, Path, description = "Party id")), request_body = RevealBody, responses((status = 200, body = PartyRevealed)))]
#[post("/disputes/{dispute_id}/parties/{party_id}/reveal")]
pub async fn reveal_party(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
    body: Json<RevealBody>,
) -> ApiResult<HttpResponse> {
    let ((id, party_id), body) = (ids.into_inner(), body.into_inner());
    crate::http::check_purpose(&body.purpose)?;
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let revealed = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let d = load(c, &p, id, Action::DisputePartyReveal).await?;
                let party = disputes::parties(c, &d)
                    .await?
                    .into_iter()
                    .find(|x| x.id == party_id)
                    .ok_or(StoreError::NotFound)?;
                st.reveals.take(c, p.id(), p.now).await?;
                let phone = party.phone(&st.keys).map_err(|e| {
                    ApiError::new(Code::Internal, format!("cannot open phone: {e}"))
                })?;
                audit::record(
                    c,
                    &p,
                    audit::Event {
                        street_id: Some(d.street_id),
                        action: "dispute.party_reveal",
                        subject_type: "dispute_party",
                        subject_id: Some(party.id),
                        field: Some("phone"),
                        purpose: Some(&body.purpose),
                        request_id: &request_id,
                        details: serde_json::json!({"dispute_id": d.id}),
                    },
                )
                .await?;
                Ok(PartyRevealed {
                    party_id: party.id,
                    phone,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(revealed))
}
