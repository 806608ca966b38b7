//! District → street → community → grid. Every read and write runs inside the
//! caller's scoped transaction; rows of other streets are simply not there.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{communities, districts, grids, streets};

/// 区/旗县.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = districts)]
pub struct District {
    /// The district's id.
    pub id: Uuid,
    /// Its 6-digit administrative division code (GB/T 2260).
    pub code: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// 街道: the tenant.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = streets)]
pub struct Street {
    /// The street's id (UUIDv7).
    pub id: Uuid,
    /// The district it belongs to.
    pub district_id: Uuid,
    /// Its 9-digit code: the district's 6 digits and 3 more.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// 社区.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = communities)]
pub struct Community {
    /// The street the community belongs to.
    pub street_id: Uuid,
    /// The community's id (UUIDv7).
    pub id: Uuid,
    /// Its 12-digit code: the street's 9 digits and 3 more (unique in the street).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// 网格.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grids)]
pub struct Grid {
    /// The grid's street.
    pub street_id: Uuid,
    /// The grid's id (UUIDv7).
    pub id: Uuid,
    /// The community the grid divides.
    pub community_id: Uuid,
    /// Its 15-digit code: the community's 12 digits and 3 more (unique in the street).
    pub code: String,
    /// Its name.
    pub name: String,
    /// How many households the grid is planned to hold (1 to 100,000); `None`: not set.
    pub target_households: Option<i32>,
    /// Its boundary as a GeoJSON Polygon or MultiPolygon (lon, lat); `None`: not drawn.
    pub boundary: Option<serde_json::Value>,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Creates a district; operators only (bootstrap), never through the API.
pub async fn create_district(
    conn: &mut Conn,
    id: Uuid,
    code: &str,
    name: &str,
) -> StoreResult<District> {
    Ok(diesel::insert_into(districts::table)
        .values((
            districts::id.eq(id),
            districts::code.eq(code),
            districts::name.eq(name),
        ))
        .returning(District::as_returning())
        .get_result(conn)
        .await?)
}

/// The caller's district.
pub async fn get_district(conn: &mut Conn, id: Uuid) -> StoreResult<District> {
    Ok(districts::table
        .filter(districts::id.eq(id))
        .select(District::as_select())
        .first(conn)
        .await?)
}

/// Fails with [`StoreError::VersionMismatch`] or [`StoreError::NotFound`] after an
/// update guarded by a version matched no row.
fn missed(current: Option<i32>) -> StoreError {
    match current {
        Some(current) => StoreError::VersionMismatch { current },
        None => StoreError::NotFound,
    }
}

// ---- streets ----

/// Streets visible to the caller, by id.
pub async fn list_streets(conn: &mut Conn, page: &PageRequest) -> StoreResult<Page<Street>> {
    let mut q = streets::table
        .select(Street::as_select())
        .order(streets::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(streets::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |s| s.id))
}

/// One street visible to the caller.
pub async fn get_street(conn: &mut Conn, id: Uuid) -> StoreResult<Street> {
    Ok(streets::table
        .filter(streets::id.eq(id))
        .select(Street::as_select())
        .first(conn)
        .await?)
}

/// Creates a street of `district_id` with its 9-digit `code` (unique platform-wide).
pub async fn create_street(
    conn: &mut Conn,
    district_id: Uuid,
    code: &str,
    name: &str,
) -> StoreResult<Street> {
    Ok(diesel::insert_into(streets::table)
        .values((
            streets::id.eq(Uuid::now_v7()),
            streets::district_id.eq(district_id),
            streets::code.eq(code),
            streets::name.eq(name),
        ))
        .returning(Street::as_returning())
        .get_result(conn)
        .await?)
}

/// Renames a street if it is still at `version`.
pub async fn update_street(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    name: Option<&str>,
) -> StoreResult<Street> {
    let updated = diesel::update(
        streets::table
            .filter(streets::id.eq(id))
            .filter(streets::version.eq(version)),
    )
    .set((
        name.map(|n| streets::name.eq(n)),
        streets::version.eq(streets::version + 1),
        streets::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Street::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(s) => Ok(s),
        None => Err(missed(get_street(conn, id).await.ok().map(|s| s.version))),
    }
}

// ---- communities ----

/// The communities of a street, by id.
pub async fn list_communities(
    conn: &mut Conn,
    street_id: Uuid,
    page: &PageRequest,
) -> StoreResult<Page<Community>> {
    let mut q = communities::table
        .filter(communities::street_id.eq(street_id))
        .select(Community::as_select())
        .order(communities::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(communities::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |c| c.id))
}

/// One community visible to the caller.
pub async fn get_community(conn: &mut Conn, id: Uuid) -> StoreResult<Community> {
    Ok(communities::table
        .filter(communities::id.eq(id))
        .select(Community::as_select())
        .first(conn)
        .await?)
}

/// Creates a community in a street; its 12-digit `code` is unique in the street.
pub async fn create_community(
    conn: &mut Conn,
    street_id: Uuid,
    code: &str,
    name: &str,
) -> StoreResult<Community> {
    Ok(diesel::insert_into(communities::table)
        .values((
            communities::street_id.eq(street_id),
            communities::id.eq(Uuid::now_v7()),
            communities::code.eq(code),
            communities::name.eq(name),
        ))
        .returning(Community::as_returning())
        .get_result(conn)
        .await?)
}

/// Renames a community if it is still at `version`; else [`StoreError::VersionMismatch`]
/// (or [`StoreError::NotFound`] if it is gone from view).
pub async fn update_community(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    name: Option<&str>,
) -> StoreResult<Community> {
    let updated = diesel::update(
        communities::table
            .filter(communities::id.eq(id))
            .filter(communities::version.eq(version)),
    )
    .set((
        name.map(|n| communities::name.eq(n)),
        communities::version.eq(communities::version + 1),
        communities::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Community::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(c) => Ok(c),
        None => Err(missed(
            get_community(conn, id).await.ok().map(|c| c.version),
        )),
    }
}

// ---- grids ----

/// Values of a new grid.
#[derive(Debug, Clone)]
pub struct NewGrid<'a> {
    /// The street of the community.
    pub street_id: Uuid,
    /// The community the grid divides.
    pub community_id: Uuid,
    /// Its 15-digit code (checked against the community's code by the caller).
    pub code: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Planned number of households, if set.
    pub target_households: Option<i32>,
    /// Its GeoJSON Polygon or MultiPolygon boundary, if drawn.
    pub boundary: Option<serde_json::Value>,
}

/// Changes to a grid; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = grids)]
pub struct GridChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new planned number of households, or `Some(None)` to clear it.
    pub target_households: Option<Option<i32>>,
    /// A new boundary, or `Some(None)` to clear it.
    pub boundary: Option<Option<serde_json::Value>>,
}

/// The grids of a community, by id.
pub async fn list_grids(
    conn: &mut Conn,
    community_id: Uuid,
    page: &PageRequest,
) -> StoreResult<Page<Grid>> {
    let mut q = grids::table
        .filter(grids::community_id.eq(community_id))
        .select(Grid::as_select())
        .order(grids::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(grids::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |g| g.id))
}

/// One grid visible to the caller.
pub async fn get_grid(conn: &mut Conn, id: Uuid) -> StoreResult<Grid> {
    Ok(grids::table
        .filter(grids::id.eq(id))
        .select(Grid::as_select())
        .first(conn)
        .await?)
}

/// Creates a grid in a community.
pub async fn create_grid(conn: &mut Conn, new: NewGrid<'_>) -> StoreResult<Grid> {
    Ok(diesel::insert_into(grids::table)
        .values((
            grids::street_id.eq(new.street_id),
            grids::id.eq(Uuid::now_v7()),
            grids::community_id.eq(new.community_id),
            grids::code.eq(new.code),
            grids::name.eq(new.name),
            grids::target_households.eq(new.target_households),
            grids::boundary.eq(new.boundary),
        ))
        .returning(Grid::as_returning())
        .get_result(conn)
        .await?)
}

/// Applies `changes` to a grid if it is still at `version`; else
/// [`StoreError::VersionMismatch`] (or [`StoreError::NotFound`] if it is gone from view).
pub async fn update_grid(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    changes: GridChanges,
) -> StoreResult<Grid> {
    let updated = diesel::update(
        grids::table
            .filter(grids::id.eq(id))
            .filter(grids::version.eq(version)),
    )
    .set((
        changes,
        grids::version.eq(grids::version + 1),
        grids::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Grid::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(g) => Ok(g),
        None => Err(missed(get_grid(conn, id).await.ok().map(|g| g.version))),
    }
}

/// `(grid, street, community)` of every grid visible to the caller.
pub async fn visible_grids(conn: &mut Conn) -> StoreResult<Vec<(Uuid, Uuid, Uuid)>> {
    Ok(grids::table
        .select((grids::id, grids::street_id, grids::community_id))
        .load(conn)
        .await?)
}

/// `(grid, boundary)` of every visible grid that has a boundary.
pub async fn grid_boundaries(conn: &mut Conn) -> StoreResult<Vec<(Uuid, serde_json::Value)>> {
    let rows: Vec<(Uuid, Option<serde_json::Value>)> = grids::table
        .filter(grids::boundary.is_not_null())
        .select((grids::id, grids::boundary))
        .order(grids::id)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, b)| Some((id, b?)))
        .collect())
}

/// `id → 15-digit code` of every grid visible to the caller.
pub async fn grid_codes(conn: &mut Conn) -> StoreResult<std::collections::HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = grids::table
        .select((grids::id, grids::code))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
