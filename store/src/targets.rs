//! Where an action is proven: every row's place in the hierarchy (its
//! permission [`Target`]) and the places a request names by id, in one module.
//!
//! A handler names the action and the place; the API's state resolves the
//! place here, checks the principal's grants on it, and only then runs the
//! handler's body. Nothing else builds a target from a row.

use onegrid_domain::permissions::{Action, Target};
use uuid::Uuid;

use crate::cases::Case;
use crate::cases::setup::Category;
use crate::error::StoreResult;
use crate::fieldwork::meetings::Meeting;
use crate::fieldwork::patrols::Log;
use crate::integrations::jobs::Job;
use crate::integrations::schedules::Schedule;
use crate::integrations::webhooks::Endpoint;
use crate::ledgers::LedgerType;
use crate::mediation::disputes::Dispute;
use crate::mediation::whistles::{Summons, Whistle};
use crate::platform::auth::api_keys::ApiKey;
use crate::platform::staff::{self, RoleAssignment, User};
use crate::registry::departments::Department;
use crate::registry::hierarchy::{self, Community, Grid, Street};
use crate::registry::households::{self, Resident};
use crate::scope::scope_from_columns;
use crate::{Conn, Principal};

/// A row with a place in the hierarchy. Every row a caller sees lies in the
/// caller's district (row-level security keeps it so), so rows that do not
/// carry their district take it from there.
pub trait Guarded {
    /// The node permissions over this row are checked on.
    fn target(&self, district: Uuid) -> Target;

    /// The action without which the row is as invisible as another street's
    /// (404 rather than 403), if the row's kind has one.
    fn hidden_without(&self) -> Option<Action> {
        None
    }
}

impl Guarded for Street {
    fn target(&self, _district: Uuid) -> Target {
        Target::street(self.district_id, self.id)
    }
}

impl Guarded for Community {
    fn target(&self, district: Uuid) -> Target {
        Target::community(district, self.street_id, self.id)
    }
}

impl Guarded for Grid {
    fn target(&self, district: Uuid) -> Target {
        Target::grid(district, self.street_id, self.community_id, self.id)
    }
}

/// An account is managed where its home street is, or by the district.
impl Guarded for User {
    fn target(&self, _district: Uuid) -> Target {
        match self.street_id {
            Some(s) => Target::street(self.district_id, s),
            None => Target::district(self.district_id),
        }
    }
}

/// An endpoint belongs to its street, or to the district.
impl Guarded for Endpoint {
    fn target(&self, _district: Uuid) -> Target {
        match self.street_id {
            Some(s) => Target::street(self.district_id, s),
            None => Target::district(self.district_id),
        }
    }
}

/// A ledger type is owned by the scope that defined it.
impl Guarded for LedgerType {
    fn target(&self, _district: Uuid) -> Target {
        match (self.street_id, self.community_id) {
            (Some(s), Some(c)) => Target::community(self.district_id, s, c),
            (Some(s), None) => Target::street(self.district_id, s),
            _ => Target::district(self.district_id),
        }
    }
}

impl Guarded for Meeting {
    fn target(&self, _district: Uuid) -> Target {
        Target::community(self.district_id, self.street_id, self.community_id)
    }
}

impl Guarded for Log {
    fn target(&self, _district: Uuid) -> Target {
        Target::grid(
            self.district_id,
            self.street_id,
            self.community_id,
            self.grid_id,
        )
    }
}

/// A department is managed by its district.
impl Guarded for Department {
    fn target(&self, _district: Uuid) -> Target {
        Target::district(self.district_id)
    }
}

/// A job of the queue is the district's to manage, whatever street it serves.
impl Guarded for Job {
    fn target(&self, district: Uuid) -> Target {
        Target::district(district)
    }
}

/// A schedule is managed by the district.
impl Guarded for Schedule {
    fn target(&self, district: Uuid) -> Target {
        Target::district(district)
    }
}

/// An API key is managed where its scope lies. A scope the columns cannot
/// spell (their CHECKs forbid it) counts as the district's, the narrowest reach.
impl Guarded for ApiKey {
    fn target(&self, district: Uuid) -> Target {
        scope_from_columns(
            &self.scope_kind,
            self.district_id,
            self.street_id,
            self.community_id,
            self.grid_id,
            self.department_id,
        )
        .map_or(Target::district(district), |s| s.as_target())
    }
}

/// A role assignment is ended where its scope lies (see [`ApiKey`]'s).
impl Guarded for RoleAssignment {
    fn target(&self, district: Uuid) -> Target {
        self.scope()
            .map_or(Target::district(district), |s| s.as_target())
    }
}

/// A case category is its district's: the district's admins edit it.
impl Guarded for Category {
    fn target(&self, _district: Uuid) -> Target {
        Target::district(self.district_id)
    }
}

/// A case is checked on its grid and on the department it is routed to.
impl Guarded for Case {
    fn target(&self, _district: Uuid) -> Target {
        Target {
            department: self.assignee_department_id,
            ..Target::grid(
                self.district_id,
                self.street_id,
                self.community_id,
                self.grid_id,
            )
        }
    }
}

/// A dispute sits on its grid if it has one, else on its community.
impl Guarded for Dispute {
    fn target(&self, _district: Uuid) -> Target {
        match self.grid_id {
            Some(g) => Target::grid(self.district_id, self.street_id, self.community_id, g),
            None => Target::community(self.district_id, self.street_id, self.community_id),
        }
    }
}

/// A whistle is the street's.
impl Guarded for Whistle {
    fn target(&self, _district: Uuid) -> Target {
        Target::street(self.district_id, self.street_id)
    }
}

/// A summons is the department's node: its staff reach it, and the street's admins.
impl Guarded for Summons {
    fn target(&self, _district: Uuid) -> Target {
        Target {
            department: Some(self.department_id),
            ..Target::street(self.district_id, self.street_id)
        }
    }
}

/// A resident with their grid's target: residents carry no community, so
/// their place is looked up with them.
#[derive(Debug, Clone)]
pub struct PlacedResident {
    /// The resident as stored.
    pub resident: Resident,
    grid: Grid,
}

/// Residents outside the caller's readable grids are invisible.
impl Guarded for PlacedResident {
    fn target(&self, district: Uuid) -> Target {
        self.grid.target(district)
    }

    fn hidden_without(&self) -> Option<Action> {
        Some(Action::RegistryRead)
    }
}

/// Loads a resident with their place.
pub async fn resident(c: &mut Conn, id: Uuid) -> StoreResult<PlacedResident> {
    let resident = households::get_resident(c, id).await?;
    let grid = hierarchy::get_grid(c, resident.grid_id).await?;
    Ok(PlacedResident { resident, grid })
}

/// A place a request names, resolved to its target before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Anywhere in the caller's reach: lists filter their rows by the
    /// caller's area in SQL.
    Anywhere,
    /// The caller's district as a whole.
    District,
    /// A street, by id.
    Street(Uuid),
    /// A community, checked on its street.
    Community(Uuid),
    /// A grid, checked on its community and street.
    Grid(Uuid),
    /// A building, checked on its grid.
    Building(Uuid),
    /// A unit of a building, checked on the building's grid.
    Unit(Uuid),
    /// A staff assignment, checked on its grid.
    GridAssignment(Uuid),
    /// A case, checked on its grid and department.
    Case(Uuid),
    /// A dispute, checked on its grid or community.
    Dispute(Uuid),
    /// A needs meeting, checked on its community.
    Meeting(Uuid),
    /// A patrol log, checked on its grid.
    PatrolLog(Uuid),
    /// Anywhere in the caller's reach, once the account is visible (404
    /// behind the tenant wall): for bodies that check a place they name.
    AnywhereForAccount(Uuid),
    /// A target already known (a scope named in the request).
    Node(Target),
}

impl On {
    /// A street when one is named, else anywhere.
    pub fn street_or_anywhere(street: Option<Uuid>) -> On {
        street.map_or(On::Anywhere, On::Street)
    }
}

impl On {
    /// The place as named by a field of the request body: one the caller
    /// cannot see is a bad reference naming `field` (422), not a 404.
    pub const fn named(self, field: &'static str) -> Place {
        Place {
            on: self,
            field: Some(field),
        }
    }
}

/// A place with, when the request body names it, the body field naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Where the action is checked.
    pub on: On,
    /// The request-body field naming the place, if the body names it (a place the caller
    /// cannot see is then a 422 on this field, not a 404).
    pub field: Option<&'static str>,
}

impl From<On> for Place {
    fn from(on: On) -> Place {
        Place { on, field: None }
    }
}

/// Resolves a place to its target: `None` for [`On::Anywhere`]. A place the
/// caller cannot see is `NotFound`, as the row would be.
pub async fn resolve(c: &mut Conn, p: &Principal, on: On) -> StoreResult<Option<Target>> {
    let district = p.district_id;
    Ok(Some(match on {
        On::Anywhere => return Ok(None),
        On::AnywhereForAccount(id) => {
            staff::get_user(c, id).await?;
            return Ok(None);
        }
        On::District => Target::district(district),
        On::Node(t) => t,
        On::Street(id) => hierarchy::get_street(c, id).await?.target(district),
        On::Community(id) => hierarchy::get_community(c, id).await?.target(district),
        On::Grid(id) => grid(c, p, id).await?,
        On::Building(id) => {
            let b = households::get_building(c, id).await?;
            grid(c, p, b.grid_id).await?
        }
        On::Case(id) => crate::cases::get_case(c, id).await?.target(district),
        On::Dispute(id) => crate::mediation::disputes::get(c, id)
            .await?
            .target(district),
        On::Meeting(id) => crate::fieldwork::meetings::get(c, id)
            .await?
            .target(district),
        On::PatrolLog(id) => crate::fieldwork::patrols::get(c, id)
            .await?
            .target(district),
        On::GridAssignment(id) => {
            let a = staff::get_grid_assignment(c, id).await?;
            grid(c, p, a.grid_id).await?
        }
        On::Unit(id) => {
            let u = households::get_unit(c, id).await?;
            let b = households::get_building(c, u.building_id).await?;
            grid(c, p, b.grid_id).await?
        }
    }))
}

/// The target of a grid: for a use case that checks a grid it meets in its
/// body (the grid a case is filed in, the grid of each row it shows).
pub async fn grid(c: &mut Conn, p: &Principal, id: Uuid) -> StoreResult<Target> {
    Ok(hierarchy::get_grid(c, id).await?.target(p.district_id))
}
