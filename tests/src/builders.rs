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
