//! Roles, scopes and the permission matrix: the single source of truth for who
//! may do what where. The README's matrix is rendered from [`MATRIX`] by
//! [`render_markdown`] and a test keeps the two equal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A staff role. Every role is held in a scope (see [`Role::scope_kinds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 区级管理员: runs the district deployment.
    DistrictAdmin,
    /// 街道管理员: runs one street (the tenant).
    StreetAdmin,
    /// 社区管理员 (书记/主任): runs one community.
    CommunityAdmin,
    /// 网格长: leads the grid workers of one community.
    GridChief,
    /// 网格员: works one grid.
    GridWorker,
    /// 部门工作人员: works what is routed to one department.
    DepartmentStaff,
    /// 审计员: reads everything in scope, changes nothing.
    Auditor,
}

impl Role {
    /// Every role, in rank order.
    pub const ALL: [Role; 7] = [
        Role::DistrictAdmin,
        Role::StreetAdmin,
        Role::CommunityAdmin,
        Role::GridChief,
        Role::GridWorker,
        Role::DepartmentStaff,
        Role::Auditor,
    ];

    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::DistrictAdmin => "district_admin",
            Role::StreetAdmin => "street_admin",
            Role::CommunityAdmin => "community_admin",
            Role::GridChief => "grid_chief",
            Role::GridWorker => "grid_worker",
            Role::DepartmentStaff => "department_staff",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The kinds of scope this role can be held in.
    pub const fn scope_kinds(self) -> &'static [ScopeKind] {
        match self {
            Role::DistrictAdmin => &[ScopeKind::District],
            Role::StreetAdmin => &[ScopeKind::Street],
            Role::CommunityAdmin | Role::GridChief => &[ScopeKind::Community],
            Role::GridWorker => &[ScopeKind::Grid],
            Role::DepartmentStaff => &[ScopeKind::Department],
            Role::Auditor => &[ScopeKind::District, ScopeKind::Street],
        }
    }

    /// The roles a holder of `self` may grant (within a scope their grant covers).
    pub const fn grantable(self) -> &'static [Role] {
        match self {
            Role::DistrictAdmin => &Role::ALL,
            Role::StreetAdmin => &[
                Role::CommunityAdmin,
                Role::GridChief,
                Role::GridWorker,
                Role::Auditor,
            ],
            Role::CommunityAdmin => &[Role::GridChief, Role::GridWorker],
            Role::GridChief | Role::GridWorker | Role::DepartmentStaff | Role::Auditor => &[],
        }
    }
}

/// The level a role is held at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// 区/旗县: the deployment's district.
    District,
    /// 街道/镇: one street, the tenant.
    Street,
    /// 社区/村: one community of a street.
    Community,
    /// 网格: one grid of a community.
    Grid,
    /// 部门: one department of the district (outside the street hierarchy).
    Department,
}

impl ScopeKind {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeKind::District => "district",
            ScopeKind::Street => "street",
            ScopeKind::Community => "community",
            ScopeKind::Grid => "grid",
            ScopeKind::Department => "department",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<ScopeKind> {
        [
            Self::District,
            Self::Street,
            Self::Community,
            Self::Grid,
            Self::Department,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// Where a role is held: a node of the hierarchy (with its ancestors) or a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole district.
    District {
        /// The district.
        district: Uuid,
    },
    /// One street of the district.
    Street {
        /// The street's district.
        district: Uuid,
        /// The street.
        street: Uuid,
    },
    /// One community, with its street.
    Community {
        /// The community's district.
        district: Uuid,
        /// The community's street.
        street: Uuid,
        /// The community.
        community: Uuid,
    },
    /// One grid, with its community and street.
    Grid {
        /// The grid's district.
        district: Uuid,
        /// The grid's street.
        street: Uuid,
        /// The grid's community.
        community: Uuid,
        /// The grid.
        grid: Uuid,
    },
    /// One department, district-wide but only for what is routed to it.
    Department {
        /// The department's district.
        district: Uuid,
        /// The department.
        department: Uuid,
    },
}

impl Scope {
    /// The kind of this scope.
    pub const fn kind(&self) -> ScopeKind {
        match self {
            Scope::District { .. } => ScopeKind::District,
            Scope::Street { .. } => ScopeKind::Street,
            Scope::Community { .. } => ScopeKind::Community,
            Scope::Grid { .. } => ScopeKind::Grid,
            Scope::Department { .. } => ScopeKind::Department,
        }
    }

    /// The district the scope lies in.
    pub const fn district(&self) -> Uuid {
        match *self {
            Scope::District { district }
            | Scope::Street { district, .. }
            | Scope::Community { district, .. }
            | Scope::Grid { district, .. }
            | Scope::Department { district, .. } => district,
        }
    }

    /// The street of a street-or-lower scope.
    pub const fn street(&self) -> Option<Uuid> {
        match *self {
            Scope::Street { street, .. }
            | Scope::Community { street, .. }
            | Scope::Grid { street, .. } => Some(street),
            Scope::District { .. } | Scope::Department { .. } => None,
        }
    }

    /// The scope seen as a target, e.g. to check who may grant a role in it.
    pub const fn as_target(&self) -> Target {
        match *self {
            Scope::District { district } => Target::district(district),
            Scope::Street { district, street } => Target::street(district, street),
            Scope::Community {
                district,
                street,
                community,
            } => Target::community(district, street, community),
            Scope::Grid {
                district,
                street,
                community,
                grid,
            } => Target::grid(district, street, community, grid),
            Scope::Department {
                district,
                department,
            } => Target {
                department: Some(department),
                ..Target::district(district)
            },
        }
    }

    /// Whether a principal holding this scope sees every street of its district
    /// (district and department scopes) rather than only its own street.
    pub const fn is_district_wide(&self) -> bool {
        matches!(self, Scope::District { .. } | Scope::Department { .. })
    }
}

/// What an action is performed on: a node of the hierarchy with its ancestors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The district the object lies in.
    pub district: Uuid,
    /// Its street, for objects at street level or below.
    pub street: Option<Uuid>,
    /// Its community, for objects at community level or below.
    pub community: Option<Uuid>,
    /// Its grid, for objects in a grid (a case, a household, a ledger record).
    pub grid: Option<Uuid>,
    /// The department it is routed to, for objects department staff may reach.
    pub department: Option<Uuid>,
}

impl Target {
    /// The district itself.
    pub const fn district(district: Uuid) -> Target {
        Target {
            district,
            street: None,
            community: None,
            grid: None,
            department: None,
        }
    }
    /// A street-level object: the street itself, or what belongs to it as a whole.
    pub const fn street(district: Uuid, street: Uuid) -> Target {
        Target {
            street: Some(street),
            ..Target::district(district)
        }
    }
    /// A community-level object, e.g. its needs meeting.
    pub const fn community(district: Uuid, street: Uuid, community: Uuid) -> Target {
        Target {
            community: Some(community),
            ..Target::street(district, street)
        }
    }
    /// An object in a grid, with the grid's community and street.
    pub const fn grid(district: Uuid, street: Uuid, community: Uuid, grid: Uuid) -> Target {
        Target {
            grid: Some(grid),
            ..Target::community(district, street, community)
        }
    }
}

/// A role held in a scope, active today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The role held.
    pub role: Role,
    /// Where it is held.
    pub scope: Scope,
}

impl Grant {
    /// The grant's scope contains the target (the target is at or below it).
    pub fn covers(&self, target: &Target) -> bool {
        if self.scope.district() != target.district {
            return false;
        }
        match self.scope {
            Scope::District { .. } => true,
            Scope::Street { street, .. } => target.street == Some(street),
            Scope::Community { community, .. } => target.community == Some(community),
            Scope::Grid { grid, .. } => target.grid == Some(grid),
            Scope::Department { department, .. } => target.department == Some(department),
        }
    }

    /// The target is a node above the grant's scope on its path (the grid's
    /// community, street or district). Department scopes enclose nothing.
    pub fn lies_within(&self, target: &Target) -> bool {
        if self.scope.district() != target.district || target.department.is_some() {
            return false;
        }
        let (street, community, grid) = match self.scope {
            Scope::District { .. } | Scope::Department { .. } => return false,
            Scope::Street { street, .. } => (street, None, None),
            Scope::Community {
                street, community, ..
            } => (street, Some(community), None),
            Scope::Grid {
                street,
                community,
                grid,
                ..
            } => (street, Some(community), Some(grid)),
        };
        let on_path = |at: Option<Uuid>, own: Option<Uuid>| at.is_none() || at == own;
        target.street.is_none_or(|s| s == street)
            && on_path(target.community, community)
            && on_path(target.grid, grid)
    }

    /// The grant reaches the target's street (district-wide grants reach every street).
    pub fn touches(&self, target: &Target) -> bool {
        self.scope.district() == target.district
            && (self.scope.is_district_wide()
                || (target.street.is_some() && self.scope.street() == target.street))
    }
}

/// How far from its scope a grant reaches for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The target must lie within the grant's scope.
    Within,
    /// The target must lie in a street the grant works in (district-wide grants: any).
    Street,
    /// The target lies within the grant's scope, or encloses it: a grid worker
    /// reads what belongs to the community of their grid (its needs meeting).
    Enclosing,
}

/// Everything the API guards, one variant per permission.
/// Each variant's doc repeats the name and description of its [`MATRIX`] row;
/// the row is what code and the README read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `hierarchy.read`: read the district, its streets, communities and grids.
    HierarchyRead,
    /// `street.create`: create a street in the district.
    StreetCreate,
    /// `street.update`: edit a street.
    StreetUpdate,
    /// `community.create`: create a community in a street.
    CommunityCreate,
    /// `community.update`: edit a community.
    CommunityUpdate,
    /// `grid.create`: create a grid in a community.
    GridCreate,
    /// `grid.update`: edit a grid (name, boundary, target households).
    GridUpdate,
    /// `department.read`: read the district's departments.
    DepartmentRead,
    /// `department.manage`: create and edit departments.
    DepartmentManage,
    /// `staff.read`: read staff accounts and their roles.
    StaffRead,
    /// `staff.manage`: create, edit and disable staff accounts; revoke their sessions.
    StaffManage,
    /// `role.assign`: grant and end roles (only roles the granter's role may grant).
    RoleAssign,
    /// `grid_staff.assign`: assign and end 一格三员 grid staff.
    GridStaffAssign,
    /// `coverage.read`: read 一格三员 staffing coverage.
    CoverageRead,
    /// `api_key.manage`: create, list and revoke API keys for machine clients.
    ApiKeyManage,
    /// `registry.read`: read buildings, households and residents (sensitive values masked).
    RegistryRead,
    /// `registry.write`: record buildings, households and residents; move residents between grids.
    RegistryWrite,
    /// `resident.reveal`: reveal an ID number or phone, with a stated purpose (audited, rate-
    /// limited).
    ResidentReveal,
    /// `ledger_type.manage`: add and evolve ledger types for the scope.
    LedgerTypeManage,
    /// `ledger.read`: read ledger records: open and audited ledgers street-wide, protected and
    /// closed ones within scope.
    LedgerRead,
    /// `ledger.write`: add, edit, verify, retire and restore ledger records.
    LedgerWrite,
    /// `ledger.break_glass`: break the glass: read a protected ledger outside scope for 3 hours,
    /// with a reason.
    BreakGlass,
    /// `audit.read`: read the audit log.
    AuditRead,
    /// `case_setup.read`: read the working calendar, the SLA tiers and the case category catalogue.
    CaseSetupRead,
    /// `case_setup.manage`: load calendars, set SLA tiers, edit the case category catalogue.
    CaseSetupManage,
    /// `case.file`: file a case (a resident's need, a finding, a hotline ticket) in a grid.
    CaseFile,
    /// `case.read`: read cases, their history and clocks (department staff: only those routed to
    /// the department).
    CaseRead,
    /// `case.work`: handle a case: sign for it, return it, request extension or parking, pause for
    /// the resident, submit a result, escalate.
    CaseWork,
    /// `case.triage`: accept or reject a case, dispatch it, verify a result or send it back,
    /// resolve.
    CaseTriage,
    /// `case.approve`: approve or deny extensions and parking, unpark, close and reopen cases.
    CaseApprove,
    /// `case.rate`: record the resident's rating of a resolved case.
    CaseRate,
    /// `case.reporter_reveal`: reveal a case's sealed reporter with a stated purpose (audited;
    /// never to the case's handler).
    CaseReporterReveal,
    /// `jobs.manage`: see the worker's jobs of the district and replay failed ones.
    JobsManage,
    /// `schedules.manage`: see the district's recurring work and change when it runs.
    SchedulesManage,
    /// `webhooks.manage`: register webhook endpoints of the district or a street, read their
    /// delivery log and replay deliveries.
    WebhooksManage,
    /// `dispute.read`: read disputes with their parties (contact details masked), sessions,
    /// documents and follow-ups.
    DisputeRead,
    /// `dispute.record`: record disputes and their parties, move them up a level, record mediation
    /// sessions, outcomes and follow-up visits.
    DisputeRecord,
    /// `dispute.party_reveal`: reveal a dispute party's phone with a stated purpose (audited;
    /// department staff only on disputes summoned to them).
    DisputePartyReveal,
    /// `whistle.blow`: blow the whistle (吹哨) on the street's dispute or case, close it, rate the
    /// summoned departments.
    WhistleBlow,
    /// `summons.read`: read whistles and summonses: the street's, or those of one's department
    /// across the district.
    SummonsRead,
    /// `summons.work`: report in (报到) to a summons of one's department, mark on site, record
    /// actions, mark done.
    SummonsWork,
    /// `mediation.setup`: set the district's mediation panel and report-in windows.
    MediationSetup,
    /// `mediation.kpis`: read whistle rates, report-in timeliness, department ratings and where
    /// disputes were settled, with rankings.
    MediationKpis,
    /// `patrol.keep`: keep one's daily patrol log in one's grids: check-in and out, track, visits,
    /// findings, a finding turned into a case.
    PatrolKeep,
    /// `patrol.read`: read the patrol logs of a grid or community and its coverage (logs,
    /// households visited, missing days).
    PatrolRead,
    /// `meeting.manage`: schedule the community's half-monthly needs meeting, record its decisions
    /// as service items and close it.
    MeetingManage,
    /// `meeting.read`: read needs meetings: agenda, service items and their report-back, attendance
    /// (grid staff: their community's).
    MeetingRead,
}

/// One row of the permission matrix.
#[derive(Debug)]
pub struct Rule {
    /// The action this row governs (one row per action).
    pub action: Action,
    /// Stable name, used in the docs and in 403 details.
    pub name: &'static str,
    /// What the permission allows, in words for the README and the docs.
    pub description: &'static str,
    /// The levels of the objects handlers check this permission on (a case
    /// lies in a grid, a needs meeting in a community); department staff's
    /// objects are also routed to their department.
    pub objects: &'static [ScopeKind],
    /// How far from their scope the roles reach for it.
    pub reach: Reach,
    /// The roles that hold the permission.
    pub roles: &'static [Role],
}

use Role::{
    Auditor, CommunityAdmin, DepartmentStaff, DistrictAdmin, GridChief, GridWorker, StreetAdmin,
};

/// The permission matrix (role × action). Code and docs both read it.
pub const MATRIX: &[Rule] = &[
    Rule {
        action: Action::HierarchyRead,
        name: "hierarchy.read",
        description: "read the district, its streets, communities and grids",
        objects: &[ScopeKind::Street, ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Street,
        roles: &Role::ALL,
    },
    Rule {
        action: Action::StreetCreate,
        name: "street.create",
        description: "create a street in the district",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::StreetUpdate,
        name: "street.update",
        description: "edit a street",
        objects: &[ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin],
    },
    Rule {
        action: Action::CommunityCreate,
        name: "community.create",
        description: "create a community in a street",
        objects: &[ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin],
    },
    Rule {
        action: Action::CommunityUpdate,
        name: "community.update",
        description: "edit a community",
        objects: &[ScopeKind::Community],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::GridCreate,
        name: "grid.create",
        description: "create a grid in a community",
        objects: &[ScopeKind::Community],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::GridUpdate,
        name: "grid.update",
        description: "edit a grid (name, boundary, target households)",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin, GridChief],
    },
    Rule {
        action: Action::DepartmentRead,
        name: "department.read",
        description: "read the district's departments",
        objects: &[ScopeKind::Street],
        reach: Reach::Street,
        roles: &Role::ALL,
    },
    Rule {
        action: Action::DepartmentManage,
        name: "department.manage",
        description: "create and edit departments",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::StaffRead,
        name: "staff.read",
        description: "read staff accounts and their roles",
        objects: &[ScopeKind::District, ScopeKind::Street],
        reach: Reach::Street,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            Auditor,
        ],
    },
    Rule {
        action: Action::StaffManage,
        name: "staff.manage",
        description: "create, edit and disable staff accounts; revoke their sessions",
        objects: &[ScopeKind::District, ScopeKind::Street],
        reach: Reach::Street,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::RoleAssign,
        name: "role.assign",
        description: "grant and end roles (only roles the granter's role may grant)",
        objects: &[
            ScopeKind::District,
            ScopeKind::Street,
            ScopeKind::Community,
            ScopeKind::Grid,
        ],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::GridStaffAssign,
        name: "grid_staff.assign",
        description: "assign and end 一格三员 grid staff",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin, GridChief],
    },
    Rule {
        action: Action::CoverageRead,
        name: "coverage.read",
        description: "read 一格三员 staffing coverage",
        objects: &[ScopeKind::Street, ScopeKind::Community],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            Auditor,
        ],
    },
    Rule {
        action: Action::ApiKeyManage,
        name: "api_key.manage",
        description: "create, list and revoke API keys for machine clients",
        objects: &[
            ScopeKind::District,
            ScopeKind::Street,
            ScopeKind::Community,
            ScopeKind::Grid,
        ],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin],
    },
    Rule {
        action: Action::RegistryRead,
        name: "registry.read",
        description: "read buildings, households and residents (sensitive values masked)",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
            Auditor,
        ],
    },
    Rule {
        action: Action::RegistryWrite,
        name: "registry.write",
        description: "record buildings, households and residents; move residents between grids",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
        ],
    },
    Rule {
        action: Action::ResidentReveal,
        name: "resident.reveal",
        description: "reveal an ID number or phone, with a stated purpose (audited, rate-limited)",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[StreetAdmin, CommunityAdmin, GridChief, GridWorker],
    },
    Rule {
        action: Action::LedgerTypeManage,
        name: "ledger_type.manage",
        description: "add and evolve ledger types for the scope",
        objects: &[ScopeKind::District, ScopeKind::Street, ScopeKind::Community],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::LedgerRead,
        name: "ledger.read",
        description: "read ledger records: open and audited ledgers street-wide, protected and closed ones within scope",
        objects: &[ScopeKind::Grid],
        reach: Reach::Street,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
            Auditor,
        ],
    },
    Rule {
        action: Action::LedgerWrite,
        name: "ledger.write",
        description: "add, edit, verify, retire and restore ledger records",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
        ],
    },
    Rule {
        action: Action::BreakGlass,
        name: "ledger.break_glass",
        description: "break the glass: read a protected ledger outside scope for 3 hours, with a reason",
        objects: &[ScopeKind::Community],
        reach: Reach::Street,
        roles: &[StreetAdmin, CommunityAdmin, GridChief, GridWorker],
    },
    Rule {
        action: Action::AuditRead,
        name: "audit.read",
        description: "read the audit log",
        objects: &[ScopeKind::District, ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, Auditor],
    },
    Rule {
        action: Action::CaseSetupRead,
        name: "case_setup.read",
        description: "read the working calendar, the SLA tiers and the case category catalogue",
        objects: &[ScopeKind::Street],
        reach: Reach::Street,
        roles: &Role::ALL,
    },
    Rule {
        action: Action::CaseSetupManage,
        name: "case_setup.manage",
        description: "load calendars, set SLA tiers, edit the case category catalogue",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::CaseFile,
        name: "case.file",
        description: "file a case (a resident's need, a finding, a hotline ticket) in a grid",
        objects: &[ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
        ],
    },
    Rule {
        action: Action::CaseRead,
        name: "case.read",
        description: "read cases, their history and clocks (department staff: only those routed to the department)",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &Role::ALL,
    },
    Rule {
        action: Action::CaseWork,
        name: "case.work",
        description: "handle a case: sign for it, return it, request extension or parking, pause for the resident, submit a result, escalate",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
            DepartmentStaff,
        ],
    },
    Rule {
        action: Action::CaseTriage,
        name: "case.triage",
        description: "accept or reject a case, dispatch it, verify a result or send it back, resolve",
        objects: &[ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
        ],
    },
    Rule {
        action: Action::CaseApprove,
        name: "case.approve",
        description: "approve or deny extensions and parking, unpark, close and reopen cases",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, CommunityAdmin, GridChief],
    },
    Rule {
        action: Action::CaseRate,
        name: "case.rate",
        description: "record the resident's rating of a resolved case",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
        ],
    },
    Rule {
        action: Action::CaseReporterReveal,
        name: "case.reporter_reveal",
        description: "reveal a case's sealed reporter with a stated purpose (audited; never to the case's handler)",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::JobsManage,
        name: "jobs.manage",
        description: "see the worker's jobs of the district and replay failed ones",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::SchedulesManage,
        name: "schedules.manage",
        description: "see the district's recurring work and change when it runs",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::WebhooksManage,
        name: "webhooks.manage",
        description: "register webhook endpoints of the district or a street, read their delivery log and replay deliveries",
        objects: &[ScopeKind::District, ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin],
    },
    Rule {
        action: Action::DisputeRead,
        name: "dispute.read",
        description: "read disputes with their parties (contact details masked), sessions, documents and follow-ups",
        objects: &[ScopeKind::Street, ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
            Auditor,
        ],
    },
    Rule {
        action: Action::DisputeRecord,
        name: "dispute.record",
        description: "record disputes and their parties, move them up a level, record mediation sessions, outcomes and follow-up visits",
        objects: &[ScopeKind::Street, ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[StreetAdmin, CommunityAdmin, GridChief, GridWorker],
    },
    Rule {
        action: Action::DisputePartyReveal,
        name: "dispute.party_reveal",
        description: "reveal a dispute party's phone with a stated purpose (audited; department staff only on disputes summoned to them)",
        objects: &[ScopeKind::Street, ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[StreetAdmin, CommunityAdmin, DepartmentStaff],
    },
    Rule {
        action: Action::WhistleBlow,
        name: "whistle.blow",
        description: "blow the whistle (吹哨) on the street's dispute or case, close it, rate the summoned departments",
        objects: &[ScopeKind::Street],
        reach: Reach::Within,
        roles: &[StreetAdmin],
    },
    Rule {
        action: Action::SummonsRead,
        name: "summons.read",
        description: "read whistles and summonses: the street's, or those of one's department across the district",
        objects: &[ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, DepartmentStaff, Auditor],
    },
    Rule {
        action: Action::SummonsWork,
        name: "summons.work",
        description: "report in (报到) to a summons of one's department, mark on site, record actions, mark done",
        objects: &[ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DepartmentStaff],
    },
    Rule {
        action: Action::MediationSetup,
        name: "mediation.setup",
        description: "set the district's mediation panel and report-in windows",
        objects: &[ScopeKind::District],
        reach: Reach::Within,
        roles: &[DistrictAdmin],
    },
    Rule {
        action: Action::MediationKpis,
        name: "mediation.kpis",
        description: "read whistle rates, report-in timeliness, department ratings and where disputes were settled, with rankings",
        objects: &[ScopeKind::District, ScopeKind::Street],
        reach: Reach::Within,
        roles: &[DistrictAdmin, StreetAdmin, Auditor],
    },
    Rule {
        action: Action::PatrolKeep,
        name: "patrol.keep",
        description: "keep one's daily patrol log in one's grids: check-in and out, track, visits, findings, a finding turned into a case",
        objects: &[ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[GridChief, GridWorker],
    },
    Rule {
        action: Action::PatrolRead,
        name: "patrol.read",
        description: "read the patrol logs of a grid or community and its coverage (logs, households visited, missing days)",
        objects: &[ScopeKind::Community, ScopeKind::Grid],
        reach: Reach::Within,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            Auditor,
        ],
    },
    Rule {
        action: Action::MeetingManage,
        name: "meeting.manage",
        description: "schedule the community's half-monthly needs meeting, record its decisions as service items and close it",
        objects: &[ScopeKind::Community],
        reach: Reach::Within,
        roles: &[StreetAdmin, CommunityAdmin],
    },
    Rule {
        action: Action::MeetingRead,
        name: "meeting.read",
        description: "read needs meetings: agenda, service items and their report-back, attendance (grid staff: their community's)",
        objects: &[ScopeKind::Community],
        reach: Reach::Enclosing,
        roles: &[
            DistrictAdmin,
            StreetAdmin,
            CommunityAdmin,
            GridChief,
            GridWorker,
            Auditor,
        ],
    },
];

/// The permission a lifecycle step needs over the case.
pub const fn step_action(step: crate::cases::Step) -> Action {
    use crate::cases::Step as S;
    match step {
        S::Accept | S::Reject | S::Dispatch | S::Verify | S::SendBack | S::Resolve => {
            Action::CaseTriage
        }
        S::ApproveExtension | S::DenyExtension | S::ApprovePark | S::DenyPark | S::Unpark => {
            Action::CaseApprove
        }
        S::Close | S::Reopen => Action::CaseApprove,
        S::Rate => Action::CaseRate,
        S::Sign
        | S::Return
        | S::RequestExtension
        | S::WaitForResident
        | S::Resume
        | S::SubmitResult
        | S::RequestPark
        | S::Escalate => Action::CaseWork,
    }
}

/// How a reader may see one ledger record, by the ledger's sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerAccess {
    /// The reader may see the record.
    Allowed,
    /// Protected ledger outside the reader's scope: only with a break-glass grant.
    NeedsBreakGlass,
    /// The reader may not see the record at all.
    Denied,
}

/// Decides access to a record of a ledger with `sensitivity` in `target`'s grid.
pub fn ledger_access(
    grants: &[Grant],
    sensitivity: crate::ledger::Sensitivity,
    target: &Target,
) -> LedgerAccess {
    use crate::ledger::Sensitivity;
    let readers = rule(Action::LedgerRead).roles;
    let within = grants
        .iter()
        .any(|g| readers.contains(&g.role) && g.covers(target));
    let in_street = grants
        .iter()
        .any(|g| readers.contains(&g.role) && g.touches(target));
    match sensitivity {
        Sensitivity::Open | Sensitivity::Audited if in_street => LedgerAccess::Allowed,
        _ if within => LedgerAccess::Allowed,
        Sensitivity::Protected if allowed(grants, Action::BreakGlass, target) => {
            LedgerAccess::NeedsBreakGlass
        }
        _ => LedgerAccess::Denied,
    }
}

/// The matrix row of an action.
pub fn rule(action: Action) -> &'static Rule {
    // Every action has exactly one row (checked by a test).
    MATRIX
        .iter()
        .find(|r| r.action == action)
        .unwrap_or(FIRST_RULE)
}

/// The first row of [`MATRIX`], the answer of [`rule`] for an action without a
/// row (which the matrix test rules out). An empty matrix fails to compile.
const FIRST_RULE: &Rule = match MATRIX {
    [first, ..] => first,
    [] => panic!("the permission matrix has no rows"),
};

/// Whether any of `grants` permits `action` on `target`.
pub fn allowed(grants: &[Grant], action: Action, target: &Target) -> bool {
    let rule = rule(action);
    grants.iter().any(|g| {
        rule.roles.contains(&g.role)
            && match rule.reach {
                Reach::Within => g.covers(target),
                Reach::Street => g.touches(target),
                Reach::Enclosing => g.covers(target) || g.lies_within(target),
            }
    })
}

/// Where `grants` permit an action, as the nodes a list filters its rows by
/// before its limit: a row is in the area when it lies at or below one of
/// them (the tenant wall applies on top). For actions whose reach is
/// `Within` or `Street`; an `Enclosing` action's list adds the enclosing rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Area {
    /// A district-wide grant: every row the wall shows.
    pub everywhere: bool,
    /// Streets whose rows are all in the area.
    pub streets: Vec<Uuid>,
    /// Communities whose rows are all in the area.
    pub communities: Vec<Uuid>,
    /// Grids whose rows are in the area.
    pub grids: Vec<Uuid>,
    /// Departments whose routed rows are in the area.
    pub departments: Vec<Uuid>,
}

impl Area {
    /// Rows in either area.
    #[must_use]
    pub fn union(mut self, other: Area) -> Area {
        self.everywhere |= other.everywhere;
        self.streets.extend(other.streets);
        self.communities.extend(other.communities);
        self.grids.extend(other.grids);
        self.departments.extend(other.departments);
        for ids in [
            &mut self.streets,
            &mut self.communities,
            &mut self.grids,
            &mut self.departments,
        ] {
            ids.sort_unstable();
            ids.dedup();
        }
        self
    }
}

/// The area in which `grants` permit `action`.
pub fn area(grants: &[Grant], action: Action) -> Area {
    let rule = rule(action);
    let mut area = Area::default();
    for g in grants.iter().filter(|g| rule.roles.contains(&g.role)) {
        match (rule.reach, g.scope) {
            (_, Scope::District { .. }) => area.everywhere = true,
            (Reach::Street, scope) => match scope.street() {
                Some(street) => area.streets.push(street),
                None => area.everywhere |= scope.is_district_wide(),
            },
            (_, Scope::Street { street, .. }) => area.streets.push(street),
            (_, Scope::Community { community, .. }) => area.communities.push(community),
            (_, Scope::Grid { grid, .. }) => area.grids.push(grid),
            (_, Scope::Department { department, .. }) => area.departments.push(department),
        }
    }
    area.union(Area::default())
}

/// Whether a grant holding `action` has `target` inside its own scope,
/// whatever the action's reach (a query naming no scope covers only these).
pub fn within_own_scope(grants: &[Grant], action: Action, target: &Target) -> bool {
    let rule = rule(action);
    grants
        .iter()
        .any(|g| rule.roles.contains(&g.role) && g.covers(target))
}

/// Whether any of `grants` permits `action` somewhere (used to refuse early).
pub fn allowed_anywhere(grants: &[Grant], action: Action) -> bool {
    let rule = rule(action);
    grants.iter().any(|g| rule.roles.contains(&g.role))
}

/// Whether `grants` allow granting `role` in `scope`.
pub fn may_grant(grants: &[Grant], role: Role, scope: &Scope) -> bool {
    let target = scope.as_target();
    role.scope_kinds().contains(&scope.kind())
        && grants.iter().any(|g| {
            rule(Action::RoleAssign).roles.contains(&g.role)
                && g.role.grantable().contains(&role)
                && g.covers(&target)
        })
}

/// The matrix as a Markdown table, as published in the README.
pub fn render_markdown() -> String {
    let mut out = String::from("| permission | what it allows | reach |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for rule in MATRIX {
        let reach = match rule.reach {
            Reach::Within => "within scope",
            Reach::Street => "same street",
            Reach::Enclosing => "within scope or enclosing it",
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |",
            rule.name, rule.description, reach
        ));
        for role in Role::ALL {
            out.push_str(if rule.roles.contains(&role) {
                " ✓ |"
            } else {
                " |"
            });
        }
        out.push('\n');
    }
    out.push_str("\nRoles may grant: ");
    let grants: Vec<String> = Role::ALL
        .iter()
        .filter(|r| !r.grantable().is_empty())
        .map(|r| {
            let names: Vec<&str> = r.grantable().iter().map(|g| g.as_str()).collect();
            format!("`{}` → {}", r.as_str(), names.join(", "))
        })
        .collect();
    out.push_str(&grants.join("; "));
    out.push_str(".\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid, Uuid, Uuid, Uuid) {
        (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
            Uuid::from_u128(5),
        )
    }

    /// A row's target is in the area exactly when `allowed` says so.
    #[test]
    fn a_list_area_holds_what_allowed_allows() {
        let d = Uuid::from_u128(1);
        let node = |n: u128| Uuid::from_u128(n);
        // Two streets (10, 20), communities 11 and 21, grids 111, 112, 211.
        let rows = [
            Target::grid(d, node(10), node(11), node(111)),
            Target::grid(d, node(10), node(11), node(112)),
            Target::grid(d, node(20), node(21), node(211)),
            Target::community(d, node(10), node(11)),
            Target::street(d, node(20)),
        ];
        let in_area = |a: &Area, t: &Target| {
            a.everywhere
                || t.street.is_some_and(|s| a.streets.contains(&s))
                || t.community.is_some_and(|c| a.communities.contains(&c))
                || t.grid.is_some_and(|g| a.grids.contains(&g))
                || t.department.is_some_and(|x| a.departments.contains(&x))
        };
        let grants = [
            Grant {
                role: Role::GridWorker,
                scope: Scope::Grid {
                    district: d,
                    street: node(10),
                    community: node(11),
                    grid: node(111),
                },
            },
            Grant {
                role: Role::CommunityAdmin,
                scope: Scope::Community {
                    district: d,
                    street: node(20),
                    community: node(21),
                },
            },
            Grant {
                role: Role::StreetAdmin,
                scope: Scope::Street {
                    district: d,
                    street: node(10),
                },
            },
            Grant {
                role: Role::DistrictAdmin,
                scope: Scope::District { district: d },
            },
        ];
        for action in [
            Action::CaseRead,
            Action::DisputeRead,
            Action::PatrolRead,
            Action::HierarchyRead,
        ] {
            for g in &grants {
                let area = area(std::slice::from_ref(g), action);
                for t in &rows {
                    assert_eq!(
                        in_area(&area, t),
                        allowed(std::slice::from_ref(g), action, t),
                        "{action:?} {g:?} {t:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_action_has_exactly_one_rule() {
        let all = [
            Action::HierarchyRead,
            Action::StreetCreate,
            Action::StreetUpdate,
            Action::CommunityCreate,
            Action::CommunityUpdate,
            Action::GridCreate,
            Action::GridUpdate,
            Action::DepartmentRead,
            Action::DepartmentManage,
            Action::StaffRead,
            Action::StaffManage,
            Action::RoleAssign,
            Action::GridStaffAssign,
            Action::CoverageRead,
            Action::ApiKeyManage,
            Action::RegistryRead,
            Action::RegistryWrite,
            Action::ResidentReveal,
            Action::LedgerTypeManage,
            Action::LedgerRead,
            Action::LedgerWrite,
            Action::BreakGlass,
            Action::AuditRead,
            Action::CaseSetupRead,
            Action::CaseSetupManage,
            Action::CaseFile,
            Action::CaseRead,
            Action::CaseWork,
            Action::CaseTriage,
            Action::CaseApprove,
            Action::CaseRate,
            Action::CaseReporterReveal,
            Action::JobsManage,
            Action::SchedulesManage,
            Action::WebhooksManage,
            Action::DisputeRead,
            Action::DisputeRecord,
            Action::DisputePartyReveal,
            Action::WhistleBlow,
            Action::SummonsRead,
            Action::SummonsWork,
            Action::MediationSetup,
            Action::MediationKpis,
            Action::PatrolKeep,
            Action::PatrolRead,
            Action::MeetingManage,
            Action::MeetingRead,
        ];
        for a in all {
            assert_eq!(MATRIX.iter().filter(|r| r.action == a).count(), 1, "{a:?}");
        }
        assert_eq!(MATRIX.len(), all.len());
    }

    #[test]
    fn community_admin_edits_own_community_only() {
        let (d, s, c, other_c, g) = ids();
        let grants = [Grant {
            role: Role::CommunityAdmin,
            scope: Scope::Community {
                district: d,
                street: s,
                community: c,
            },
        }];
        assert!(allowed(
            &grants,
            Action::CommunityUpdate,
            &Target::community(d, s, c)
        ));
        assert!(!allowed(
            &grants,
            Action::CommunityUpdate,
            &Target::community(d, s, other_c)
        ));
        assert!(allowed(
            &grants,
            Action::GridCreate,
            &Target::community(d, s, c)
        ));
        assert!(allowed(
            &grants,
            Action::GridUpdate,
            &Target::grid(d, s, c, g)
        ));
        assert!(!allowed(
            &grants,
            Action::CommunityCreate,
            &Target::street(d, s)
        ));
        // Reads reach the whole street.
        assert!(allowed(
            &grants,
            Action::HierarchyRead,
            &Target::community(d, s, other_c)
        ));
        assert!(!allowed(
            &grants,
            Action::HierarchyRead,
            &Target::street(d, Uuid::from_u128(9))
        ));
    }

    #[test]
    fn ledger_access_follows_sensitivity() {
        use crate::ledger::Sensitivity::*;
        let (d, s, c, _, g) = ids();
        let other_grid = Target::grid(d, s, c, Uuid::from_u128(99));
        let worker = [Grant {
            role: Role::GridWorker,
            scope: Scope::Grid {
                district: d,
                street: s,
                community: c,
                grid: g,
            },
        }];
        let own = Target::grid(d, s, c, g);
        for level in [Open, Audited, Protected, Closed] {
            assert_eq!(ledger_access(&worker, level, &own), LedgerAccess::Allowed);
        }
        assert_eq!(
            ledger_access(&worker, Open, &other_grid),
            LedgerAccess::Allowed
        );
        assert_eq!(
            ledger_access(&worker, Audited, &other_grid),
            LedgerAccess::Allowed
        );
        assert_eq!(
            ledger_access(&worker, Protected, &other_grid),
            LedgerAccess::NeedsBreakGlass
        );
        assert_eq!(
            ledger_access(&worker, Closed, &other_grid),
            LedgerAccess::Denied
        );
        let elsewhere = Target::grid(
            d,
            Uuid::from_u128(50),
            Uuid::from_u128(51),
            Uuid::from_u128(52),
        );
        assert_eq!(
            ledger_access(&worker, Open, &elsewhere),
            LedgerAccess::Denied
        );
        let police = [Grant {
            role: Role::DepartmentStaff,
            scope: Scope::Department {
                district: d,
                department: Uuid::from_u128(7),
            },
        }];
        assert_eq!(ledger_access(&police, Open, &own), LedgerAccess::Denied);
    }

    #[test]
    fn grid_worker_has_exactly_its_permissions() {
        let (d, s, c, _, g) = ids();
        let grants = [Grant {
            role: Role::GridWorker,
            scope: Scope::Grid {
                district: d,
                street: s,
                community: c,
                grid: g,
            },
        }];
        let expected = [
            "hierarchy.read",
            "department.read",
            "registry.read",
            "registry.write",
            "resident.reveal",
            "ledger.read",
            "ledger.write",
            "ledger.break_glass",
            "case_setup.read",
            "case.file",
            "case.read",
            "case.work",
            "case.triage",
            "case.rate",
            "dispute.read",
            "dispute.record",
            "patrol.keep",
            "meeting.read",
        ];
        for rule in MATRIX {
            let may = allowed(&grants, rule.action, &Target::grid(d, s, c, g));
            assert_eq!(may, expected.contains(&rule.name), "{}", rule.name);
        }
    }

    #[test]
    fn department_staff_work_only_cases_routed_to_their_department() {
        use crate::cases::Step;
        let (d, s, c, g, dep) = ids();
        let grants = [Grant {
            role: Role::DepartmentStaff,
            scope: Scope::Department {
                district: d,
                department: dep,
            },
        }];
        let routed = Target {
            department: Some(dep),
            ..Target::grid(d, s, c, g)
        };
        let elsewhere = Target {
            department: Some(Uuid::from_u128(99)),
            ..Target::grid(d, s, c, g)
        };
        for step in Step::ALL {
            let action = step_action(step);
            let may = allowed(&grants, action, &routed);
            assert_eq!(may, action == Action::CaseWork, "{step:?}");
            assert!(!allowed(&grants, action, &elsewhere), "{step:?}");
        }
        assert!(allowed(&grants, Action::CaseRead, &routed));
        assert!(!allowed(
            &grants,
            Action::CaseRead,
            &Target::grid(d, s, c, g)
        ));
    }

    #[test]
    fn department_staff_read_the_whole_district() {
        let (d, s, _, _, dep) = ids();
        let grants = [Grant {
            role: Role::DepartmentStaff,
            scope: Scope::Department {
                district: d,
                department: dep,
            },
        }];
        assert!(allowed(
            &grants,
            Action::HierarchyRead,
            &Target::street(d, s)
        ));
        assert!(!allowed(
            &grants,
            Action::HierarchyRead,
            &Target::street(Uuid::from_u128(77), s)
        ));
        assert!(!allowed(&grants, Action::StaffRead, &Target::street(d, s)));
    }

    #[test]
    fn granting_follows_rank_and_scope() {
        let (d, s, c, other_c, g) = ids();
        let street_admin = [Grant {
            role: Role::StreetAdmin,
            scope: Scope::Street {
                district: d,
                street: s,
            },
        }];
        assert!(may_grant(
            &street_admin,
            Role::CommunityAdmin,
            &Scope::Community {
                district: d,
                street: s,
                community: c
            }
        ));
        assert!(!may_grant(
            &street_admin,
            Role::StreetAdmin,
            &Scope::Street {
                district: d,
                street: s
            }
        ));
        assert!(!may_grant(
            &street_admin,
            Role::DistrictAdmin,
            &Scope::District { district: d }
        ));
        // The scope kind must match the role.
        assert!(!may_grant(
            &street_admin,
            Role::GridWorker,
            &Scope::Community {
                district: d,
                street: s,
                community: c
            }
        ));
        let community_admin = [Grant {
            role: Role::CommunityAdmin,
            scope: Scope::Community {
                district: d,
                street: s,
                community: c,
            },
        }];
        assert!(may_grant(
            &community_admin,
            Role::GridWorker,
            &Scope::Grid {
                district: d,
                street: s,
                community: c,
                grid: g
            }
        ));
        assert!(!may_grant(
            &community_admin,
            Role::GridWorker,
            &Scope::Grid {
                district: d,
                street: s,
                community: other_c,
                grid: g
            }
        ));
        assert!(!may_grant(
            &community_admin,
            Role::CommunityAdmin,
            &Scope::Community {
                district: d,
                street: s,
                community: c
            }
        ));
    }

    /// Derived from the matrix: for every ✓ the role, held in each scope kind
    /// it can be held in, can act on an object at one of the rule's object
    /// levels on its own path; for every blank it acts on nothing anywhere.
    #[test]
    fn every_tick_has_an_object_the_role_can_act_on_and_every_blank_refuses() {
        let (d, s, c, g, dep) = ids();
        let levels = [
            ScopeKind::District,
            ScopeKind::Street,
            ScopeKind::Community,
            ScopeKind::Grid,
        ];
        let on_path = |kind: ScopeKind, department: Option<Uuid>| Target {
            department,
            ..match kind {
                ScopeKind::District | ScopeKind::Department => Target::district(d),
                ScopeKind::Street => Target::street(d, s),
                ScopeKind::Community => Target::community(d, s, c),
                ScopeKind::Grid => Target::grid(d, s, c, g),
            }
        };
        let mut checked = 0;
        for role in Role::ALL {
            for &kind in role.scope_kinds() {
                let scope = match kind {
                    ScopeKind::District => Scope::District { district: d },
                    ScopeKind::Street => Scope::Street {
                        district: d,
                        street: s,
                    },
                    ScopeKind::Community => Scope::Community {
                        district: d,
                        street: s,
                        community: c,
                    },
                    ScopeKind::Grid => Scope::Grid {
                        district: d,
                        street: s,
                        community: c,
                        grid: g,
                    },
                    ScopeKind::Department => Scope::Department {
                        district: d,
                        department: dep,
                    },
                };
                let grants = [Grant { role, scope }];
                // Department staff's objects are the ones routed to them.
                let routed = (kind == ScopeKind::Department).then_some(dep);
                for rule in MATRIX {
                    let who = format!("{} held in a {}", role.as_str(), kind.as_str());
                    if rule.roles.contains(&role) {
                        assert!(
                            rule.objects.iter().any(|&at| allowed(
                                &grants,
                                rule.action,
                                &on_path(at, routed)
                            )),
                            "{}: {who} has a tick but no {:?} object it may act on",
                            rule.name,
                            rule.objects
                        );
                    } else {
                        for at in levels {
                            for department in [None, Some(dep)] {
                                assert!(
                                    !allowed(&grants, rule.action, &on_path(at, department)),
                                    "{}: {who} has no tick yet may act at {}",
                                    rule.name,
                                    at.as_str()
                                );
                            }
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(
            checked,
            MATRIX.len() * 8,
            "seven roles, eight role-scope pairs"
        );
    }

    #[test]
    fn enclosing_reaches_up_the_path_and_never_sideways() {
        let (d, s, c, other_c, g) = ids();
        let worker = [Grant {
            role: Role::GridWorker,
            scope: Scope::Grid {
                district: d,
                street: s,
                community: c,
                grid: g,
            },
        }];
        let read = Action::MeetingRead;
        assert!(allowed(&worker, read, &Target::community(d, s, c)));
        assert!(allowed(&worker, read, &Target::grid(d, s, c, g)));
        assert!(!allowed(&worker, read, &Target::community(d, s, other_c)));
        assert!(!allowed(
            &worker,
            read,
            &Target::grid(d, s, c, Uuid::from_u128(98))
        ));
        assert!(!allowed(
            &worker,
            read,
            &Target::community(Uuid::from_u128(97), s, c)
        ));
        // Within-reach rules still stop at the grid.
        assert!(!allowed(
            &worker,
            Action::CaseRead,
            &Target::community(d, s, c)
        ));
    }

    #[test]
    fn markdown_lists_every_rule_and_role() {
        let md = render_markdown();
        for rule in MATRIX {
            assert!(md.contains(rule.name));
        }
        for role in Role::ALL {
            assert!(md.contains(role.as_str()));
        }
    }
}
