//! Bootstrap (the first district and its admin) and the demo data, loaded
//! through the same store functions the API handlers call, as a logged-in
//! district admin.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use onegrid_domain::permissions::{Role, Scope};
use onegrid_domain::staffing::StaffKind;
use onegrid_store::platform::staff::{NewGridAssignment, NewUser};
use onegrid_store::registry::hierarchy::NewGrid;
use onegrid_store::scope::Session;
use onegrid_store::{
    Acting, Db, StoreError, System, platform::auth, platform::staff, registry::departments,
    registry::hierarchy,
};
use uuid::Uuid;

/// The password of every demo account (documented in the README).
pub const DEMO_PASSWORD: &str = "OneGrid-demo-2026";

/// What bootstrap created (or found).
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub district_id: Uuid,
    pub admin_id: Uuid,
    pub created: bool,
}

/// Creates a district with its ten default departments and a district admin,
/// through the owner connection (districts cannot be created through the API).
/// Does nothing if the district code exists. The admin's role starts on `today`.
pub async fn bootstrap(
    system: &mut System,
    code: &str,
    name: &str,
    admin_username: &str,
    admin_password: &str,
    today: NaiveDate,
) -> Result<Bootstrapped, StoreError> {
    onegrid_domain::codes::check_code(onegrid_domain::codes::Level::District, code, None)
        .map_err(|e| StoreError::Unavailable(format!("district code {code}: {e}")))?;
    let (code, name, username, password) = (
        code.to_owned(),
        name.to_owned(),
        admin_username.to_owned(),
        admin_password.to_owned(),
    );
    let lookup = code.clone();
    let existing: Option<Uuid> = system
        .run(Acting::Nobody, move |c| {
            Box::pin(async move {
                #[derive(diesel::QueryableByName)]
                struct Found {
                    #[diesel(sql_type = diesel::sql_types::Uuid)]
                    id: Uuid,
                }
                let found: Option<Found> =
                    diesel::sql_query("SELECT id FROM districts WHERE code = $1")
                        .bind::<Text, _>(&lookup)
                        .get_result(c)
                        .await
                        .optional_found()?;
                Ok::<_, StoreError>(found.map(|f| f.id))
            })
        })
        .await?;
    if let Some(district_id) = existing {
        return Ok(Bootstrapped {
            district_id,
            admin_id: Uuid::nil(),
            created: false,
        });
    }
    let district_id = Uuid::now_v7();
    system
        .run(Acting::WholeDistrict(district_id), move |c| {
            Box::pin(async move {
                hierarchy::create_district(c, district_id, &code, &name).await?;
                departments::seed_defaults(c, district_id).await?;
                onegrid_store::ledgers::ensure_built_in(c, district_id).await?;
                onegrid_store::cases::setup::ensure_reference(c, district_id).await?;
                let admin = staff::create_user(
                    c,
                    NewUser {
                        district_id,
                        street_id: None,
                        username,
                        display_name: format!("{name}管理员"),
                        password,
                    },
                )
                .await?;
                staff::assign_role(
                    c,
                    admin.id,
                    Role::DistrictAdmin,
                    &Scope::District {
                        district: district_id,
                    },
                    (today, None),
                    None,
                )
                .await?;
                Ok(Bootstrapped {
                    district_id,
                    admin_id: admin.id,
                    created: true,
                })
            })
        })
        .await
}

/// Adds reference data that later versions introduced (the built-in ledger
/// types, the case calendar, tiers and catalogue) to every existing district; returns how many rows were added.
pub async fn ensure_reference_data(system: &mut System) -> Result<usize, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct District {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let districts: Vec<District> = system
        .run(Acting::Nobody, |c| {
            Box::pin(async move {
                Ok::<_, StoreError>(
                    diesel::sql_query("SELECT id FROM districts")
                        .load(c)
                        .await?,
                )
            })
        })
        .await?;
    let mut added = 0;
    for d in districts {
        added += system
            .run::<_, StoreError, _>(Acting::District(d.id), move |c| {
                Box::pin(async move {
                    let ledgers = onegrid_store::ledgers::ensure_built_in(c, d.id).await?;
                    Ok(ledgers + onegrid_store::cases::setup::ensure_reference(c, d.id).await?)
                })
            })
            .await?;
    }
    Ok(added)
}

trait OptionalFound<T> {
    fn optional_found(self) -> Result<Option<T>, StoreError>;
}

impl<T> OptionalFound<T> for Result<T, diesel::result::Error> {
    fn optional_found(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Logs in as `username` and runs `f` as that user at `now`, like a request would.
pub async fn as_user<T, F>(
    db: &Db,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
    f: F,
) -> Result<T, StoreError>
where
    F: for<'c> FnOnce(
            &'c mut onegrid_store::Conn,
            onegrid_store::Principal,
        ) -> futures_util::future::BoxFuture<'c, Result<T, StoreError>>
        + Send,
    T: Send,
{
    let (username, password) = (username.to_owned(), password.to_owned());
    let issued = db
        .acting(onegrid_store::Acting::Nobody, move |c| {
            Box::pin(async move {
                auth::login(c, &username, &password, Duration::minutes(5), now).await
            })
        })
        .await?;
    let session = Session::User {
        user_id: issued.user_id,
        session_id: issued.session_id,
        district_id: issued.district_id,
    };
    let out = db.as_principal(session, f).await;
    db.as_principal(
        Session::User {
            user_id: issued.user_id,
            session_id: issued.session_id,
            district_id: issued.district_id,
        },
        move |c, _| {
            Box::pin(async move { auth::revoke_session(c, issued.session_id, "seed", now).await })
        },
    )
    .await?;
    out
}

struct Person {
    username: &'static str,
    name: &'static str,
}

const GRID_NAMES: [&str; 7] = [
    "第一网格",
    "第二网格",
    "第三网格",
    "第四网格",
    "第五网格",
    "第六网格",
    "第七网格",
];
const GRID_HOUSEHOLDS: [i32; 7] = [452, 448, 455, 446, 450, 453, 447];
const FULL_TIME: [Person; 7] = [
    Person {
        username: "suyue",
        name: "苏月",
    },
    Person {
        username: "mrxc-g2-ft",
        name: "李红",
    },
    Person {
        username: "mrxc-g3-ft",
        name: "王芳",
    },
    Person {
        username: "mrxc-g4-ft",
        name: "张伟",
    },
    Person {
        username: "mrxc-g5-ft",
        name: "刘洋",
    },
    Person {
        username: "mrxc-g6-ft",
        name: "赵静",
    },
    Person {
        username: "mrxc-g7-ft",
        name: "孙磊",
    },
];

/// Loads the demo: 昆都仑区 (150203) → 团结街道 → 明日星城社区 with 7 grids and
/// their staff (grid 7 deliberately lacks a department grid worker), the ten
/// departments with one staff member each, an auditor, and a second street
/// (林荫路街道) with its own community and users, so the tenant wall can be seen.
/// Returns false when the demo district already exists.
pub async fn demo(system: &mut System, db: &Db, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let today = onegrid_domain::clock::china_date(now);
    let boot = bootstrap(
        system,
        "150203",
        "昆都仑区",
        "kdl-admin",
        DEMO_PASSWORD,
        today,
    )
    .await?;
    if !boot.created {
        return Ok(false);
    }
    let district = boot.district_id;
    as_user(db, "kdl-admin", DEMO_PASSWORD, now, move |c, mut p| {
        Box::pin(async move {
            let valid = (today, None);
            let me = Some(p.accountable_user());
            let user = |username: &str, name: &str, street: Option<Uuid>| NewUser {
                district_id: district,
                street_id: street,
                username: username.to_owned(),
                display_name: name.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
            };

            let auditor = staff::create_user(c, user("kdl-auditor", "区审计员", None)).await?;
            staff::assign_role(
                c,
                auditor.id,
                Role::Auditor,
                &Scope::District { district },
                valid,
                me,
            )
            .await?;

            let mut department_staff = Vec::new();
            for d in departments::list(c, &onegrid_store::page::PageRequest::first(50))
                .await?
                .items
            {
                let u = staff::create_user(
                    c,
                    user(
                        &format!("dept-{}", d.code.replace('_', "-")),
                        &format!("{}部门网格员", d.name),
                        None,
                    ),
                )
                .await?;
                staff::assign_role(
                    c,
                    u.id,
                    Role::DepartmentStaff,
                    &Scope::Department {
                        district,
                        department: d.id,
                    },
                    valid,
                    me,
                )
                .await?;
                department_staff.push((u.id, d.id));
            }

            let tuanjie = hierarchy::create_street(c, district, "150203001", "团结街道").await?;
            let linyin = hierarchy::create_street(c, district, "150203002", "林荫路街道").await?;
            onegrid_store::scope::refresh_streets(c, &mut p).await?;

            let admin =
                staff::create_user(c, user("tuanjie-admin", "团结街道管理员", Some(tuanjie.id)))
                    .await?;
            staff::assign_role(
                c,
                admin.id,
                Role::StreetAdmin,
                &Scope::Street {
                    district,
                    street: tuanjie.id,
                },
                valid,
                me,
            )
            .await?;

            let mrxc =
                hierarchy::create_community(c, tuanjie.id, "150203001001", "明日星城社区").await?;
            let community = Scope::Community {
                district,
                street: tuanjie.id,
                community: mrxc.id,
            };
            let secretary =
                staff::create_user(c, user("chenlihua", "陈立华", Some(tuanjie.id))).await?;
            staff::assign_role(c, secretary.id, Role::CommunityAdmin, &community, valid, me)
                .await?;
            let chief =
                staff::create_user(c, user("mrxc-chief", "明日星城网格长", Some(tuanjie.id)))
                    .await?;
            staff::assign_role(c, chief.id, Role::GridChief, &community, valid, me).await?;

            for (i, ((grid_name, households), full_time)) in GRID_NAMES
                .iter()
                .zip(GRID_HOUSEHOLDS)
                .zip(&FULL_TIME)
                .enumerate()
            {
                let code = format!("150203001001{:03}", i + 1);
                let grid = hierarchy::create_grid(
                    c,
                    NewGrid {
                        street_id: tuanjie.id,
                        community_id: mrxc.id,
                        code: &code,
                        name: grid_name,
                        target_households: Some(households),
                        boundary: None,
                    },
                )
                .await?;
                let scope = Scope::Grid {
                    district,
                    street: tuanjie.id,
                    community: mrxc.id,
                    grid: grid.id,
                };
                let assign = |user_id: Uuid,
                              kind: StaffKind,
                              department_id: Option<Uuid>,
                              duty: Option<&str>| NewGridAssignment {
                    street_id: tuanjie.id,
                    grid_id: grid.id,
                    user_id,
                    kind,
                    district_id: district,
                    department_id,
                    duty: duty.map(str::to_owned),
                    valid_from: today,
                    valid_to: None,
                    created_by: me,
                };
                let ft = staff::create_user(
                    c,
                    user(full_time.username, full_time.name, Some(tuanjie.id)),
                )
                .await?;
                staff::assign_role(c, ft.id, Role::GridWorker, &scope, valid, me).await?;
                staff::assign_grid_staff(
                    c,
                    assign(ft.id, StaffKind::FullTime, None, Some("专职网格员")),
                )
                .await?;
                for (n, duty) in ["楼栋长", "单元长"].into_iter().enumerate() {
                    let username = if i == 0 && n == 0 {
                        "songjinwei".to_owned()
                    } else {
                        format!("mrxc-g{}-pt{}", i + 1, n + 1)
                    };
                    let name = if i == 0 && n == 0 {
                        "宋金伟".to_owned()
                    } else {
                        format!("{grid_name}{duty}")
                    };
                    let pt =
                        staff::create_user(c, user(&username, &name, Some(tuanjie.id))).await?;
                    staff::assign_role(c, pt.id, Role::GridWorker, &scope, valid, me).await?;
                    staff::assign_grid_staff(
                        c,
                        assign(pt.id, StaffKind::PartTime, None, Some(duty)),
                    )
                    .await?;
                }
                // Grid 7 is the deliberate 一格三员 gap: no department grid worker.
                if i < 6 {
                    for (user_id, department_id) in department_staff.iter().skip(i).step_by(6) {
                        staff::assign_grid_staff(
                            c,
                            assign(
                                *user_id,
                                StaffKind::Department,
                                Some(*department_id),
                                Some("部门网格员"),
                            ),
                        )
                        .await?;
                    }
                }
            }

            let linyin_admin =
                staff::create_user(c, user("linyin-admin", "林荫路街道管理员", Some(linyin.id)))
                    .await?;
            staff::assign_role(
                c,
                linyin_admin.id,
                Role::StreetAdmin,
                &Scope::Street {
                    district,
                    street: linyin.id,
                },
                valid,
                me,
            )
            .await?;
            let qingshan =
                hierarchy::create_community(c, linyin.id, "150203002001", "青山社区").await?;
            let qs_admin =
                staff::create_user(c, user("qingshan-admin", "青山社区书记", Some(linyin.id)))
                    .await?;
            staff::assign_role(
                c,
                qs_admin.id,
                Role::CommunityAdmin,
                &Scope::Community {
                    district,
                    street: linyin.id,
                    community: qingshan.id,
                },
                valid,
                me,
            )
            .await?;
            for n in 1..=2 {
                let grid = hierarchy::create_grid(
                    c,
                    NewGrid {
                        street_id: linyin.id,
                        community_id: qingshan.id,
                        code: &format!("150203002001{n:03}"),
                        name: &format!("青山第{n}网格"),
                        target_households: Some(450),
                        boundary: None,
                    },
                )
                .await?;
                let w = staff::create_user(
                    c,
                    user(
                        &format!("qingshan-g{n}-ft"),
                        &format!("青山第{n}网格专职网格员"),
                        Some(linyin.id),
                    ),
                )
                .await?;
                staff::assign_role(
                    c,
                    w.id,
                    Role::GridWorker,
                    &Scope::Grid {
                        district,
                        street: linyin.id,
                        community: qingshan.id,
                        grid: grid.id,
                    },
                    valid,
                    me,
                )
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(true)
}
