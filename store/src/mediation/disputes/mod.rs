//! Disputes (矛盾纠纷): recorded with their parties (phones sealed), moved
//! up the ladder with a reason, mediated in sessions whose outcome is an
//! agreement (with its document) or a referral, then followed up by visits
//! until closed. Every change is an append-only event.

mod sessions;

pub use sessions::{NewSession, complete_follow_up, follow_ups, record_session, sessions};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{Level, Status};
use onegrid_domain::permissions::Area;
use uuid::Uuid;

use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{
    dispute_events, dispute_follow_ups, dispute_parties, disputes, mediation_sessions,
};

/// A dispute (矛盾纠纷) and where it stands on the ladder.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disputes)]
pub struct Dispute {
    /// The dispute's street.
    pub street_id: Uuid,
    /// The dispute's id (UUIDv7, time-ordered).
    pub id: Uuid,
    /// The district (whose centre is the ladder's top).
    pub district_id: Uuid,
    /// The community it arose in.
    pub community_id: Uuid,
    /// The grid it arose in, if known.
    pub grid_id: Option<Uuid>,
    /// Its number, from one platform-wide sequence, unique in the street.
    pub number: i64,
    /// What it is about: `neighbour`, `family`, `property`, `labour`, `land`, `contract`,
    /// `damages` or `other`.
    pub kind: String,
    /// The rung it is handled at now: grid, community, street or centre.
    pub level: Level,
    /// Open, settled, referred or closed.
    pub status: Status,
    /// What it is about, 1 to 2,000 characters.
    pub summary: String,
    /// The case it came from, if any.
    pub case_id: Option<Uuid>,
    /// The level it ended at (the level at the outcome); `None` while open.
    pub settled_level: Option<String>,
    /// Where it was referred: `court`, `arbitration` or `petition`; set when referred.
    pub referral: Option<String>,
    /// When it was settled or referred; `None` while open.
    pub outcome_at: Option<DateTime<Utc>>,
    /// Departments ever summoned on it.
    pub summoned: Vec<Uuid>,
    /// The user who recorded it.
    pub created_by: Uuid,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version, bumped by every change.
    pub version: i32,
}

impl Dispute {
    /// Being mediated at its level.
    pub fn is_open(&self) -> bool {
        self.status == Status::Open
    }
}

/// A party to a dispute: a resident of the registry, or a person or organisation named.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_parties)]
pub struct Party {
    /// The dispute's street.
    pub street_id: Uuid,
    /// The party's id (UUIDv7).
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// `applicant`, `respondent` or `other`.
    pub role: String,
    /// `resident` (of the registry), `person` or `organisation`.
    pub kind: String,
    /// The resident, set exactly when `kind` is `resident`.
    pub resident_id: Option<Uuid>,
    /// The party's name, 1 to 100 characters.
    pub name: String,
    /// The phone, sealed to this row; open it with [`Party::phone`]. `None`: not given.
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

/// One entry of a dispute's append-only history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_events)]
pub struct Event {
    /// The dispute's street.
    pub street_id: Uuid,
    /// The event's id (UUIDv7, so id order is time order).
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// What happened: `record`, `escalate`, `session`, `settle`, `refer`, `whistle`,
    /// `follow_up` or `close`.
    pub step: String,
    /// The level before, for a move on the ladder.
    pub from_level: Option<String>,
    /// The level after, for a move on the ladder (and the first level, for `record`).
    pub to_level: Option<String>,
    /// Why, up to 500 characters (required to escalate).
    pub reason: Option<String>,
    /// The user who acted.
    pub actor_id: Uuid,
    /// The particulars, e.g. the session's id and result (`{}` when none).
    pub data: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A mediation session (调解) held on a dispute, with its result.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mediation_sessions)]
pub struct Session {
    /// The dispute's street.
    pub street_id: Uuid,
    /// The session's id (UUIDv7).
    pub id: Uuid,
    /// The dispute mediated.
    pub dispute_id: Uuid,
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// Where it was held, 1 to 100 characters.
    pub place: String,
    /// The level it was held at: `grid`, `community`, `street` or `centre`.
    pub level: String,
    /// The mediators' names.
    pub mediators: Vec<String>,
    /// Departments that took part (empty: none).
    pub department_ids: Vec<Uuid>,
    /// What was said, up to 4,000 characters, if noted.
    pub notes: Option<String>,
    /// `adjourned`, `agreement` or `failed`.
    pub result: String,
    /// Where a failed mediation was referred; set exactly when `result` is `failed`.
    pub referral: Option<String>,
    /// The signed agreement's document; set exactly when `result` is `agreement`.
    pub agreement_document_id: Option<Uuid>,
    /// The user who recorded it.
    pub recorded_by: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// A follow-up visit (回访) due after a dispute's outcome.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_follow_ups)]
pub struct FollowUp {
    /// The dispute's street.
    pub street_id: Uuid,
    /// The dispute followed up.
    pub dispute_id: Uuid,
    /// The visit's number, 1 to 20, in due order.
    pub seq: i16,
    /// The day it is due.
    pub due_on: NaiveDate,
    /// When it was done; `None` while due.
    pub done_at: Option<DateTime<Utc>>,
    /// Who did it; set exactly when `done_at` is.
    pub done_by: Option<Uuid>,
    /// What was found, up to 2,000 characters, if noted.
    pub notes: Option<String>,
}

/// A party to record.
#[derive(Debug, Clone)]
pub struct NewParty {
    /// `applicant`, `respondent` or `other`.
    pub role: &'static str,
    /// `resident`, `person` or `organisation`.
    pub kind: &'static str,
    /// The resident, for a party of kind `resident`.
    pub resident_id: Option<Uuid>,
    /// The party's name.
    pub name: String,
    /// The phone in plaintext (sealed when stored), if given.
    pub phone: Option<String>,
}

/// A dispute to record.
#[derive(Debug, Clone)]
pub struct NewDispute {
    /// The district.
    pub district_id: Uuid,
    /// The street it arose in.
    pub street_id: Uuid,
    /// The community it arose in.
    pub community_id: Uuid,
    /// The grid it arose in, if known.
    pub grid_id: Option<Uuid>,
    /// What it is about (a dispute kind's stable name).
    pub kind: &'static str,
    /// The level it is first handled at.
    pub level: Level,
    /// What it is about, 1 to 2,000 characters.
    pub summary: String,
    /// The case it came from, if any.
    pub case_id: Option<Uuid>,
    /// Its parties.
    pub parties: Vec<NewParty>,
    /// The user recording it.
    pub created_by: Uuid,
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What happened (see [`Event::step`]).
    pub step: &'static str,
    /// The level before, for a move on the ladder.
    pub from_level: Option<Level>,
    /// The level after, for a move on the ladder.
    pub to_level: Option<Level>,
    /// Why, if a reason is given.
    pub reason: Option<String>,
    /// The user who acted.
    pub actor_id: Uuid,
    /// The particulars (`{}` when none).
    pub data: serde_json::Value,
    /// When it happened.
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
            disputes::level.eq(n.level),
            disputes::status.eq(Status::Open),
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

/// One dispute visible to the caller (department staff see those whistled to them).
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
    /// Only disputes in this status.
    pub status: Option<Status>,
    /// Only disputes at this level.
    pub level: Option<Level>,
    /// Only disputes of this community.
    pub community_id: Option<Uuid>,
    /// Only disputes of this grid.
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
    if let Some(s) = f.status {
        q = q.filter(disputes::status.eq(s));
    }
    if let Some(l) = f.level {
        q = q.filter(disputes::level.eq(l));
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

/// The parties of a dispute, in the order recorded.
pub async fn parties(conn: &mut Conn, d: &Dispute) -> StoreResult<Vec<Party>> {
    Ok(dispute_parties::table
        .filter(dispute_parties::street_id.eq(d.street_id))
        .filter(dispute_parties::dispute_id.eq(d.id))
        .select(Party::as_select())
        .order(dispute_parties::id)
        .load(conn)
        .await?)
}

/// The history of a dispute, oldest first.
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
    Status(Status),
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
        return Ok(Err(Refused::Status(d.status)));
    }
    let Some(up) = d.level.up() else {
        return Ok(Err(Refused::Top));
    };
    let moved: Option<Dispute> = diesel::update(
        disputes::table
            .filter(disputes::street_id.eq(d.street_id))
            .filter(disputes::id.eq(d.id))
            .filter(disputes::version.eq(version))
            .filter(disputes::status.eq(Status::Open)),
    )
    .set((
        disputes::level.eq(up),
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
            from_level: Some(d.level),
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
