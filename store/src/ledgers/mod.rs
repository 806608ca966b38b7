//! Ledger types (as data) and their records, every change of which is kept
//! as a version with its actor and time.

pub mod break_glass;
pub mod digests;
pub mod targeting;

pub use targeting::{SavedQuery, get_saved_query, list_saved_queries, save_query};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::ledger::{BUILT_IN, FieldDef, RecordStatus, Sensitivity, Subject};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{
    ledger_record_versions as versions, ledger_records as records, ledger_types as types,
};

/// A ledger type (台账类型): its fields, subject and sensitivity, defined as data.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = types)]
pub struct LedgerType {
    /// The type's id (UUIDv7).
    pub id: Uuid,
    /// The district it belongs to.
    pub district_id: Uuid,
    /// The street that added it; `None` for a district-wide type (the built-in ones).
    pub street_id: Option<Uuid>,
    /// The community that added it, if a community did.
    pub community_id: Option<Uuid>,
    /// Its code, unique among the types one caller sees (e.g. `veterans`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it is for, up to 1,000 characters.
    pub description: Option<String>,
    /// Whom each record is about: `resident`, `household` or `none` (see [`Subject`]).
    pub subject: String,
    /// Who may read it: `open`, `audited`, `protected` or `closed` (see [`Sensitivity`]).
    pub sensitivity: String,
    /// Whether a record's resident name is shown masked.
    pub mask_name: bool,
    /// How many days a record stays fresh after it is verified (1 to 3,650; default 180).
    pub verify_period_days: i32,
    /// The field definitions, a JSON array of [`FieldDef`] (read with `field_defs`).
    pub fields: serde_json::Value,
    /// Whether the platform defines it (the district's built-in ledgers).
    pub built_in: bool,
    /// Whether it takes new records; inactive types stay on record.
    pub active: bool,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl LedgerType {
    /// The field definitions (stored as validated JSON).
    pub fn field_defs(&self) -> Vec<FieldDef> {
        serde_json::from_value(self.fields.clone()).unwrap_or_default()
    }

    /// Who may read its records; a value not known reads as the strictest, `Closed`.
    pub fn sensitivity(&self) -> Sensitivity {
        Sensitivity::parse(&self.sensitivity).unwrap_or(Sensitivity::Closed)
    }

    /// Whom its records are about; a value not known reads as `None`.
    pub fn subject(&self) -> Subject {
        Subject::parse(&self.subject).unwrap_or(Subject::None)
    }
}

/// Values of a new ledger type.
#[derive(Debug, Clone)]
pub struct NewLedgerType {
    /// The district the type belongs to.
    pub district_id: Uuid,
    /// The street adding it; `None` for a district-wide type.
    pub street_id: Option<Uuid>,
    /// The community adding it, if a community does.
    pub community_id: Option<Uuid>,
    /// Its code, unique among the types one caller sees.
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it is for, if described.
    pub description: Option<String>,
    /// Whom each record is about.
    pub subject: Subject,
    /// Who may read it.
    pub sensitivity: Sensitivity,
    /// Whether records show the resident's name masked.
    pub mask_name: bool,
    /// Days a verified record stays fresh.
    pub verify_period_days: i32,
    /// The field definitions (already validated).
    pub fields: Vec<FieldDef>,
}

/// Changes to a ledger type.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = types)]
pub struct LedgerTypeChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// A new freshness period, in days.
    pub verify_period_days: Option<i32>,
    /// Whether to mask residents' names.
    pub mask_name: Option<bool>,
    /// Reactivates (`true`) or deactivates (`false`) the type.
    pub active: Option<bool>,
    /// New field definitions, serialised with [`to_json`].
    pub fields: Option<serde_json::Value>,
}

fn fields_json(fields: &[FieldDef]) -> serde_json::Value {
    serde_json::to_value(fields).unwrap_or_default()
}

/// Creates the built-in types of a district that are missing; returns how many.
pub async fn ensure_built_in(conn: &mut Conn, district_id: Uuid) -> StoreResult<usize> {
    let mut created = 0;
    for b in BUILT_IN {
        let fields = b
            .field_defs()
            .map_err(|e| StoreError::Unavailable(format!("built-in ledger {}: {e}", b.code)))?;
        created += diesel::insert_into(types::table)
            .values((
                types::id.eq(Uuid::now_v7()),
                types::district_id.eq(district_id),
                types::code.eq(b.code),
                types::name.eq(b.name),
                types::subject.eq(b.subject.as_str()),
                types::sensitivity.eq(b.sensitivity.as_str()),
                types::mask_name.eq(b.mask_name),
                types::verify_period_days.eq(b.verify_period_days),
                types::fields.eq(fields_json(&fields)),
                types::built_in.eq(true),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(created)
}

/// Creates a ledger type; its code must be unused among the types the caller sees.
pub async fn create_type(conn: &mut Conn, new: NewLedgerType) -> StoreResult<LedgerType> {
    Ok(diesel::insert_into(types::table)
        .values((
            types::id.eq(Uuid::now_v7()),
            types::district_id.eq(new.district_id),
            types::street_id.eq(new.street_id),
            types::community_id.eq(new.community_id),
            types::code.eq(new.code),
            types::name.eq(new.name),
            types::description.eq(new.description),
            types::subject.eq(new.subject.as_str()),
            types::sensitivity.eq(new.sensitivity.as_str()),
            types::mask_name.eq(new.mask_name),
            types::verify_period_days.eq(new.verify_period_days),
            types::fields.eq(fields_json(&new.fields)),
        ))
        .returning(LedgerType::as_returning())
        .get_result(conn)
        .await?)
}

/// Types visible to the caller: the district's and those of their streets.
pub async fn list_types(conn: &mut Conn, page: &PageRequest) -> StoreResult<Page<LedgerType>> {
    let mut q = types::table
        .select(LedgerType::as_select())
        .order(types::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(types::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |t| t.id))
}

/// One ledger type visible to the caller.
pub async fn get_type(conn: &mut Conn, id: Uuid) -> StoreResult<LedgerType> {
    Ok(types::table
        .filter(types::id.eq(id))
        .select(LedgerType::as_select())
        .first(conn)
        .await?)
}

/// Applies `changes` if the type is still at `version`; else [`StoreError::VersionMismatch`].
pub async fn update_type(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    changes: LedgerTypeChanges,
) -> StoreResult<LedgerType> {
    let updated = diesel::update(
        types::table
            .filter(types::id.eq(id))
            .filter(types::version.eq(version)),
    )
    .set((
        changes,
        types::version.eq(types::version + 1),
        types::updated_at.eq(diesel::dsl::now),
    ))
    .returning(LedgerType::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(t) => Ok(t),
        None => Err(StoreError::VersionMismatch {
            current: get_type(conn, id).await?.version,
        }),
    }
}

/// Sets a type's sensitivity under optimistic locking (the caller audits it).
pub async fn set_sensitivity(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    sensitivity: Sensitivity,
) -> StoreResult<LedgerType> {
    let updated = diesel::update(
        types::table
            .filter(types::id.eq(id))
            .filter(types::version.eq(version)),
    )
    .set((
        types::sensitivity.eq(sensitivity.as_str()),
        types::version.eq(types::version + 1),
        types::updated_at.eq(diesel::dsl::now),
    ))
    .returning(LedgerType::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(t) => Ok(t),
        None => Err(StoreError::VersionMismatch {
            current: get_type(conn, id).await?.version,
        }),
    }
}

/// The fields serialised for storage.
pub fn to_json(fields: &[FieldDef]) -> serde_json::Value {
    fields_json(fields)
}

// ---- records ----

/// A ledger record (台账记录): one entry of a ledger, in a grid.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = records)]
pub struct LedgerRecord {
    /// The record's street.
    pub street_id: Uuid,
    /// The record's id (UUIDv7).
    pub id: Uuid,
    /// The ledger type it belongs to.
    pub ledger_type_id: Uuid,
    /// The grid it lies in (a resident's move carries it along).
    pub grid_id: Uuid,
    /// The resident it is about, for a ledger about residents.
    pub resident_id: Option<Uuid>,
    /// The household it is about, for a ledger about households.
    pub household_id: Option<Uuid>,
    /// The values, a JSON object keyed by the type's field keys.
    pub data: serde_json::Value,
    /// Whether it is in the ledger's working set or retired.
    pub status: RecordStatus,
    /// Why it was retired (无用删减); set exactly when it is retired.
    pub retired_reason: Option<String>,
    /// When it was last verified as still true (stale after the type's period).
    pub verified_at: DateTime<Utc>,
    /// Who last verified it (first its creator); `None` if no user is recorded.
    pub verified_by: Option<Uuid>,
    /// Optimistic-locking version, bumped by every change (each kept as a [`RecordVersion`]).
    pub version: i32,
    /// Who created it; `None` if no user is recorded.
    pub created_by: Option<Uuid>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// One kept state of a record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = versions)]
pub struct RecordVersion {
    /// The record's street.
    pub street_id: Uuid,
    /// The record it is a state of.
    pub record_id: Uuid,
    /// The record's version this row keeps.
    pub version: i32,
    /// What made it: `created`, `edited`, `verified`, `retired`, `restored` or `moved`.
    pub change: String,
    /// The record's values at that version.
    pub data: serde_json::Value,
    /// Its status at that version.
    pub status: RecordStatus,
    /// Its retirement reason at that version, if retired.
    pub retired_reason: Option<String>,
    /// Its grid at that version.
    pub grid_id: Uuid,
    /// The user who made the change.
    pub actor_id: Uuid,
    /// When the change was made.
    pub at: DateTime<Utc>,
}

async fn keep_version(
    conn: &mut Conn,
    r: &LedgerRecord,
    change: &str,
    actor: Uuid,
) -> StoreResult<()> {
    keep_versions(conn, std::slice::from_ref(r), change, actor).await
}

/// Keeps the current version of each of `records`, in one statement.
async fn keep_versions(
    conn: &mut Conn,
    records: &[LedgerRecord],
    change: &str,
    actor: Uuid,
) -> StoreResult<()> {
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            (
                versions::street_id.eq(r.street_id),
                versions::record_id.eq(r.id),
                versions::version.eq(r.version),
                versions::change.eq(change),
                versions::data.eq(&r.data),
                versions::status.eq(r.status),
                versions::retired_reason.eq(&r.retired_reason),
                versions::grid_id.eq(r.grid_id),
                versions::actor_id.eq(actor),
            )
        })
        .collect();
    diesel::insert_into(versions::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Values of a new record (already validated against its type).
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The street to record it in.
    pub street_id: Uuid,
    /// The ledger type.
    pub ledger_type_id: Uuid,
    /// The grid it lies in.
    pub grid_id: Uuid,
    /// The resident it is about, for a ledger about residents.
    pub resident_id: Option<Uuid>,
    /// The household it is about, for a ledger about households.
    pub household_id: Option<Uuid>,
    /// The values (validated against the type's fields).
    pub data: serde_json::Value,
}

/// Creates one record with its first version (see [`create_records`]).
pub async fn create_record(
    conn: &mut Conn,
    new: NewRecord,
    actor: Uuid,
) -> StoreResult<LedgerRecord> {
    let mut created = create_records(conn, vec![new], actor).await?;
    created.pop().ok_or(StoreError::NotFound)
}

/// Rows a multi-row insert carries (PostgreSQL binds at most 65,535 values;
/// a record binds nine, a version nine).
const INSERT_CHUNK: usize = 1_000;

/// Creates `news` with their first versions, a thousand rows a statement
/// (an import of 20,000 rows is 40 statements, not 40,000).
pub async fn create_records(
    conn: &mut Conn,
    news: Vec<NewRecord>,
    actor: Uuid,
) -> StoreResult<Vec<LedgerRecord>> {
    let mut created = Vec::with_capacity(news.len());
    for chunk in news.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|new| {
                (
                    records::street_id.eq(new.street_id),
                    records::id.eq(Uuid::now_v7()),
                    records::ledger_type_id.eq(new.ledger_type_id),
                    records::grid_id.eq(new.grid_id),
                    records::resident_id.eq(new.resident_id),
                    records::household_id.eq(new.household_id),
                    records::data.eq(&new.data),
                    records::verified_by.eq(actor),
                    records::created_by.eq(actor),
                )
            })
            .collect();
        let batch: Vec<LedgerRecord> = diesel::insert_into(records::table)
            .values(rows)
            .returning(LedgerRecord::as_returning())
            .get_results(conn)
            .await?;
        keep_versions(conn, &batch, "created", actor).await?;
        created.extend(batch);
    }
    Ok(created)
}

/// One record visible to the caller.
pub async fn get_record(conn: &mut Conn, id: Uuid) -> StoreResult<LedgerRecord> {
    Ok(records::table
        .filter(records::id.eq(id))
        .select(LedgerRecord::as_select())
        .first(conn)
        .await?)
}

/// Records by id (those visible to the caller).
pub async fn get_records(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<LedgerRecord>> {
    Ok(records::table
        .filter(records::id.eq_any(ids))
        .select(LedgerRecord::as_select())
        .load(conn)
        .await?)
}

/// Which records of a type to list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Only these grids (the caller's reach); `None` = every grid in scope.
    pub grids: Option<Vec<Uuid>>,
    /// Only records in this status; `None`: both.
    pub status: Option<RecordStatus>,
    /// Only records about this resident.
    pub resident_id: Option<Uuid>,
}

/// One page of a type's records matching `filter`, in id order.
pub async fn list_records(
    conn: &mut Conn,
    ledger_type_id: Uuid,
    filter: &RecordFilter,
    page: &PageRequest,
) -> StoreResult<Page<LedgerRecord>> {
    let mut q = records::table
        .filter(records::ledger_type_id.eq(ledger_type_id))
        .select(LedgerRecord::as_select())
        .order(records::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(records::id.gt(after));
    }
    if let Some(grids) = &filter.grids {
        q = q.filter(records::grid_id.eq_any(grids.clone()));
    }
    if let Some(status) = filter.status {
        q = q.filter(records::status.eq(status));
    }
    if let Some(r) = filter.resident_id {
        q = q.filter(records::resident_id.eq(r));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |r| r.id))
}

/// A change of a record's state.
#[derive(Debug, Clone)]
pub enum Change {
    /// New data (validated against the type).
    Edit(serde_json::Value),
    /// "Still true as of today."
    /// Verified as of the instant given (the caller's clock).
    Verify(DateTime<Utc>),
    /// 无用删减: no longer applies, with a reason.
    Retire(String),
    /// Brings a retired record back into the working set.
    Restore,
}

impl Change {
    fn name(&self) -> &'static str {
        match self {
            Change::Edit(_) => "edited",
            Change::Verify(_) => "verified",
            Change::Retire(_) => "retired",
            Change::Restore => "restored",
        }
    }
}

/// Applies a change if the record is still at `version`, keeping a version.
pub async fn change_record(
    conn: &mut Conn,
    current: &LedgerRecord,
    version: i32,
    change: Change,
    actor: Uuid,
) -> StoreResult<LedgerRecord> {
    let name = change.name();
    let target = records::table
        .filter(records::street_id.eq(current.street_id))
        .filter(records::id.eq(current.id))
        .filter(records::version.eq(version));
    let bump = (
        records::version.eq(records::version + 1),
        records::updated_at.eq(diesel::dsl::now),
    );
    let q = match change {
        Change::Edit(data) => {
            diesel::update(target)
                .set((records::data.eq(data), bump))
                .returning(LedgerRecord::as_returning())
                .get_result(conn)
                .await
        }
        Change::Verify(at) => {
            diesel::update(target)
                .set((
                    records::verified_at.eq(at),
                    records::verified_by.eq(actor),
                    bump,
                ))
                .returning(LedgerRecord::as_returning())
                .get_result(conn)
                .await
        }
        Change::Retire(reason) => {
            diesel::update(target)
                .set((
                    records::status.eq(RecordStatus::Retired),
                    records::retired_reason.eq(reason),
                    bump,
                ))
                .returning(LedgerRecord::as_returning())
                .get_result(conn)
                .await
        }
        Change::Restore => {
            diesel::update(target)
                .set((
                    records::status.eq(RecordStatus::Active),
                    records::retired_reason.eq(None::<String>),
                    bump,
                ))
                .returning(LedgerRecord::as_returning())
                .get_result(conn)
                .await
        }
    };
    let record = q.optional()?.ok_or(StoreError::VersionMismatch {
        current: current.version,
    })?;
    keep_version(conn, &record, name, actor).await?;
    Ok(record)
}

/// Every version of a record, oldest first.
pub async fn list_versions(conn: &mut Conn, record_id: Uuid) -> StoreResult<Vec<RecordVersion>> {
    Ok(versions::table
        .filter(versions::record_id.eq(record_id))
        .select(RecordVersion::as_select())
        .order(versions::version)
        .load(conn)
        .await?)
}

/// Types visible to the caller with this code (a street's own, or the district's).
pub async fn find_types_by_code(conn: &mut Conn, code: &str) -> StoreResult<Vec<LedgerType>> {
    Ok(types::table
        .filter(types::code.eq(code))
        .select(LedgerType::as_select())
        .order(types::id)
        .load(conn)
        .await?)
}
