//! The district's departments (部门).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::departments::DEFAULT_DEPARTMENTS;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::departments as t;

/// A department (部门) of the district: it sees only the cases and summonses routed to it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Department {
    /// The department's id (UUIDv7).
    pub id: Uuid,
    /// The district it belongs to.
    pub district_id: Uuid,
    /// Its code, unique in the district (`^[a-z][a-z0-9_]{1,39}$`, e.g. `police`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Whether it takes new work; inactive departments stay on record.
    pub active: bool,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Changes to a department.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = t)]
pub struct DepartmentChanges {
    /// A new name.
    pub name: Option<String>,
    /// Reactivates (`true`) or deactivates (`false`) the department.
    pub active: Option<bool>,
}

/// Creates the ten default departments of a new district.
pub async fn seed_defaults(conn: &mut Conn, district_id: Uuid) -> StoreResult<Vec<Department>> {
    let rows: Vec<_> = DEFAULT_DEPARTMENTS
        .iter()
        .map(|(code, name)| {
            (
                t::id.eq(Uuid::now_v7()),
                t::district_id.eq(district_id),
                t::code.eq(*code),
                t::name.eq(*name),
            )
        })
        .collect();
    Ok(diesel::insert_into(t::table)
        .values(rows)
        .returning(Department::as_returning())
        .get_results(conn)
        .await?)
}

/// The departments of the caller's district, by id.
pub async fn list(conn: &mut Conn, page: &PageRequest) -> StoreResult<Page<Department>> {
    let mut q = t::table
        .select(Department::as_select())
        .order(t::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(t::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |d| d.id))
}

/// Which of `ids` are not departments of the caller's district.
pub async fn unknown(conn: &mut Conn, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
    let found: Vec<Uuid> = t::table
        .filter(t::id.eq_any(ids))
        .select(t::id)
        .load(conn)
        .await?;
    Ok(ids.iter().filter(|i| !found.contains(i)).copied().collect())
}

/// One department of the caller's district.
pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Department> {
    Ok(t::table
        .filter(t::id.eq(id))
        .select(Department::as_select())
        .first(conn)
        .await?)
}

/// Creates a department; its `code` must be unused in the district.
pub async fn create(
    conn: &mut Conn,
    district_id: Uuid,
    code: &str,
    name: &str,
) -> StoreResult<Department> {
    Ok(diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::district_id.eq(district_id),
            t::code.eq(code),
            t::name.eq(name),
        ))
        .returning(Department::as_returning())
        .get_result(conn)
        .await?)
}

/// Applies `changes` if the department is still at `version`; else
/// [`StoreError::VersionMismatch`].
pub async fn update(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    changes: DepartmentChanges,
) -> StoreResult<Department> {
    let updated = diesel::update(t::table.filter(t::id.eq(id)).filter(t::version.eq(version)))
        .set((
            changes,
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Department::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match updated {
        Some(d) => Ok(d),
        None => match get(conn, id).await {
            Ok(d) => Err(StoreError::VersionMismatch { current: d.version }),
            Err(e) => Err(e),
        },
    }
}
