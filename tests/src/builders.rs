//! Builders of what several suites need beyond the standard world: each
//! goes through the API as a user would, and returns what the API answered.

use serde_json::{Value, json};

use crate::TestApp;
use crate::fixture::World;

impl TestApp {
    /// The district's mediation panel: (code, id) of each department on it.
    pub async fn panel(&self, token: &str) -> Vec<(String, String)> {
        let s = self.get_as(token, "/api/v1/mediation-settings").await;
        s.ok(200)["panel"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// A dispute of community a1 filed by `worker` (a resident and two
    /// people with phones), still at the grid.
    pub async fn grid_dispute(&self, w: &World, worker: &str) -> Value {
        let d = self.post_as(worker, "/api/v1/disputes", &json!({"grid_id": w.grid_a1_1, "kind": "property", "summary": "物业费与漏水维修纠纷",
                "parties": [
                    {"role": "applicant", "resident_id": w.resident_a},
                    {"role": "respondent", "name": "鑫源物业", "organisation": true, "phone": "0472-5123456"},
                    {"role": "other", "name": "刘洋", "phone": "13900004321"}
                ]})).await;
        d.ok(201).clone()
    }

    /// A dispute of community a1, moved up to the street (by `worker`, then
    /// by the street's `a_admin`).
    pub async fn street_dispute(&self, w: &World, worker: &str, a_admin: &str) -> Value {
        let d = self.grid_dispute(w, worker).await;
        assert_eq!(
            (d["level"].as_str(), d["status"].as_str()),
            (Some("grid"), Some("open"))
        );
        let path = format!("/api/v1/disputes/{}/escalate", d["id"].as_str().unwrap());
        self.post_at(worker, &path, "\"1\"", &json!({"reason": "网格调解未果"}))
            .await
            .ok(200);
        let up = self
            .post_at(
                a_admin,
                &path,
                "\"2\"",
                &json!({"reason": "社区调解室调解未果"}),
            )
            .await;
        assert_eq!(up.ok(200)["level"], "street");
        up.body.clone()
    }

    /// The whistle `a_admin` blows on `dispute`, summoning `departments`
    /// (ids) with the given reason.
    pub async fn whistle(
        &self,
        a_admin: &str,
        dispute: &Value,
        reason: &str,
        departments: &[&String],
    ) -> Value {
        self.post_as(
            a_admin,
            "/api/v1/whistles",
            &json!({"dispute_id": dispute["id"], "reason": reason,
                "summary": "业主聚集，请各部门到场联合调处", "department_ids": departments}),
        )
        .await
        .ok(201)
        .clone()
    }

    /// The caller's notifications of one kind (up to 200, newest first).
    pub async fn notifications_of_kind(&self, token: &str, kind: &str) -> Vec<Value> {
        let r = self
            .get_as(token, "/api/v1/me/notifications?limit=200")
            .await;
        r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == kind)
            .cloned()
            .collect()
    }
}

/// What [`TestApp::build_street`] builds: a street with `communities`
/// communities of `grids` grids each; every grid staffed with a full-time
/// worker (a new account holding the grid worker's role there), with
/// `residents` residents and `cases` cases its worker files.
#[derive(Debug, Clone, Copy)]
pub struct StreetPlan {
    /// The street's three-digit number in the district (`150203NNN`).
    pub number: u16,
    pub communities: usize,
    pub grids: usize,
    pub residents: usize,
    pub cases: usize,
}

/// A street built by [`TestApp::build_street`], as the API answered.
#[derive(Debug, Clone)]
pub struct BuiltStreet {
    pub id: String,
    /// The street admin's username.
    pub admin: String,
    pub communities: Vec<String>,
    /// Each grid with its full-time worker's username.
    pub grids: Vec<(String, String)>,
    pub residents: Vec<String>,
    pub cases: Vec<Value>,
}

impl TestApp {
    /// Builds `plan`'s street through the API, as the district admin
    /// (`d_admin`) and then the street's own people would: the street, its
    /// admin, communities, grids, workers, staffing, residents and cases.
    pub async fn build_street(&self, d_admin: &str, plan: StreetPlan) -> BuiltStreet {
        let code = format!("150203{:03}", plan.number);
        let street = self
            .post_as(
                d_admin,
                "/api/v1/streets",
                &json!({"code": code, "name": format!("{code}街道")}),
            )
            .await
            .created_id();
        let admin = format!("admin-{code}");
        self.staff_account(
            d_admin,
            &admin,
            &street,
            json!({"street_id": street}),
            "street_admin",
        )
        .await;
        let admin_token = self.token(&admin).await;
        let mut built = BuiltStreet {
            id: street.clone(),
            admin,
            communities: Vec::new(),
            grids: Vec::new(),
            residents: Vec::new(),
            cases: Vec::new(),
        };
        for c in 1..=plan.communities {
            let code = format!("{code}{c:03}");
            let community = self
                .post_as(
                    &admin_token,
                    &format!("/api/v1/streets/{street}/communities"),
                    &json!({"code": code, "name": format!("{code}社区")}),
                )
                .await
                .created_id();
            built.communities.push(community.clone());
            for g in 1..=plan.grids {
                let code = format!("{code}{g:03}");
                let grid = self
                    .post_as(&admin_token, &format!("/api/v1/communities/{community}/grids"), &json!({"code": code, "name": format!("{code}网格"), "target_households": 450}))
                    .await
                    .created_id();
                let worker = format!("worker-{code}");
                let user = self
                    .staff_account(
                        &admin_token,
                        &worker,
                        &street,
                        json!({"grid_id": grid}),
                        "grid_worker",
                    )
                    .await;
                self.post_as(
                    &admin_token,
                    &format!("/api/v1/grids/{grid}/staff"),
                    &json!({"user_id": user, "kind": "full_time"}),
                )
                .await
                .ok(201);
                let worker_token = self.token(&worker).await;
                for r in 0..plan.residents {
                    let resident = self
                        .post_as(
                            &worker_token,
                            &format!("/api/v1/grids/{grid}/residents"),
                            &json!({"name": format!("居民{code}-{r}")}),
                        )
                        .await
                        .created_id();
                    built.residents.push(resident);
                }
                if plan.cases > 0 {
                    let category = self.case_category(&worker_token, "03.02").await;
                    for n in 0..plan.cases {
                        let case = self
                            .file_case(&worker_token, &json!({"channel": "patrol", "category_id": category, "grid_id": grid,
                                "title": format!("楼道堆物 {code}-{n}"), "description": "楼道堆放杂物"}))
                            .await;
                        built.cases.push(case);
                    }
                }
                built.grids.push((grid, worker));
            }
        }
        built
    }

    /// A new account `username` homed in `street`, granted `role` in `scope`
    /// by `granter`; returns its id.
    async fn staff_account(
        &self,
        granter: &str,
        username: &str,
        street: &str,
        scope: Value,
        role: &str,
    ) -> String {
        let user = self
            .post_as(
                granter,
                "/api/v1/users",
                &json!({"username": username, "display_name": username,
                "password": crate::PASSWORD, "street_id": street}),
            )
            .await
            .created_id();
        self.post_as(
            granter,
            &format!("/api/v1/users/{user}/roles"),
            &json!({"role": role, "scope": scope}),
        )
        .await
        .ok(201);
        user
    }

    /// Another district of the deployment, bootstrapped as the seed does,
    /// with `admin` as its district admin.
    pub async fn other_district(
        &self,
        code: &str,
        name: &str,
        admin: &str,
    ) -> onegrid_api::seed::Bootstrapped {
        onegrid_api::seed::bootstrap(
            &mut self.system().await,
            code,
            name,
            admin,
            crate::PASSWORD,
            crate::roles_since(),
        )
        .await
        .unwrap()
    }
}
