//! Street B gets 404 on every street A object the OpenAPI document names,
//! and nothing changes.

use onegrid_store::Acting;
use std::collections::{BTreeMap, BTreeSet};

use super::{PNG, body_for, snapshot};
use onegrid_tests::TestApp;
use onegrid_tests::builders::StreetPlan;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn street_b_gets_404_on_every_street_a_object_and_nothing_changes() {
    let (app, w) = TestApp::with_world().await;
    let other = app.other_district("150204", "青山区", "q-admin").await;
    let q_admin = app.token("q-admin").await;
    let departments = app.get_as(&q_admin, "/api/v1/departments").await;
    let foreign_department = departments.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        departments.body["items"][0]["district_id"],
        other.district_id.to_string()
    );

    let a_admin = app.token("a-admin").await;
    let key = app
        .post_as(
            &a_admin,
            "/api/v1/api-keys",
            &json!({"name": "a key", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}),
        )
        .await;
    let key_id = key.created_id();
    // A notice to street A's community admin (a break-glass in their community).
    let a2_admin = app.token("a2-admin").await;
    let types = app
        .get_as(&a2_admin, "/api/v1/ledger-types?limit=200")
        .await;
    let disabled = types.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "disabled")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_as(
        &a2_admin,
        &format!("/api/v1/ledger-types/{disabled}/break-glass"),
        &json!({"community_id": w.community_a1, "reason": "协助核实信息"}),
    )
    .await
    .ok(201);
    let a1_admin = app.token("a1-admin").await;
    let inbox = app.get_as(&a1_admin, "/api/v1/me/notifications").await;
    let notification_id = inbox.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let saved = app
        .post_as(
            &a_admin,
            "/api/v1/saved-queries",
            &json!({"name": "A的查询", "query": {"ledger": "veterans"}}),
        )
        .await;
    let saved_query_id = saved.created_id();
    // A case of street A, with a sealed reporter; and a category of another district.
    let categories = app.get_as(&a_admin, "/api/v1/case-categories").await;
    let noise = categories
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "03.02")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let filed = app.post_as(&a_admin, "/api/v1/cases", &json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "夜间噪声", "description": "楼下商铺夜间施工", "reporter": {"name": "王芳", "phone": "13900001234"}})).await;
    let case_id = filed.created_id();
    let attached = app
        .post(&format!("/api/v1/cases/{case_id}/attachments?name=a.png"))
        .bearer(&a_admin)
        .raw("image/png", PNG.to_vec())
        .send()
        .await;
    let attachment_id = attached.created_id();
    // One of the deadline jobs the case queued (street A's).
    let street_a_job = app
        .db
        .first_id(&format!("FROM jobs WHERE street_id = '{}'", w.street_a))
        .await;
    // Street A's webhook endpoint and a delivery of the case's creation to it.
    let endpoint = app
        .post_as(
            &a_admin,
            "/api/v1/webhook-endpoints",
            &json!({"url": "https://hooks.example.cn/a", "street_id": w.street_a}),
        )
        .await;
    let webhook_endpoint_id = endpoint.created_id();
    app.runner()
        .tick(&std::sync::atomic::AtomicBool::new(false))
        .await
        .unwrap();
    let deliveries = app
        .get_as(
            &a_admin,
            &format!("/api/v1/webhook-endpoints/{webhook_endpoint_id}/deliveries"),
        )
        .await;
    let webhook_delivery_id = deliveries.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A dispute of street A (a person party with a phone, a document), moved
    // up to the street and whistled to the police.
    let dispute = app
        .post_as(
            &a_admin,
            "/api/v1/disputes",
            &json!({"community_id": w.community_a1, "kind": "neighbour", "summary": "楼上漏水",
            "parties": [{"role": "applicant", "name": "刘洋", "phone": "13900004321"}]}),
        )
        .await;
    let dispute = dispute.ok(201).clone();
    let dispute_id = dispute["id"].as_str().unwrap().to_owned();
    let party_id = dispute["parties"][0]["id"].as_str().unwrap().to_owned();
    let document = app
        .post(&format!(
            "/api/v1/disputes/{dispute_id}/documents?name=agreement.png"
        ))
        .bearer(&a_admin)
        .raw("image/png", PNG.to_vec())
        .send()
        .await;
    let document_id = document.created_id();
    app.post_at(
        &a_admin,
        &format!("/api/v1/disputes/{dispute_id}/escalate"),
        "\"1\"",
        &json!({"reason": "社区调解未果"}),
    )
    .await
    .ok(200);
    let settings = app.get_as(&a_admin, "/api/v1/mediation-settings").await;
    let police = settings.ok(200)["panel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "police")
        .unwrap()["id"]
        .clone();
    let whistle = app
        .post_as(
            &a_admin,
            "/api/v1/whistles",
            &json!({"dispute_id": dispute_id, "reason": "pressing", "summary": "请公安到场",
            "department_ids": [police]}),
        )
        .await;
    let whistle = whistle.ok(201).clone();
    let whistle_id = whistle["id"].as_str().unwrap().to_owned();
    let summons_id = whistle["summonses"][0]["id"].as_str().unwrap().to_owned();
    // A patrol log of street A's grid worker, with a finding.
    let a1_worker = app.token("a1-worker").await;
    let log = app
        .post_as(
            &a1_worker,
            "/api/v1/patrol-logs",
            &json!({"grid_id": w.grid_a1_1, "notes": "日巡"}),
        )
        .await;
    let patrol_log_id = log.created_id();
    let finding = app
        .post_as(
            &a1_worker,
            &format!("/api/v1/patrol-logs/{patrol_log_id}/findings"),
            &json!({"description": "井盖缺失"}),
        )
        .await;
    let patrol_finding_id = finding.created_id();
    // A needs meeting of street A's community, as the worker prepares it.
    let (district, street, community) = (w.district, w.street_a, w.community_a1);
    let now = app.clock.now();
    let meeting = app
        .worker_db()
        .acting::<_, onegrid_store::StoreError, _>(Acting::Street { district, street }, move |c| {
            Box::pin(async move {
                onegrid_store::fieldwork::meetings::prepare(
                    c,
                    district,
                    street,
                    community,
                    now + chrono::Duration::days(3),
                    now,
                )
                .await
            })
        })
        .await
        .unwrap()
        .unwrap();
    let meeting_id = meeting.id.to_string();
    // The other district's built-in schedule (schedules are district-owned).
    app.runner().ensure_schedules().await.unwrap();
    let foreign_schedule = app
        .db
        .first_id(&format!(
            "FROM schedules WHERE district_id <> '{}'",
            w.district
        ))
        .await;
    let foreign_categories = app.get_as(&q_admin, "/api/v1/case-categories").await;
    let foreign_category = foreign_categories.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ids: BTreeMap<&str, String> = BTreeMap::from([
        ("street_id", w.street_a.to_string()),
        ("community_id", w.community_a1.to_string()),
        ("grid_id", w.grid_a1_1.to_string()),
        ("user_id", w.user("a1-worker").to_string()),
        ("role_assignment_id", w.roles["a1-worker"].to_string()),
        (
            "grid_assignment_id",
            w.assignment_a1_1_full_time.to_string(),
        ),
        ("api_key_id", key_id),
        ("department_id", foreign_department),
        ("resident_id", w.resident_a.to_string()),
        ("ledger_type_id", w.ledger_type_a.to_string()),
        ("ledger_record_id", w.record_a.to_string()),
        ("notification_id", notification_id),
        ("saved_query_id", saved_query_id),
        ("building_id", w.building_a.to_string()),
        ("unit_id", w.unit_a.to_string()),
        ("household_id", w.household_a.to_string()),
        ("case_id", case_id),
        ("attachment_id", attachment_id),
        ("job_id", street_a_job),
        ("case_category_id", foreign_category),
        ("schedule_id", foreign_schedule),
        ("dispute_id", dispute_id),
        ("party_id", party_id),
        ("document_id", document_id),
        ("seq", "1".to_owned()),
        ("whistle_id", whistle_id),
        ("summons_id", summons_id),
        ("patrol_log_id", patrol_log_id),
        ("patrol_finding_id", patrol_finding_id),
        ("meeting_id", meeting_id),
        ("webhook_endpoint_id", webhook_endpoint_id),
        ("webhook_delivery_id", webhook_delivery_id),
    ]);
    // District settings named by value, not by id: another district's caller
    // changes its own (tested in the case set-up suite), never this one's.
    let not_ids = ["year", "tier"];

    let spec = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .ok(200)
        .clone();
    let b_admin = app.token("b-admin").await;
    let b_worker = app.token("b1-worker").await;
    let before = snapshot(&app).await;
    let mut covered = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") || !path.contains('{') {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let operation = op["operationId"].as_str().unwrap();
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if params.iter().all(|p| not_ids.contains(p)) {
                continue;
            }
            let mut url = path.clone();
            for param in op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
            {
                let name = param["name"].as_str().unwrap();
                let id = ids.get(name).unwrap_or_else(|| {
                    panic!("{operation}: no street-A fixture for path parameter {name}; add one")
                });
                url = url.replace(&format!("{{{name}}}"), id);
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let has_body = op.get("requestBody").is_some();
            let body = body_for(operation, &w);
            assert_eq!(
                has_body,
                body.is_some(),
                "{operation}: add a valid body to body_for"
            );
            for token in [&b_admin, &b_worker] {
                let mut call = app
                    .call(method.clone(), &url)
                    .bearer(token)
                    .header("if-match", "\"1\"");
                match &body {
                    Some(_)
                        if ["upload_attachment", "upload_document", "add_photo"]
                            .contains(&operation) =>
                    {
                        call = call.raw("image/png", PNG.to_vec())
                    }
                    Some(serde_json::Value::String(csv)) => {
                        call = call.raw("text/csv", csv.clone())
                    }
                    Some(b) => call = call.json(b),
                    None => {}
                }
                let reply = call.send().await;
                assert_eq!(
                    reply.status.as_u16(),
                    404,
                    "{operation} {url} as street B: {}",
                    reply.text
                );
                reply.problem(404, "not_found");
                assert!(
                    !reply.text.contains(&w.street_a.to_string()),
                    "{operation} leaks street A's id"
                );
            }
            covered += 1;
        }
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "street B changed street A's data"
    );
    assert!(
        covered >= 20,
        "only {covered} operations with ids were found"
    );

    // Positive control: street A's admin reaches the same objects.
    for path in [
        format!("/api/v1/streets/{}", w.street_a),
        format!("/api/v1/communities/{}", w.community_a1),
        format!("/api/v1/grids/{}", w.grid_a1_1),
        format!("/api/v1/users/{}", w.user("a1-worker")),
        format!("/api/v1/grids/{}/staff", w.grid_a1_1),
    ] {
        app.get_as(&a_admin, &path).await.ok(200);
    }
    // Lists never show another street's rows.
    let users = app.get_as(&b_admin, "/api/v1/users?limit=200").await;
    let text = &users.text;
    assert!(!text.contains(&w.user("a1-worker").to_string()) && !text.contains("a-admin"));
    let streets = app.get_as(&b_admin, "/api/v1/streets").await;
    assert_eq!(streets.ok(200)["items"].as_array().unwrap().len(), 1);
}

/// A street built from nothing through the API (its admin, communities,
/// grids, workers, residents and cases) sees exactly its own rows, each
/// worker exactly their grid's, and street A none of them.
#[tokio::test]
async fn a_street_built_through_the_api_sees_only_itself() {
    let (app, _w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let plan = StreetPlan {
        number: 9,
        communities: 2,
        grids: 2,
        residents: 2,
        cases: 2,
    };
    let c = app.build_street(&d_admin, plan).await;
    assert_eq!(
        (
            c.communities.len(),
            c.grids.len(),
            c.residents.len(),
            c.cases.len()
        ),
        (2, 4, 8, 8)
    );
    let ids = |rows: Vec<serde_json::Value>| -> BTreeSet<String> {
        rows.iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let c_admin = app.token(&c.admin).await;
    let own_cases: BTreeSet<String> = c
        .cases
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids(app.get_as(&c_admin, "/api/v1/cases?limit=200").await.rows()),
        own_cases
    );
    let streets = ids(app.get_as(&c_admin, "/api/v1/streets").await.rows());
    assert_eq!(streets, BTreeSet::from([c.id.clone()]));
    for (grid, worker) in &c.grids {
        let token = app.token(worker).await;
        let cases = app.get_as(&token, "/api/v1/cases?limit=200").await.rows();
        assert_eq!(cases.len(), 2, "{worker} sees their grid's two cases");
        assert!(cases.iter().all(|k| k["grid_id"] == grid.as_str()));
        let residents = app
            .get_as(&token, &format!("/api/v1/grids/{grid}/residents"))
            .await
            .rows();
        assert_eq!(residents.len(), 2);
        let (other, _) = c.grids.iter().find(|(g, _)| g != grid).unwrap();
        app.get_as(&token, &format!("/api/v1/grids/{other}/residents"))
            .await
            .problem(403, "forbidden");
    }
    let a_admin = app.token("a-admin").await;
    let seen = ids(app.get_as(&a_admin, "/api/v1/cases?limit=200").await.rows());
    assert!(seen.is_disjoint(&own_cases));
    for k in &c.cases {
        let id = k["id"].as_str().unwrap();
        app.get_as(&a_admin, &format!("/api/v1/cases/{id}"))
            .await
            .problem(404, "not_found");
    }
    app.get_as(&a_admin, &format!("/api/v1/streets/{}/communities", c.id))
        .await
        .problem(404, "not_found");
}
