//! Staff accounts, dated role assignments, and 一格三员 grid assignments with
//! the coverage they add up to.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::permissions::{Role, Scope};
use onegrid_domain::staffing::{StaffCounts, StaffKind};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{grid_assignments, grids, role_assignments, users};

/// The street, community, grid and department columns of a scope.
pub fn scope_columns(scope: &Scope) -> (Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>) {
    match *scope {
        Scope::District { .. } => (None, None, None, None),
        Scope::Street { street, .. } => (Some(street), None, None, None),
        Scope::Community {
            street, community, ..
        } => (Some(street), Some(community), None, None),
        Scope::Grid {
            street,
            community,
            grid,
            ..
        } => (Some(street), Some(community), Some(grid), None),
        Scope::Department { department, .. } => (None, None, None, Some(department)),
    }
}

/// A staff account (never with its password hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// The account's id (UUIDv7).
    pub id: Uuid,
    /// The district the account belongs to.
    pub district_id: Uuid,
    /// The home street; `None` for district staff.
    pub street_id: Option<Uuid>,
    /// The login name, stored lower-case (3 to 64 of `a-z0-9._-`).
    pub username: String,
    /// The name shown to people.
    pub display_name: String,
    /// Whether the account is disabled (it can no longer log in or refresh).
    pub disabled: bool,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Values of a new account; the password is hashed here.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The district the account belongs to.
    pub district_id: Uuid,
    /// The home street; `None` for district staff.
    pub street_id: Option<Uuid>,
    /// The login name (stored lower-case).
    pub username: String,
    /// The name shown to people.
    pub display_name: String,
    /// The initial password in plaintext, hashed with argon2id before it is stored.
    pub password: String,
}

/// Changes to an account.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// A new display name.
    pub display_name: Option<String>,
    /// Disables (`true`) or re-enables the account.
    pub disabled: Option<bool>,
    /// A new argon2 password hash (see [`crate::platform::auth::hash_password`]).
    pub password_hash: Option<String>,
}

/// Creates an account, hashing its password; the username must be unused in the platform.
pub async fn create_user(conn: &mut Conn, new: NewUser) -> StoreResult<User> {
    let hash = crate::platform::auth::hash_password(new.password).await?;
    Ok(diesel::insert_into(users::table)
        .values((
            users::id.eq(Uuid::now_v7()),
            users::district_id.eq(new.district_id),
            users::street_id.eq(new.street_id),
            users::username.eq(new.username.to_lowercase()),
            users::display_name.eq(new.display_name),
            users::password_hash.eq(hash),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await?)
}

/// One account visible to the caller.
pub async fn get_user(conn: &mut Conn, id: Uuid) -> StoreResult<User> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .await?)
}

/// Accounts visible to the caller, optionally only one home street's.
pub async fn list_users(
    conn: &mut Conn,
    street: Option<Uuid>,
    page: &PageRequest,
) -> StoreResult<Page<User>> {
    let mut q = users::table
        .select(User::as_select())
        .order(users::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(users::id.gt(after));
    }
    if let Some(street) = street {
        q = q.filter(users::street_id.eq(street));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |u| u.id))
}

/// Applies `changes` if the account is still at `version`, bumping it; else
/// [`StoreError::VersionMismatch`] with the current version.
pub async fn update_user(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    changes: UserChanges,
) -> StoreResult<User> {
    let updated = diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(version)),
    )
    .set((
        changes,
        users::version.eq(users::version + 1),
        users::updated_at.eq(diesel::dsl::now),
    ))
    .returning(User::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(u) => Ok(u),
        None => match get_user(conn, id).await {
            Ok(u) => Err(StoreError::VersionMismatch { current: u.version }),
            Err(e) => Err(e),
        },
    }
}

// ---- role assignments ----

/// A role held in one scope over a window of days.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = role_assignments)]
pub struct RoleAssignment {
    /// The assignment's id (UUIDv7).
    pub id: Uuid,
    /// The user holding the role.
    pub user_id: Uuid,
    /// The district of the scope.
    pub district_id: Uuid,
    /// The role held (a `Role` name, e.g. `grid_worker`).
    pub role: String,
    /// The kind of scope: `district`, `street`, `community`, `grid` or `department`.
    pub scope_kind: String,
    /// The scope's street; `None` for a district or department scope.
    pub street_id: Option<Uuid>,
    /// The scope's community, for a community or grid scope.
    pub community_id: Option<Uuid>,
    /// The scope's grid, for a grid scope.
    pub grid_id: Option<Uuid>,
    /// The scope's department, for a department scope.
    pub department_id: Option<Uuid>,
    /// The first day the role counts (China's calendar day).
    pub valid_from: NaiveDate,
    /// The last day it counts; `None`: open-ended. `valid_from - 1` marks one ended before
    /// it began.
    pub valid_to: Option<NaiveDate>,
    /// Who granted it; `None` when the bootstrap did (the first district admin's role).
    pub created_by: Option<Uuid>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl RoleAssignment {
    /// The scope the role is held in.
    pub fn scope(&self) -> Option<Scope> {
        crate::scope::scope_from_columns(
            &self.scope_kind,
            self.district_id,
            self.street_id,
            self.community_id,
            self.grid_id,
            self.department_id,
        )
    }
}

/// Grants `role` in `scope` for the days `valid` (first, last; `None`: open-ended).
pub async fn assign_role(
    conn: &mut Conn,
    user_id: Uuid,
    role: Role,
    scope: &Scope,
    valid: (NaiveDate, Option<NaiveDate>),
    created_by: Option<Uuid>,
) -> StoreResult<RoleAssignment> {
    let (street, community, grid, department) = scope_columns(scope);
    Ok(diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::id.eq(Uuid::now_v7()),
            role_assignments::user_id.eq(user_id),
            role_assignments::district_id.eq(scope.district()),
            role_assignments::role.eq(role.as_str()),
            role_assignments::scope_kind.eq(scope.kind().as_str()),
            role_assignments::street_id.eq(street),
            role_assignments::community_id.eq(community),
            role_assignments::grid_id.eq(grid),
            role_assignments::department_id.eq(department),
            role_assignments::valid_from.eq(valid.0),
            role_assignments::valid_to.eq(valid.1),
            role_assignments::created_by.eq(created_by),
        ))
        .returning(RoleAssignment::as_returning())
        .get_result(conn)
        .await?)
}

/// Every role assignment of a user visible to the caller, past ones included.
pub async fn list_roles(conn: &mut Conn, user_id: Uuid) -> StoreResult<Vec<RoleAssignment>> {
    Ok(role_assignments::table
        .filter(role_assignments::user_id.eq(user_id))
        .select(RoleAssignment::as_select())
        .order(role_assignments::id)
        .load(conn)
        .await?)
}

/// One role assignment visible to the caller.
pub async fn get_role(conn: &mut Conn, id: Uuid) -> StoreResult<RoleAssignment> {
    Ok(role_assignments::table
        .filter(role_assignments::id.eq(id))
        .select(RoleAssignment::as_select())
        .first(conn)
        .await?)
}

/// The last day an assignment ending today (effective at once) is valid.
fn ended_window_end(valid_from: NaiveDate, today: NaiveDate) -> NaiveDate {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let empty = valid_from
        .checked_sub_days(Days::new(1))
        .unwrap_or(valid_from);
    yesterday.max(empty)
}

/// Ends a role assignment now: it no longer counts from today on.
pub async fn end_role(conn: &mut Conn, id: Uuid, today: NaiveDate) -> StoreResult<RoleAssignment> {
    let current = get_role(conn, id).await?;
    let end = ended_window_end(current.valid_from, today);
    if current.valid_to.is_some_and(|to| to <= end) {
        return Ok(current);
    }
    Ok(
        diesel::update(role_assignments::table.filter(role_assignments::id.eq(id)))
            .set(role_assignments::valid_to.eq(end))
            .returning(RoleAssignment::as_returning())
            .get_result(conn)
            .await?,
    )
}

// ---- grid assignments (一格三员) ----

/// A staff member's dated place in a grid (一格三员: full-time, part-time or department).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grid_assignments)]
pub struct GridAssignment {
    /// The grid's street.
    pub street_id: Uuid,
    /// The assignment's id (UUIDv7).
    pub id: Uuid,
    /// The grid staffed.
    pub grid_id: Uuid,
    /// The staff member.
    pub user_id: Uuid,
    /// `full_time`, `part_time` or `department` (a [`StaffKind`]).
    pub kind: String,
    /// The district (for the department's key).
    pub district_id: Uuid,
    /// The department a department grid worker comes from; set exactly when `kind` is
    /// `department`.
    pub department_id: Option<Uuid>,
    /// What the person does in the grid, up to 100 characters.
    pub duty: Option<String>,
    /// The first day the assignment counts.
    pub valid_from: NaiveDate,
    /// The last day it counts; `None`: open-ended.
    pub valid_to: Option<NaiveDate>,
    /// Who made the assignment; `None` if no user did.
    pub created_by: Option<Uuid>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// Values of a new grid assignment.
#[derive(Debug, Clone)]
pub struct NewGridAssignment {
    /// The grid's street.
    pub street_id: Uuid,
    /// The grid to staff.
    pub grid_id: Uuid,
    /// The staff member.
    pub user_id: Uuid,
    /// Which of the three kinds of grid staff.
    pub kind: StaffKind,
    /// The district (for the department's key).
    pub district_id: Uuid,
    /// The department of a department grid worker; `None` for the other kinds.
    pub department_id: Option<Uuid>,
    /// What the person does in the grid, up to 100 characters.
    pub duty: Option<String>,
    /// The first day the assignment counts.
    pub valid_from: NaiveDate,
    /// The last day it counts; `None`: open-ended.
    pub valid_to: Option<NaiveDate>,
    /// Who makes the assignment; `None` if no user does.
    pub created_by: Option<Uuid>,
}

/// Staffs a grid; the database checks the grid, the user and the department.
pub async fn assign_grid_staff(
    conn: &mut Conn,
    new: NewGridAssignment,
) -> StoreResult<GridAssignment> {
    Ok(diesel::insert_into(grid_assignments::table)
        .values((
            grid_assignments::street_id.eq(new.street_id),
            grid_assignments::id.eq(Uuid::now_v7()),
            grid_assignments::grid_id.eq(new.grid_id),
            grid_assignments::user_id.eq(new.user_id),
            grid_assignments::kind.eq(new.kind.as_str()),
            grid_assignments::district_id.eq(new.district_id),
            grid_assignments::department_id.eq(new.department_id),
            grid_assignments::duty.eq(new.duty),
            grid_assignments::valid_from.eq(new.valid_from),
            grid_assignments::valid_to.eq(new.valid_to),
            grid_assignments::created_by.eq(new.created_by),
        ))
        .returning(GridAssignment::as_returning())
        .get_result(conn)
        .await?)
}

/// A grid's assignments; with `on`, only those active that day.
pub async fn list_grid_staff(
    conn: &mut Conn,
    grid_id: Uuid,
    on: Option<NaiveDate>,
) -> StoreResult<Vec<GridAssignment>> {
    let mut q = grid_assignments::table
        .filter(grid_assignments::grid_id.eq(grid_id))
        .select(GridAssignment::as_select())
        .order(grid_assignments::id)
        .into_boxed();
    if let Some(day) = on {
        q = q.filter(grid_assignments::valid_from.le(day)).filter(
            grid_assignments::valid_to
                .is_null()
                .or(grid_assignments::valid_to.ge(day)),
        );
    }
    Ok(q.load(conn).await?)
}

/// One grid assignment visible to the caller.
pub async fn get_grid_assignment(conn: &mut Conn, id: Uuid) -> StoreResult<GridAssignment> {
    Ok(grid_assignments::table
        .filter(grid_assignments::id.eq(id))
        .select(GridAssignment::as_select())
        .first(conn)
        .await?)
}

/// Ends a grid assignment now.
pub async fn end_grid_assignment(
    conn: &mut Conn,
    id: Uuid,
    today: NaiveDate,
) -> StoreResult<GridAssignment> {
    let current = get_grid_assignment(conn, id).await?;
    let end = ended_window_end(current.valid_from, today);
    if current.valid_to.is_some_and(|to| to <= end) {
        return Ok(current);
    }
    Ok(
        diesel::update(grid_assignments::table.filter(grid_assignments::id.eq(id)))
            .set(grid_assignments::valid_to.eq(end))
            .returning(GridAssignment::as_returning())
            .get_result(conn)
            .await?,
    )
}

/// One grid's staffing on a day.
#[derive(Debug, Clone)]
pub struct GridCoverage {
    /// The grid.
    pub grid_id: Uuid,
    /// The grid's community.
    pub community_id: Uuid,
    /// The grid's 15-digit code.
    pub code: String,
    /// The grid's name.
    pub name: String,
    /// Head counts of the staff assigned that day, by kind.
    pub counts: StaffCounts,
}

/// Staffing of every grid of a community (or, with `community = None`, of a street) on `day`.
pub async fn coverage(
    conn: &mut Conn,
    street: Uuid,
    community: Option<Uuid>,
    day: NaiveDate,
) -> StoreResult<Vec<GridCoverage>> {
    let mut q = grids::table
        .filter(grids::street_id.eq(street))
        .select((grids::id, grids::community_id, grids::code, grids::name))
        .order(grids::code)
        .into_boxed();
    if let Some(c) = community {
        q = q.filter(grids::community_id.eq(c));
    }
    let grid_rows: Vec<(Uuid, Uuid, String, String)> = q.load(conn).await?;
    let ids: Vec<Uuid> = grid_rows.iter().map(|g| g.0).collect();
    let kinds: Vec<(Uuid, String)> = grid_assignments::table
        .filter(grid_assignments::street_id.eq(street))
        .filter(grid_assignments::grid_id.eq_any(&ids))
        .filter(grid_assignments::valid_from.le(day))
        .filter(
            grid_assignments::valid_to
                .is_null()
                .or(grid_assignments::valid_to.ge(day)),
        )
        .select((grid_assignments::grid_id, grid_assignments::kind))
        .load(conn)
        .await?;
    let mut counts: HashMap<Uuid, StaffCounts> = HashMap::new();
    for (grid, kind) in kinds {
        if let Some(kind) = StaffKind::parse(&kind) {
            counts.entry(grid).or_default().add(kind);
        }
    }
    Ok(grid_rows
        .into_iter()
        .map(|(grid_id, community_id, code, name)| GridCoverage {
            counts: counts.get(&grid_id).copied().unwrap_or_default(),
            grid_id,
            community_id,
            code,
            name,
        })
        .collect())
}
