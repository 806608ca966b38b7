//! Disputes (矛盾纠纷): recorded with their parties (phones sealed), moved
//! up the ladder with a reason, mediated in sessions whose outcome is an
//! agreement (with its document) or a referral, then followed up by visits
//! until closed. Every change is an append-only event.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{FOLLOW_UP_DAYS, Level, Status};
use onegrid_domain::permissions::Area;
use onegrid_domain::permissions::Target;
use uuid::Uuid;

use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{
    dispute_documents, dispute_events, dispute_follow_ups, dispute_parties, disputes,
    mediation_sessions,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disputes)]
pub struct Dispute {
    pub street_id: Uuid,
    pub id: Uuid,
    pub district_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub number: i64,
    pub kind: String,
    pub level: String,
    pub status: String,
    pub summary: String,
    pub case_id: Option<Uuid>,
    pub settled_level: Option<String>,
    pub referral: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
    /// Departments ever summoned on it.
    pub summoned: Vec<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Dispute {
    /// Where the dispute sits in the hierarchy (its grid if it has one).
    pub fn target(&self) -> Target {
        match self.grid_id {
            Some(g) => Target::grid(self.district_id, self.street_id, self.community_id, g),
            None => Target::community(self.district_id, self.street_id, self.community_id),
        }
    }

    pub fn level(&self) -> Level {
        Level::parse(&self.level).unwrap_or(Level::Grid)
    }

    pub fn is_open(&self) -> bool {
        self.status == Status::Open.as_str()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_parties)]
pub struct Party {
    pub street_id: Uuid,
    pub id: Uuid,
    pub dispute_id: Uuid,
    pub role: String,
    pub kind: String,
    pub resident_id: Option<Uuid>,
    pub name: String,
    pub phone_sealed: Option<Vec<u8>>,
}

impl Party {
    fn slot(&self) -> Slot<'static> {
        Slot {
            street_id: self.street_id,
            table: "dispute_parties",
            column: "phone",
            row_id: self.id,
        }
    }

    /// The party's phone, opened.
    pub fn phone(&self, keys: &FieldKeys) -> StoreResult<Option<String>> {
        self.phone_sealed
            .as_deref()
            .map(|sealed| {
                keys.open(self.slot(), sealed)
                    .map_err(|e| StoreError::Check(format!("party {} phone: {e}", self.id)))
            })
            .transpose()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_events)]
pub struct Event {
    pub street_id: Uuid,
    pub id: Uuid,
    pub dispute_id: Uuid,
    pub step: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    pub reason: Option<String>,
    pub actor_id: Uuid,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_documents)]
pub struct Document {
    pub street_id: Uuid,
    pub id: Uuid,
    pub dispute_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: Vec<u8>,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

impl Document {
    pub fn blob_key(&self) -> String {
        // Ids only (all the blob store allows); a dispute's id never
        // collides with a case's.
        format!("{}/{}/{}", self.street_id, self.dispute_id, self.id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mediation_sessions)]
pub struct Session {
    pub street_id: Uuid,
    pub id: Uuid,
    pub dispute_id: Uuid,
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub level: String,
    pub mediators: Vec<String>,
    pub department_ids: Vec<Uuid>,
    pub notes: Option<String>,
    pub result: String,
    pub referral: Option<String>,
    pub agreement_document_id: Option<Uuid>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_follow_ups)]
pub struct FollowUp {
    pub street_id: Uuid,
    pub dispute_id: Uuid,
    pub seq: i16,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub notes: Option<String>,
}

/// A party to record.
#[derive(Debug, Clone)]
pub struct NewParty {
    pub role: &'static str,
    pub kind: &'static str,
    pub resident_id: Option<Uuid>,
    pub name: String,
    pub phone: Option<String>,
}

/// A dispute to record.
#[derive(Debug, Clone)]
pub struct NewDispute {
    pub district_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Option<Uuid>,
    pub kind: &'static str,
    pub level: Level,
    pub summary: String,
    pub case_id: Option<Uuid>,
    pub parties: Vec<NewParty>,
    pub created_by: Uuid,
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub step: &'static str,
    pub from_level: Option<Level>,
    pub to_level: Option<Level>,
    pub reason: Option<String>,
    pub actor_id: Uuid,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Appends an event to the dispute's history, and tells integrators.
pub async fn append_event(conn: &mut Conn, d: &Dispute, e: NewEvent) -> StoreResult<()> {
    diesel::insert_into(dispute_events::table)
        .values((
            dispute_events::street_id.eq(d.street_id),
            dispute_events::id.eq(Uuid::now_v7()),
            dispute_events::dispute_id.eq(d.id),
            dispute_events::step.eq(e.step),
            dispute_events::from_level.eq(e.from_level.map(Level::as_str)),
            dispute_events::to_level.eq(e.to_level.map(Level::as_str)),
            dispute_events::reason.eq(e.reason),
            dispute_events::actor_id.eq(e.actor_id),
            dispute_events::data.eq(e.data),
            dispute_events::at.eq(e.at),
        ))
        .execute(conn)
        .await?;
    crate::integrations::webhooks::emit(
        conn,
        d.district_id,
        d.street_id,
        "dispute.updated",
        serde_json::json!({
            "dispute": {
                "id": d.id, "number": d.number, "kind": d.kind, "level": d.level,
                "status": d.status, "settled_level": d.settled_level, "referral": d.referral,
                "street_id": d.street_id, "community_id": d.community_id, "grid_id": d.grid_id,
                "case_id": d.case_id, "version": d.version,
            },
            "event": {"step": e.step},
        }),
        e.at,
    )
    .await
}

/// Records a dispute with its parties (phones sealed) and its first event.
pub async fn create(
    conn: &mut Conn,
    keys: &FieldKeys,
    n: NewDispute,
    at: DateTime<Utc>,
) -> StoreResult<Dispute> {
    let d: Dispute = diesel::insert_into(disputes::table)
        .values((
            disputes::street_id.eq(n.street_id),
            disputes::id.eq(Uuid::now_v7()),
            disputes::district_id.eq(n.district_id),
            disputes::community_id.eq(n.community_id),
            disputes::grid_id.eq(n.grid_id),
            disputes::kind.eq(n.kind),
            disputes::level.eq(n.level.as_str()),
            disputes::status.eq(Status::Open.as_str()),
            disputes::summary.eq(n.summary),
            disputes::case_id.eq(n.case_id),
            disputes::created_by.eq(n.created_by),
            disputes::created_at.eq(at),
            disputes::updated_at.eq(at),
        ))
        .returning(Dispute::as_returning())
        .get_result(conn)
        .await?;
    for p in n.parties {
        let id = Uuid::now_v7();
        let slot = Slot {
            street_id: d.street_id,
            table: "dispute_parties",
            column: "phone",
            row_id: id,
        };
        diesel::insert_into(dispute_parties::table)
            .values((
                dispute_parties::street_id.eq(d.street_id),
                dispute_parties::id.eq(id),
                dispute_parties::dispute_id.eq(d.id),
                dispute_parties::role.eq(p.role),
                dispute_parties::kind.eq(p.kind),
                dispute_parties::resident_id.eq(p.resident_id),
                dispute_parties::name.eq(p.name),
                dispute_parties::phone_sealed.eq(p.phone.map(|ph| keys.seal(slot, &ph))),
            ))
            .execute(conn)
            .await?;
    }
    append_event(
        conn,
        &d,
        NewEvent {
            step: "record",
            from_level: None,
            to_level: Some(n.level),
            reason: None,
            actor_id: n.created_by,
            data: serde_json::json!({}),
            at,
        },
    )
    .await?;
    Ok(d)
}

pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Dispute> {
    Ok(disputes::table
        .filter(disputes::id.eq(id))
        .select(Dispute::as_select())
        .first(conn)
        .await?)
}

/// Filters of the dispute list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Where the caller may read disputes; a department's grant reads what
    /// the wall shows it (disputes whistled to the department).
    pub area: Area,
    pub status: Option<String>,
    pub level: Option<String>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
}

/// Disputes visible to the caller, newest first.
pub async fn list(conn: &mut Conn, f: &Filter, page: &PageRequest) -> StoreResult<Page<Dispute>> {
    let mut q = disputes::table
        .select(Dispute::as_select())
        .order(disputes::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    let a = &f.area;
    if !a.everywhere && a.departments.is_empty() {
        q = q.filter(
            disputes::street_id
                .eq_any(a.streets.clone())
                .or(disputes::community_id.eq_any(a.communities.clone()))
                .or(disputes::grid_id.eq_any(a.grids.clone()).assume_not_null()),
        );
    }
    if let Some(s) = &f.status {
        q = q.filter(disputes::status.eq(s.clone()));
    }
    if let Some(l) = &f.level {
        q = q.filter(disputes::level.eq(l.clone()));
    }
    if let Some(c) = f.community_id {
        q = q.filter(disputes::community_id.eq(c));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(disputes::grid_id.eq(g));
    }
    if let Some(after) = page.after {
        q = q.filter(disputes::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |d| d.id))
}

/// Disputes by id (those visible to the caller).
pub async fn get_many(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<Dispute>> {
    Ok(disputes::table
        .filter(disputes::id.eq_any(ids))
        .select(Dispute::as_select())
        .load(conn)
        .await?)
}

/// The parties of several disputes at once.
pub async fn parties_of(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<Party>> {
    Ok(dispute_parties::table
        .filter(dispute_parties::dispute_id.eq_any(ids))
        .select(Party::as_select())
        .order(dispute_parties::id)
        .load(conn)
        .await?)
}

pub async fn parties(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Party>> {
    Ok(dispute_parties::table
        .filter(dispute_parties::street_id.eq(d.street_id))
        .filter(dispute_parties::dispute_id.eq(d.id))
        .select(Party::as_select())
        .order(dispute_parties::id)
        .load(conn)
        .await?)
}

pub async fn events(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Event>> {
    Ok(dispute_events::table
        .filter(dispute_events::street_id.eq(d.street_id))
        .filter(dispute_events::dispute_id.eq(d.id))
        .select(Event::as_select())
        .order(dispute_events::id)
        .load(conn)
        .await?)
}

/// Why a dispute change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Someone changed it first.
    Version(i32),
    /// Not while the dispute is in this status.
    Status(String),
    /// Already at the top of the ladder.
    Top,
}

/// Moves an open dispute one level up, with a reason.
pub async fn escalate(
    conn: &mut Conn,
    d: &Dispute,
    version: i32,
    reason: String,
    actor: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Result<Dispute, Refused>> {
    if !d.is_open() {
        return Ok(Err(Refused::Status(d.status.clone())));
    }
    let Some(up) = d.level().up() else {
        return Ok(Err(Refused::Top));
    };
    let moved: Option<Dispute> = diesel::update(
        disputes::table
            .filter(disputes::street_id.eq(d.street_id))
            .filter(disputes::id.eq(d.id))
            .filter(disputes::version.eq(version))
            .filter(disputes::status.eq(Status::Open.as_str())),
    )
    .set((
        disputes::level.eq(up.as_str()),
        disputes::version.eq(disputes::version + 1),
        disputes::updated_at.eq(at),
    ))
    .returning(Dispute::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(moved) = moved else {
        return Ok(Err(Refused::Version(d.version)));
    };
    append_event(
        conn,
        &moved,
        NewEvent {
            step: "escalate",
            from_level: Some(d.level()),
            to_level: Some(up),
            reason: Some(reason),
            actor_id: actor,
            data: serde_json::json!({}),
            at,
        },
    )
    .await?;
    Ok(Ok(moved))
}

/// Records a document of a dispute (bytes already in the blob store).
pub async fn add_document(conn: &mut Conn, doc: &Document) -> StoreResult<()> {
    diesel::insert_into(dispute_documents::table)
        .values((
            dispute_documents::street_id.eq(doc.street_id),
            dispute_documents::id.eq(doc.id),
            dispute_documents::dispute_id.eq(doc.dispute_id),
            dispute_documents::file_name.eq(&doc.file_name),
            dispute_documents::content_type.eq(&doc.content_type),
            dispute_documents::size_bytes.eq(doc.size_bytes),
            dispute_documents::sha256.eq(&doc.sha256),
            dispute_documents::uploaded_by.eq(doc.uploaded_by),
            dispute_documents::uploaded_at.eq(doc.uploaded_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn documents(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Document>> {
    Ok(dispute_documents::table
        .filter(dispute_documents::street_id.eq(d.street_id))
        .filter(dispute_documents::dispute_id.eq(d.id))
        .select(Document::as_select())
        .order(dispute_documents::id)
        .load(conn)
        .await?)
}

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub mediators: Vec<String>,
    pub department_ids: Vec<Uuid>,
    pub notes: Option<String>,
    /// adjourned, agreement or failed.
    pub result: &'static str,
    pub referral: Option<&'static str>,
    pub agreement_document_id: Option<Uuid>,
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
        return Ok(Err(Refused::Status(d.status.clone())));
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
            .filter(disputes::status.eq(Status::Open.as_str())),
    )
    .set((
        disputes::status.eq(status.unwrap_or(Status::Open).as_str()),
        disputes::settled_level.eq(status.map(|_| d.level.clone())),
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

pub async fn sessions(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Session>> {
    Ok(mediation_sessions::table
        .filter(mediation_sessions::street_id.eq(d.street_id))
        .filter(mediation_sessions::dispute_id.eq(d.id))
        .select(Session::as_select())
        .order(mediation_sessions::id)
        .load(conn)
        .await?)
}

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
