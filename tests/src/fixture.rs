//! The standard world of the tests, built through the store functions the
//! API handlers call, as a logged-in district admin: one district, two
//! streets (A with two communities, B with one), grids, staff in every role.

use std::collections::HashMap;

use onegrid_api::seed;
use onegrid_domain::permissions::{Role, Scope};
use onegrid_domain::staffing::StaffKind;
use onegrid_store::page::PageRequest;
use onegrid_store::platform::staff::{NewGridAssignment, NewUser};
use onegrid_store::registry::hierarchy::NewGrid;
use onegrid_store::{
    ledgers, platform::staff, registry::departments, registry::hierarchy, registry::households,
    scope,
};
use uuid::Uuid;

use crate::{PASSWORD, TestApp};

/// Ids of everything in the standard world.
#[derive(Debug, Clone)]
pub struct World {
    pub district: Uuid,
    pub departments: HashMap<String, Uuid>,
    pub street_a: Uuid,
    pub street_b: Uuid,
    pub community_a1: Uuid,
    pub community_a2: Uuid,
    pub community_b1: Uuid,
    pub grid_a1_1: Uuid,
    pub grid_a1_2: Uuid,
    pub grid_a2_1: Uuid,
    pub grid_b1_1: Uuid,
    /// username → user id.
    pub users: HashMap<String, Uuid>,
    /// username → id of the role assignment the fixture gave them.
    pub roles: HashMap<String, Uuid>,
    /// The full-time assignment of grid A1-1.
    pub assignment_a1_1_full_time: Uuid,
    /// The full-time assignment of grid B1-1.
    pub assignment_b1_1_full_time: Uuid,
    /// A resident of grid A1-1 with ID number [`ID_A`] and phone [`PHONE_A`].
    pub resident_a: Uuid,
    /// A resident of grid B1-1 with the same ID number (another street's registry).
    pub resident_b: Uuid,
    /// A protected ledger type owned by street A (`a_youth`, about residents).
    pub ledger_type_a: Uuid,
    /// A record of it about `resident_a`.
    pub record_a: Uuid,
    /// 1号楼 / 1单元 / 101 of grid A1-1, and a household living there.
    pub building_a: Uuid,
    pub unit_a: Uuid,
    pub household_a: Uuid,
}

/// The fixture resident's ID number (valid GB 11643 check digit).
pub const ID_A: &str = "11010519491231002X";
/// The fixture resident's phone.
pub const PHONE_A: &str = "13812341234";

impl World {
    pub fn user(&self, username: &str) -> Uuid {
        self.users[username]
    }
}

/// Who gets which role where (username, display name, home street, role, scope).
type Staffing = (&'static str, Option<Uuid>, Role, Scope);

impl World {
    /// Builds the standard world in `app`'s database.
    pub async fn build(app: &TestApp) -> World {
        let boot = seed::bootstrap(
            &mut app.system().await,
            "150203",
            "昆都仑区",
            "d-admin",
            PASSWORD,
            crate::roles_since(),
        )
        .await
        .unwrap();
        let district = boot.district_id;
        let mut users = HashMap::from([("d-admin".to_owned(), boot.admin_id)]);
        let keys = app.state.keys.clone();
        seed::as_user(&app.state.db, "d-admin", PASSWORD, app.clock.now(), move |c, mut p| {
            Box::pin(async move {
                let today = crate::roles_since();
                let me = Some(p.accountable_user());
                let deps: HashMap<String, Uuid> = departments::list(
                    c,
                    &PageRequest {
                        after: None,
                        limit: 50,
                    },
                )
                .await?
                .items
                .into_iter()
                .map(|d| (d.code, d.id))
                .collect();
                let a = hierarchy::create_street(c, district, "150203001", "团结街道").await?;
                let b = hierarchy::create_street(c, district, "150203002", "林荫路街道").await?;
                scope::refresh_streets(c, &mut p).await?;
                let a1 =
                    hierarchy::create_community(c, a.id, "150203001001", "明日星城社区").await?;
                let a2 = hierarchy::create_community(c, a.id, "150203001002", "阳光社区").await?;
                let b1 = hierarchy::create_community(c, b.id, "150203002001", "青山社区").await?;
                let grid = |street: Uuid,
                            community: Uuid,
                            code: &'static str,
                            name: &'static str| NewGrid {
                    street_id: street,
                    community_id: community,
                    code,
                    name,
                    target_households: Some(450),
                    boundary: None,
                };
                let g11 =
                    hierarchy::create_grid(c, grid(a.id, a1.id, "150203001001001", "第一网格"))
                        .await?;
                let g12 =
                    hierarchy::create_grid(c, grid(a.id, a1.id, "150203001001002", "第二网格"))
                        .await?;
                let g21 =
                    hierarchy::create_grid(c, grid(a.id, a2.id, "150203001002001", "阳光一网格"))
                        .await?;
                let gb =
                    hierarchy::create_grid(c, grid(b.id, b1.id, "150203002001001", "青山一网格"))
                        .await?;

                let scope_a = Scope::Street {
                    district,
                    street: a.id,
                };
                let scope_a1 = Scope::Community {
                    district,
                    street: a.id,
                    community: a1.id,
                };
                let staffing: Vec<Staffing> = vec![
                    ("a-admin", Some(a.id), Role::StreetAdmin, scope_a),
                    (
                        "b-admin",
                        Some(b.id),
                        Role::StreetAdmin,
                        Scope::Street {
                            district,
                            street: b.id,
                        },
                    ),
                    ("a1-admin", Some(a.id), Role::CommunityAdmin, scope_a1),
                    (
                        "a2-admin",
                        Some(a.id),
                        Role::CommunityAdmin,
                        Scope::Community {
                            district,
                            street: a.id,
                            community: a2.id,
                        },
                    ),
                    (
                        "b1-admin",
                        Some(b.id),
                        Role::CommunityAdmin,
                        Scope::Community {
                            district,
                            street: b.id,
                            community: b1.id,
                        },
                    ),
                    ("a1-chief", Some(a.id), Role::GridChief, scope_a1),
                    (
                        "a1-worker",
                        Some(a.id),
                        Role::GridWorker,
                        Scope::Grid {
                            district,
                            street: a.id,
                            community: a1.id,
                            grid: g11.id,
                        },
                    ),
                    (
                        "b1-worker",
                        Some(b.id),
                        Role::GridWorker,
                        Scope::Grid {
                            district,
                            street: b.id,
                            community: b1.id,
                            grid: gb.id,
                        },
                    ),
                    ("a-auditor", Some(a.id), Role::Auditor, scope_a),
                    (
                        "d-auditor",
                        None,
                        Role::Auditor,
                        Scope::District { district },
                    ),
                    (
                        "police",
                        None,
                        Role::DepartmentStaff,
                        Scope::Department {
                            district,
                            department: deps["police"],
                        },
                    ),
                ];
                let mut users = HashMap::new();
                let mut roles = HashMap::new();
                for (username, street, role, scope) in staffing {
                    let u = staff::create_user(
                        c,
                        NewUser {
                            district_id: district,
                            street_id: street,
                            username: username.into(),
                            display_name: format!("{username} 测试"),
                            password: PASSWORD.into(),
                        },
                    )
                    .await?;
                    let r = staff::assign_role(c, u.id, role, &scope, (today, None), me).await?;
                    users.insert(username.to_owned(), u.id);
                    roles.insert(username.to_owned(), r.id);
                }
                let part_time = staff::create_user(
                    c,
                    NewUser {
                        district_id: district,
                        street_id: Some(a.id),
                        username: "a1-pt".into(),
                        display_name: "宋金伟".into(),
                        password: PASSWORD.into(),
                    },
                )
                .await?;
                users.insert("a1-pt".into(), part_time.id);
                let assign =
                    |street: Uuid, grid: Uuid, user: Uuid, kind: StaffKind| NewGridAssignment {
                        street_id: street,
                        grid_id: grid,
                        user_id: user,
                        kind,
                        district_id: district,
                        department_id: None,
                        duty: None,
                        valid_from: today,
                        valid_to: None,
                        created_by: me,
                    };
                let ft = staff::assign_grid_staff(
                    c,
                    assign(a.id, g11.id, users["a1-worker"], StaffKind::FullTime),
                )
                .await?;
                staff::assign_grid_staff(
                    c,
                    assign(a.id, g11.id, part_time.id, StaffKind::PartTime),
                )
                .await?;
                let ftb = staff::assign_grid_staff(
                    c,
                    assign(b.id, gb.id, users["b1-worker"], StaffKind::FullTime),
                )
                .await?;
                let id_number = onegrid_domain::identity::parse_id_number(ID_A, today).ok();
                let resident = |street: Uuid, grid: Uuid, name: &str| households::NewResident {
                    street_id: street,
                    grid_id: grid,
                    household_id: None,
                    relation: None,
                    name: name.into(),
                    id_number: id_number.clone(),
                    phone: Some(PHONE_A.into()),
                    tags: vec![],
                };
                let ra =
                    households::create_resident(c, &keys, resident(a.id, g11.id, "张芬")).await?;
                let rb = households::create_resident(c, &keys, resident(b.id, gb.id, "李青")).await?;
                let building = households::create_building(c, a.id, g11.id, "1号楼", None).await?;
                let unit = households::create_unit(c, &building, "1单元").await?;
                let dwelling = households::create_dwelling(c, &unit, g11.id, "101").await?;
                let household = households::create_household(c, a.id, g11.id, Some(dwelling.id), None).await?;
                let fields: Vec<onegrid_domain::ledger::FieldDef> =
                    serde_json::from_value(serde_json::json!([{"key": "school", "label": "学校", "type": "text", "required": true}])).unwrap();
                let youth = ledgers::create_type(
                    c,
                    ledgers::NewLedgerType {
                        district_id: district,
                        street_id: Some(a.id),
                        community_id: None,
                        code: "a_youth".into(),
                        name: "重点青少年".into(),
                        description: None,
                        subject: onegrid_domain::ledger::Subject::Resident,
                        sensitivity: onegrid_domain::ledger::Sensitivity::Protected,
                        mask_name: true,
                        verify_period_days: 30,
                        fields,
                    },
                )
                .await?;
                let record = ledgers::create_record(
                    c,
                    ledgers::NewRecord {
                        street_id: a.id,
                        ledger_type_id: youth.id,
                        grid_id: g11.id,
                        resident_id: Some(ra.id),
                        household_id: None,
                        data: serde_json::json!({"school": "昆都仑区第一中学"}),
                    },
                    p.accountable_user(),
                )
                .await?;
                Ok(World {
                    district,
                    departments: deps,
                    street_a: a.id,
                    street_b: b.id,
                    community_a1: a1.id,
                    community_a2: a2.id,
                    community_b1: b1.id,
                    grid_a1_1: g11.id,
                    grid_a1_2: g12.id,
                    grid_a2_1: g21.id,
                    grid_b1_1: gb.id,
                    users,
                    roles,
                    assignment_a1_1_full_time: ft.id,
                    assignment_b1_1_full_time: ftb.id,
                    resident_a: ra.id,
                    resident_b: rb.id,
                    ledger_type_a: youth.id,
                    record_a: record.id,
                    building_a: building.id,
                    unit_a: unit.id,
                    household_a: household.id,
                })
            })
        })
        .await
        .map(|mut w| {
            w.users.extend(users.drain());
            w
        })
        .unwrap()
    }
}
