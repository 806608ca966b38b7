//! The registry of a grid: buildings (楼栋), units (单元), dwellings (户),
//! households and residents. ID numbers and phones are sealed with the field
//! keys and indexed per street; they leave this module only masked, or through
//! [`reveal`], which the caller must audit.

mod population;

pub use population::{
    Move, NewResident, Resident, ResidentChanges, SensitiveField, create_resident, find_residents,
    get_resident, get_residents, list_moves, list_residents, move_resident, reseal_residents,
    update_resident,
};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::{buildings, dwellings, households, residents, units};

/// A building (楼栋) of a grid.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = buildings)]
pub struct Building {
    /// The building's street.
    pub street_id: Uuid,
    /// The building's id (UUIDv7).
    pub id: Uuid,
    /// The grid it stands in.
    pub grid_id: Uuid,
    /// Its name, unique in the grid (e.g. `3号楼`).
    pub name: String,
    /// Its street address, up to 200 characters, if recorded.
    pub address: Option<String>,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A unit (单元, a stairwell) of a building.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct Unit {
    /// The unit's street.
    pub street_id: Uuid,
    /// The unit's id (UUIDv7).
    pub id: Uuid,
    /// The building it is part of.
    pub building_id: Uuid,
    /// Its name, unique in the building.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A dwelling (户): one home of a unit.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dwellings)]
pub struct Dwelling {
    /// The dwelling's street.
    pub street_id: Uuid,
    /// The dwelling's id (UUIDv7).
    pub id: Uuid,
    /// The unit it is in.
    pub unit_id: Uuid,
    /// The grid it belongs to.
    pub grid_id: Uuid,
    /// Its door number, unique in the unit (1 to 40 characters).
    pub number: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A household: the people living together, in a dwelling or at an address.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = households)]
pub struct Household {
    /// The household's street.
    pub street_id: Uuid,
    /// The household's id (UUIDv7).
    pub id: Uuid,
    /// The grid it belongs to.
    pub grid_id: Uuid,
    /// The dwelling it lives in; `None` when it is known only by address.
    pub dwelling_id: Option<Uuid>,
    /// Its address, up to 200 characters, if recorded.
    pub address: Option<String>,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Creates a household in a grid, in a dwelling or at an address.
pub async fn create_household(
    conn: &mut Conn,
    street_id: Uuid,
    grid_id: Uuid,
    dwelling_id: Option<Uuid>,
    address: Option<String>,
) -> StoreResult<Household> {
    Ok(diesel::insert_into(households::table)
        .values((
            households::street_id.eq(street_id),
            households::id.eq(Uuid::now_v7()),
            households::grid_id.eq(grid_id),
            households::dwelling_id.eq(dwelling_id),
            households::address.eq(address),
        ))
        .returning(Household::as_returning())
        .get_result(conn)
        .await?)
}

/// One household visible to the caller.
pub async fn get_household(conn: &mut Conn, id: Uuid) -> StoreResult<Household> {
    Ok(households::table
        .filter(households::id.eq(id))
        .select(Household::as_select())
        .first(conn)
        .await?)
}

/// The households of a grid, by id.
pub async fn list_households(
    conn: &mut Conn,
    grid_id: Uuid,
    page: &PageRequest,
) -> StoreResult<Page<Household>> {
    let mut q = households::table
        .filter(households::grid_id.eq(grid_id))
        .select(Household::as_select())
        .order(households::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(households::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |h| h.id))
}

/// Members of a household.
pub async fn household_members(conn: &mut Conn, household_id: Uuid) -> StoreResult<Vec<Resident>> {
    Ok(residents::table
        .filter(residents::household_id.eq(household_id))
        .select(Resident::as_select())
        .order(residents::id)
        .load(conn)
        .await?)
}

// ---- buildings, units, dwellings ----

/// Creates a building in a grid; its `name` must be unused in the grid.
pub async fn create_building(
    conn: &mut Conn,
    street_id: Uuid,
    grid_id: Uuid,
    name: &str,
    address: Option<&str>,
) -> StoreResult<Building> {
    Ok(diesel::insert_into(buildings::table)
        .values((
            buildings::street_id.eq(street_id),
            buildings::id.eq(Uuid::now_v7()),
            buildings::grid_id.eq(grid_id),
            buildings::name.eq(name),
            buildings::address.eq(address),
        ))
        .returning(Building::as_returning())
        .get_result(conn)
        .await?)
}

/// The buildings of a grid, by name.
pub async fn list_buildings(conn: &mut Conn, grid_id: Uuid) -> StoreResult<Vec<Building>> {
    Ok(buildings::table
        .filter(buildings::grid_id.eq(grid_id))
        .select(Building::as_select())
        .order(buildings::name)
        .load(conn)
        .await?)
}

/// One building visible to the caller.
pub async fn get_building(conn: &mut Conn, id: Uuid) -> StoreResult<Building> {
    Ok(buildings::table
        .filter(buildings::id.eq(id))
        .select(Building::as_select())
        .first(conn)
        .await?)
}

/// Creates a unit of `building`; its `name` must be unused in the building.
pub async fn create_unit(conn: &mut Conn, building: &Building, name: &str) -> StoreResult<Unit> {
    Ok(diesel::insert_into(units::table)
        .values((
            units::street_id.eq(building.street_id),
            units::id.eq(Uuid::now_v7()),
            units::building_id.eq(building.id),
            units::name.eq(name),
        ))
        .returning(Unit::as_returning())
        .get_result(conn)
        .await?)
}

/// The units of a building, by name.
pub async fn list_units(conn: &mut Conn, building_id: Uuid) -> StoreResult<Vec<Unit>> {
    Ok(units::table
        .filter(units::building_id.eq(building_id))
        .select(Unit::as_select())
        .order(units::name)
        .load(conn)
        .await?)
}

/// One unit visible to the caller.
pub async fn get_unit(conn: &mut Conn, id: Uuid) -> StoreResult<Unit> {
    Ok(units::table
        .filter(units::id.eq(id))
        .select(Unit::as_select())
        .first(conn)
        .await?)
}

/// Creates a dwelling of `unit` in `grid_id`; its `number` must be unused in the unit.
pub async fn create_dwelling(
    conn: &mut Conn,
    unit: &Unit,
    grid_id: Uuid,
    number: &str,
) -> StoreResult<Dwelling> {
    Ok(diesel::insert_into(dwellings::table)
        .values((
            dwellings::street_id.eq(unit.street_id),
            dwellings::id.eq(Uuid::now_v7()),
            dwellings::unit_id.eq(unit.id),
            dwellings::grid_id.eq(grid_id),
            dwellings::number.eq(number),
        ))
        .returning(Dwelling::as_returning())
        .get_result(conn)
        .await?)
}

/// The dwellings of a unit, by number.
pub async fn list_dwellings(conn: &mut Conn, unit_id: Uuid) -> StoreResult<Vec<Dwelling>> {
    Ok(dwellings::table
        .filter(dwellings::unit_id.eq(unit_id))
        .select(Dwelling::as_select())
        .order(dwellings::number)
        .load(conn)
        .await?)
}

/// One dwelling visible to the caller.
pub async fn get_dwelling(conn: &mut Conn, id: Uuid) -> StoreResult<Dwelling> {
    Ok(dwellings::table
        .filter(dwellings::id.eq(id))
        .select(Dwelling::as_select())
        .first(conn)
        .await?)
}
