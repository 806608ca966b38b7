//! Residents: ID numbers and phones sealed per street and row with a blind
//! index for search; moves between households and grids kept as history.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::identity::IdNumber;
use uuid::Uuid;

use crate::crypto::{CryptoError, FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult, Violation};
use crate::page::{Page, PageRequest};
use crate::schema::{ledger_record_versions, ledger_records, resident_moves, residents};

/// A resident row; the sealed columns never leave the store unopened.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = residents)]
pub struct Resident {
    /// The resident's street.
    pub street_id: Uuid,
    /// The resident's id (UUIDv7).
    pub id: Uuid,
    /// The grid the resident lives in.
    pub grid_id: Uuid,
    /// The household they belong to, if recorded.
    pub household_id: Option<Uuid>,
    /// Relation to the head of household (与户主关系): `head`, `spouse`, `child`, `parent`,
    /// `grandchild`, `sibling` or `other`; `None`: not recorded.
    pub relation: Option<String>,
    /// Their full name, 1 to 100 characters.
    pub name: String,
    /// `male` or `female`, taken from the ID number; `None` without one.
    pub gender: Option<String>,
    /// The birth date encoded in the ID number; `None` without one.
    pub birth_date: Option<NaiveDate>,
    id_number_enc: Option<Vec<u8>>,
    #[diesel(column_name = id_number_bidx)]
    _id_number_bidx: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    #[diesel(column_name = phone_bidx)]
    _phone_bidx: Option<Vec<u8>>,
    /// Free labels staff attach (at most 20, each up to 40 characters).
    pub tags: Vec<String>,
    /// Optimistic-locking version, bumped by every update or move.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The sensitive fields of a resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveField {
    /// The 18-character resident ID number (身份证号).
    IdNumber,
    /// The mobile phone number.
    Phone,
}

impl SensitiveField {
    /// The column (and blind-index kind) the field is stored under: `id_number` or `phone`.
    pub const fn column(self) -> &'static str {
        match self {
            SensitiveField::IdNumber => "id_number",
            SensitiveField::Phone => "phone",
        }
    }
}

fn slot(street_id: Uuid, row_id: Uuid, field: SensitiveField) -> Slot<'static> {
    Slot {
        street_id,
        table: "residents",
        column: field.column(),
        row_id,
    }
}

impl Resident {
    /// Whether the field holds a value.
    pub fn has(&self, field: SensitiveField) -> bool {
        match field {
            SensitiveField::IdNumber => self.id_number_enc.is_some(),
            SensitiveField::Phone => self.phone_enc.is_some(),
        }
    }

    /// Opens a sealed field. Callers mask it, or audit the reveal.
    pub fn open(
        &self,
        keys: &FieldKeys,
        field: SensitiveField,
    ) -> Result<Option<String>, CryptoError> {
        let sealed = match field {
            SensitiveField::IdNumber => &self.id_number_enc,
            SensitiveField::Phone => &self.phone_enc,
        };
        sealed
            .as_deref()
            .map(|s| keys.open(slot(self.street_id, self.id, field), s))
            .transpose()
    }
}

/// Values of a new resident.
#[derive(Debug, Clone)]
pub struct NewResident {
    /// The street to register the resident in.
    pub street_id: Uuid,
    /// The grid they live in.
    pub grid_id: Uuid,
    /// The household they belong to, if any.
    pub household_id: Option<Uuid>,
    /// Relation to the head of household, if known (see [`Resident::relation`]).
    pub relation: Option<String>,
    /// Their name.
    pub name: String,
    /// Their validated ID number (it also gives gender and birth date), if known.
    pub id_number: Option<IdNumber>,
    /// Normalised phone digits.
    pub phone: Option<String>,
    /// Free labels (at most 20).
    pub tags: Vec<String>,
}

/// Changes to a resident; `Some(None)` clears a field.
#[derive(Debug, Clone, Default)]
pub struct ResidentChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new relation to the head of household, or `Some(None)` to clear it.
    pub relation: Option<Option<String>>,
    /// Another household, or `Some(None)` to take them out of theirs.
    pub household_id: Option<Option<Uuid>>,
    /// A new ID number (gender and birth date follow it), or `Some(None)` to clear it.
    pub id_number: Option<Option<IdNumber>>,
    /// A new phone (normalised digits), or `Some(None)` to clear it.
    pub phone: Option<Option<String>>,
    /// The new labels, replacing the old.
    pub tags: Option<Vec<String>>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = residents)]
struct ResidentUpdate {
    name: Option<String>,
    relation: Option<Option<String>>,
    household_id: Option<Option<Uuid>>,
    gender: Option<Option<String>>,
    birth_date: Option<Option<NaiveDate>>,
    id_number_enc: Option<Option<Vec<u8>>>,
    id_number_bidx: Option<Option<Vec<u8>>>,
    phone_enc: Option<Option<Vec<u8>>>,
    phone_bidx: Option<Option<Vec<u8>>>,
    tags: Option<Vec<String>>,
}

type Sealed = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The ciphertext and blind index of one sensitive value (both `None` for no value).
fn seal(
    keys: &FieldKeys,
    street: Uuid,
    row: Uuid,
    field: SensitiveField,
    value: Option<&str>,
) -> Sealed {
    match value {
        None => (None, None),
        Some(v) => (
            Some(keys.seal(slot(street, row, field), v)),
            Some(keys.index(street, field.column(), v)),
        ),
    }
}

fn seal_id(keys: &FieldKeys, street: Uuid, row: Uuid, id: Option<&IdNumber>) -> Sealed {
    let value = id.map(|i| i.value.as_str());
    seal(keys, street, row, SensitiveField::IdNumber, value)
}

fn seal_phone(keys: &FieldKeys, street: Uuid, row: Uuid, phone: Option<&str>) -> Sealed {
    seal(keys, street, row, SensitiveField::Phone, phone)
}

/// Refuses an ID number another resident of the street holds. The unique key
/// on the blind index catches values sealed under the current key; this also
/// catches those still sealed under a retired key during a rotation.
async fn check_id_number_free(
    conn: &mut Conn,
    keys: &FieldKeys,
    street: Uuid,
    id: &IdNumber,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let indexes = keys.lookup_indexes(street, "id_number", &id.value);
    let mut q = residents::table
        .filter(residents::street_id.eq(street))
        .filter(residents::id_number_bidx.eq_any(indexes))
        .select(residents::id)
        .into_boxed();
    if let Some(except) = except {
        q = q.filter(residents::id.ne(except));
    }
    match q.first::<Uuid>(conn).await.optional()? {
        Some(_) => Err(StoreError::Violation(Violation::unique(
            "residents_street_id_id_number_bidx_key",
        ))),
        None => Ok(()),
    }
}

/// Registers a resident, sealing their ID number and phone; an ID number another
/// resident of the street holds is a unique violation.
pub async fn create_resident(
    conn: &mut Conn,
    keys: &FieldKeys,
    new: NewResident,
) -> StoreResult<Resident> {
    let id = Uuid::now_v7();
    if let Some(id_number) = &new.id_number {
        check_id_number_free(conn, keys, new.street_id, id_number, None).await?;
    }
    let (id_enc, id_bidx) = seal_id(keys, new.street_id, id, new.id_number.as_ref());
    let (phone_enc, phone_bidx) = seal_phone(keys, new.street_id, id, new.phone.as_deref());
    Ok(diesel::insert_into(residents::table)
        .values((
            residents::street_id.eq(new.street_id),
            residents::id.eq(id),
            residents::grid_id.eq(new.grid_id),
            residents::household_id.eq(new.household_id),
            residents::relation.eq(new.relation),
            residents::name.eq(new.name),
            residents::gender.eq(new.id_number.as_ref().map(|i| i.gender.as_str())),
            residents::birth_date.eq(new.id_number.as_ref().map(|i| i.birth_date)),
            residents::id_number_enc.eq(id_enc),
            residents::id_number_bidx.eq(id_bidx),
            residents::phone_enc.eq(phone_enc),
            residents::phone_bidx.eq(phone_bidx),
            residents::tags.eq(new.tags),
        ))
        .returning(Resident::as_returning())
        .get_result(conn)
        .await?)
}

/// One resident visible to the caller.
pub async fn get_resident(conn: &mut Conn, id: Uuid) -> StoreResult<Resident> {
    Ok(residents::table
        .filter(residents::id.eq(id))
        .select(Resident::as_select())
        .first(conn)
        .await?)
}

/// Residents by id (those visible to the caller).
pub async fn get_residents(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<Resident>> {
    Ok(residents::table
        .filter(residents::id.eq_any(ids))
        .select(Resident::as_select())
        .load(conn)
        .await?)
}

/// Residents of a grid, in creation order.
pub async fn list_residents(
    conn: &mut Conn,
    grid_id: Uuid,
    page: &PageRequest,
) -> StoreResult<Page<Resident>> {
    let mut q = residents::table
        .filter(residents::grid_id.eq(grid_id))
        .select(Resident::as_select())
        .order(residents::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(residents::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |r| r.id))
}

/// Exact lookup by ID number or phone in the given streets (each street has
/// its own index key, so a value is looked up once per street; values sealed
/// under a retired key match until they are re-sealed).
pub async fn find_residents(
    conn: &mut Conn,
    keys: &FieldKeys,
    streets: &[Uuid],
    field: SensitiveField,
    normalized: &str,
) -> StoreResult<Vec<Resident>> {
    let mut found = Vec::new();
    for street in streets {
        let indexes = keys.lookup_indexes(*street, field.column(), normalized);
        let q = residents::table
            .filter(residents::street_id.eq(street))
            .select(Resident::as_select())
            .into_boxed();
        let q = match field {
            SensitiveField::IdNumber => q.filter(residents::id_number_bidx.eq_any(indexes)),
            SensitiveField::Phone => q.filter(residents::phone_bidx.eq_any(indexes)),
        };
        found.extend(q.load(conn).await?);
    }
    Ok(found)
}

/// Re-seals up to `batch` residents of `street` whose ID number or phone was
/// sealed under a retired key: the current key seals them again and makes
/// their blind indexes. Returns how many were re-sealed (0: the street is
/// done). The values, version and ETag do not change. A value no configured
/// key opens stops the run, naming the resident (never the value).
pub async fn reseal_residents(
    conn: &mut Conn,
    keys: &FieldKeys,
    street: Uuid,
    batch: i64,
) -> StoreResult<usize> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Bytea};
    let current = keys.current_id().as_bytes().to_vec();
    let stale = sql::<Bool>(
        "((id_number_enc IS NOT NULL AND substring(id_number_enc FROM 2 FOR get_byte(id_number_enc, 0)) <> ",
    )
    .bind::<Bytea, _>(current.clone())
    .sql(") OR (phone_enc IS NOT NULL AND substring(phone_enc FROM 2 FOR get_byte(phone_enc, 0)) <> ")
    .bind::<Bytea, _>(current)
    .sql("))");
    let rows: Vec<Resident> = residents::table
        .filter(residents::street_id.eq(street))
        .filter(stale)
        .select(Resident::as_select())
        .order(residents::id)
        .limit(batch)
        .for_update()
        .load(conn)
        .await?;
    for r in &rows {
        let unreadable = |e: CryptoError| {
            StoreError::Unavailable(format!("resident {} cannot be re-sealed: {e}", r.id))
        };
        let id_number = r.open(keys, SensitiveField::IdNumber).map_err(unreadable)?;
        let phone = r.open(keys, SensitiveField::Phone).map_err(unreadable)?;
        let field = SensitiveField::IdNumber;
        let (id_enc, id_bidx) = seal(keys, street, r.id, field, id_number.as_deref());
        let (phone_enc, phone_bidx) = seal_phone(keys, street, r.id, phone.as_deref());
        diesel::update(residents::table.find((street, r.id)))
            .set((
                residents::id_number_enc.eq(id_enc),
                residents::id_number_bidx.eq(id_bidx),
                residents::phone_enc.eq(phone_enc),
                residents::phone_bidx.eq(phone_bidx),
            ))
            .execute(conn)
            .await?;
    }
    Ok(rows.len())
}

/// Applies `changes` if the resident is still at `version` (re-sealing changed ID number
/// or phone); else [`StoreError::VersionMismatch`]. A taken ID number is a unique violation.
pub async fn update_resident(
    conn: &mut Conn,
    keys: &FieldKeys,
    current: &Resident,
    version: i32,
    changes: ResidentChanges,
) -> StoreResult<Resident> {
    let (street, id) = (current.street_id, current.id);
    let mut update = ResidentUpdate {
        name: changes.name,
        relation: changes.relation,
        household_id: changes.household_id,
        tags: changes.tags,
        ..ResidentUpdate::default()
    };
    if let Some(id_number) = changes.id_number {
        if let Some(value) = &id_number {
            check_id_number_free(conn, keys, street, value, Some(id)).await?;
        }
        let (enc, bidx) = seal_id(keys, street, id, id_number.as_ref());
        update.gender = Some(id_number.as_ref().map(|i| i.gender.as_str().to_owned()));
        update.birth_date = Some(id_number.as_ref().map(|i| i.birth_date));
        update.id_number_enc = Some(enc);
        update.id_number_bidx = Some(bidx);
    }
    if let Some(phone) = changes.phone {
        let (enc, bidx) = seal_phone(keys, street, id, phone.as_deref());
        update.phone_enc = Some(enc);
        update.phone_bidx = Some(bidx);
    }
    let updated = diesel::update(
        residents::table
            .filter(residents::street_id.eq(street))
            .filter(residents::id.eq(id))
            .filter(residents::version.eq(version)),
    )
    .set((
        update,
        residents::version.eq(residents::version + 1),
        residents::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Resident::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    updated.ok_or(StoreError::VersionMismatch {
        current: current.version,
    })
}

/// A recorded move between grids.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = resident_moves)]
pub struct Move {
    /// The resident's street.
    pub street_id: Uuid,
    /// The move's id (UUIDv7).
    pub id: Uuid,
    /// The resident who moved.
    pub resident_id: Uuid,
    /// The grid they left.
    pub from_grid_id: Uuid,
    /// The grid they moved to.
    pub to_grid_id: Uuid,
    /// Why, up to 200 characters, if given.
    pub reason: Option<String>,
    /// The user who recorded the move.
    pub moved_by: Uuid,
    /// When it was recorded.
    pub moved_at: DateTime<Utc>,
}

/// Moves a resident (and the ledger records about them) to another grid of
/// the same street, recording the move and a version of each record.
pub async fn move_resident(
    conn: &mut Conn,
    current: &Resident,
    to_grid: Uuid,
    reason: Option<String>,
    actor: Uuid,
) -> StoreResult<(Resident, Move)> {
    let street = current.street_id;
    let moved = diesel::update(
        residents::table
            .filter(residents::street_id.eq(street))
            .filter(residents::id.eq(current.id)),
    )
    .set((
        residents::grid_id.eq(to_grid),
        residents::version.eq(residents::version + 1),
        residents::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Resident::as_returning())
    .get_result(conn)
    .await?;
    let record = diesel::insert_into(resident_moves::table)
        .values((
            resident_moves::street_id.eq(street),
            resident_moves::id.eq(Uuid::now_v7()),
            resident_moves::resident_id.eq(current.id),
            resident_moves::from_grid_id.eq(current.grid_id),
            resident_moves::to_grid_id.eq(to_grid),
            resident_moves::reason.eq(reason),
            resident_moves::moved_by.eq(actor),
        ))
        .returning(Move::as_returning())
        .get_result(conn)
        .await?;
    let records: Vec<(Uuid, i32, serde_json::Value, String, Option<String>)> = diesel::update(
        ledger_records::table
            .filter(ledger_records::street_id.eq(street))
            .filter(ledger_records::resident_id.eq(current.id)),
    )
    .set((
        ledger_records::grid_id.eq(to_grid),
        ledger_records::version.eq(ledger_records::version + 1),
        ledger_records::updated_at.eq(diesel::dsl::now),
    ))
    .returning((
        ledger_records::id,
        ledger_records::version,
        ledger_records::data,
        ledger_records::status,
        ledger_records::retired_reason,
    ))
    .get_results(conn)
    .await?;
    if !records.is_empty() {
        let versions: Vec<_> = records
            .into_iter()
            .map(|(record_id, version, data, status, retired_reason)| {
                (
                    ledger_record_versions::street_id.eq(street),
                    ledger_record_versions::record_id.eq(record_id),
                    ledger_record_versions::version.eq(version),
                    ledger_record_versions::change.eq("moved"),
                    ledger_record_versions::data.eq(data),
                    ledger_record_versions::status.eq(status),
                    ledger_record_versions::retired_reason.eq(retired_reason),
                    ledger_record_versions::grid_id.eq(to_grid),
                    ledger_record_versions::actor_id.eq(actor),
                )
            })
            .collect();
        diesel::insert_into(ledger_record_versions::table)
            .values(versions)
            .execute(conn)
            .await?;
    }
    Ok((moved, record))
}

/// A resident's moves, oldest first.
pub async fn list_moves(conn: &mut Conn, resident_id: Uuid) -> StoreResult<Vec<Move>> {
    Ok(resident_moves::table
        .filter(resident_moves::resident_id.eq(resident_id))
        .select(Move::as_select())
        .order(resident_moves::id)
        .load(conn)
        .await?)
}

// ---- households ----
