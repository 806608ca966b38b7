//! Ledger types (as data) and their records, every change of which is kept
//! as a version with its actor and time.

pub mod break_glass;
pub mod digests;
pub mod targeting;

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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = types)]
pub struct LedgerType {
    pub id: Uuid,
    pub district_id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub subject: String,
    pub sensitivity: String,
    pub mask_name: bool,
    pub verify_period_days: i32,
    pub fields: serde_json::Value,
    pub built_in: bool,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LedgerType {
    /// The field definitions (stored as validated JSON).
    pub fn field_defs(&self) -> Vec<FieldDef> {
        serde_json::from_value(self.fields.clone()).unwrap_or_default()
    }

    pub fn sensitivity(&self) -> Sensitivity {
        Sensitivity::parse(&self.sensitivity).unwrap_or(Sensitivity::Closed)
    }

    pub fn subject(&self) -> Subject {
        Subject::parse(&self.subject).unwrap_or(Subject::None)
    }
}

/// Values of a new ledger type.
#[derive(Debug, Clone)]
pub struct NewLedgerType {
    pub district_id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub subject: Subject,
    pub sensitivity: Sensitivity,
    pub mask_name: bool,
    pub verify_period_days: i32,
    pub fields: Vec<FieldDef>,
}

/// Changes to a ledger type.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = types)]
pub struct LedgerTypeChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub verify_period_days: Option<i32>,
    pub mask_name: Option<bool>,
    pub active: Option<bool>,
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

pub async fn get_type(conn: &mut Conn, id: Uuid) -> StoreResult<LedgerType> {
    Ok(types::table
        .filter(types::id.eq(id))
        .select(LedgerType::as_select())
        .first(conn)
        .await?)
}

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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = records)]
pub struct LedgerRecord {
    pub street_id: Uuid,
    pub id: Uuid,
    pub ledger_type_id: Uuid,
    pub grid_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub status: RecordStatus,
    pub retired_reason: Option<String>,
    pub verified_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One kept state of a record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = versions)]
pub struct RecordVersion {
    pub street_id: Uuid,
    pub record_id: Uuid,
    pub version: i32,
    pub change: String,
    pub data: serde_json::Value,
    pub status: RecordStatus,
    pub retired_reason: Option<String>,
    pub grid_id: Uuid,
    pub actor_id: Uuid,
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
    pub street_id: Uuid,
    pub ledger_type_id: Uuid,
    pub grid_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub data: serde_json::Value,
}

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
    pub status: Option<RecordStatus>,
    pub resident_id: Option<Uuid>,
}

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

/// A saved targeting query.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::saved_queries)]
pub struct SavedQuery {
    pub id: Uuid,
    pub district_id: Uuid,
    pub street_id: Option<Uuid>,
    pub name: String,
    pub query: serde_json::Value,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

pub async fn save_query(
    conn: &mut Conn,
    district_id: Uuid,
    street_id: Option<Uuid>,
    name: &str,
    query: serde_json::Value,
    created_by: Uuid,
) -> StoreResult<SavedQuery> {
    use crate::schema::saved_queries as q;
    Ok(diesel::insert_into(q::table)
        .values((
            q::id.eq(Uuid::now_v7()),
            q::district_id.eq(district_id),
            q::street_id.eq(street_id),
            q::name.eq(name),
            q::query.eq(query),
            q::created_by.eq(created_by),
        ))
        .returning(SavedQuery::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn list_saved_queries(conn: &mut Conn) -> StoreResult<Vec<SavedQuery>> {
    use crate::schema::saved_queries as q;
    Ok(q::table
        .select(SavedQuery::as_select())
        .order(q::id)
        .load(conn)
        .await?)
}

pub async fn get_saved_query(conn: &mut Conn, id: Uuid) -> StoreResult<SavedQuery> {
    use crate::schema::saved_queries as q;
    Ok(q::table
        .filter(q::id.eq(id))
        .select(SavedQuery::as_select())
        .first(conn)
        .await?)
}
