//! The tenant wall: a matrix generated from the OpenAPI document, the RLS
//! backstop, and scope never leaking across pooled connections.

use onegrid_store::Acting;
use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use onegrid_api::seed;
use onegrid_tests::{PASSWORD, TestApp, World};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Every table of the schema but diesel's bookkeeping: all hold tenant data.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.owner().await;
    let q = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' ORDER BY 1";
    diesel::sql_query(q)
        .load::<TableName>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Digest {
    #[diesel(sql_type = Nullable<Text>)]
    digest: Option<String>,
}

/// A digest of every row of every tenant table except the session tables
/// (which logging in legitimately changes), read as the owner.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Option<String>> {
    let tables = tenant_tables(app).await;
    let mut conn = app.db.owner().await;
    let mut out = BTreeMap::new();
    for table in tables
        .into_iter()
        .filter(|t| !["sessions", "refresh_tokens"].contains(&t.as_str()))
    {
        let q = format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM {table} t"
        );
        let digest = diesel::sql_query(q)
            .get_result::<Digest>(&mut conn)
            .await
            .unwrap()
            .digest;
        out.insert(table, digest);
    }
    out
}

/// The smallest PNG signature the attachment check accepts.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A body that passes validation for each write, so a 404 can only come from the wall.
fn body_for(operation: &str, w: &World) -> Option<Value> {
    Some(match operation {
        "update_street" | "update_community" | "update_grid" | "update_department" => {
            json!({"name": "改名"})
        }
        "create_community" => json!({"code": "150203001099", "name": "越界社区"}),
        "create_grid" => json!({"code": "150203001001099", "name": "越界网格"}),
        "update_user" => json!({"display_name": "改名", "disabled": true}),
        "assign_role" => json!({"role": "grid_worker", "scope": {"grid_id": w.grid_b1_1}}),
        "assign_grid_staff" => json!({"user_id": w.user("b1-worker"), "kind": "part_time"}),
        "create_resident" => json!({"name": "越界"}),
        "update_resident" => json!({"name": "改名"}),
        "move_resident" => json!({"grid_id": w.grid_b1_1}),
        "reveal" => json!({"field": "id_number", "purpose": "越界核对身份"}),
        "update_ledger_type" => json!({"name": "改名"}),
        "set_sensitivity" => json!({"sensitivity": "open", "reason": "跨街道探测"}),
        "create_record" => json!({"grid_id": w.grid_b1_1, "data": {}}),
        "update_record" => json!({"data": {"school": "越界"}}),
        "retire_record" => json!({"reason": "越界删减"}),
        "break_the_glass" => json!({"community_id": w.community_b1, "reason": "越界核对数据"}),
        "create_building" => json!({"name": "越界楼"}),
        "create_unit" => json!({"name": "越界单元"}),
        "create_dwelling" => json!({"number": "999"}),
        "create_household" => json!({}),
        "import" => json!("id_number,school\n"),
        "update_category" => json!({"name": "改名"}),
        "take_step" => json!({"step": "accept"}),
        "change_schedule" => json!({"enabled": false}),
        "update_endpoint" => json!({"enabled": false}),
        "escalate_dispute" => json!({"reason": "越界"}),
        "upload_document" => json!("png"),
        "record_session" => {
            json!({"held_at": "2026-12-01T02:00:00Z", "place": "越界", "mediators": ["某"], "result": "adjourned"})
        }
        "complete_follow_up" => json!({}),
        "reveal_party" => json!({"purpose": "越界核对身份"}),
        "summons_step" => json!({"step": "report_in"}),
        "rate_summons" => json!({"score": 10}),
        "change_log" => json!({"notes": "越界"}),
        "add_visit" => json!({"household_id": w.household_a, "purpose": "越界"}),
        "add_finding" => json!({"description": "越界"}),
        "add_photo" => json!("png"),
        "finding_to_case" => json!({"category_id": w.street_a}),
        "set_schedule" => json!({"days": [1, 16], "hour": 9, "minute": 30}),
        "record_decision" => {
            json!({"grid_id": w.grid_a1_1, "category_id": w.street_a, "title": "越界",
            "description": "越界", "owner_user_id": w.user("a1-worker"), "due_on": "2030-01-01"})
        }
        "close_meeting" => json!({"minutes": "越界"}),
        "add_member_unit" => json!({"name": "越界", "kind": "enterprise"}),
        "rate_item" => json!({"rater": "越界", "score": 10}),
        "complete_milestone" => json!({"name": "控制"}),
        "create_slot" => {
            json!({"starts_at": "2030-01-07T01:00:00Z", "ends_at": "2030-01-07T02:00:00Z", "capacity": 1})
        }
        "book" => json!({"slot_id": w.street_a}),
        "create_task" => json!({"title": "越界", "description": "越界分解"}),
        "upload_attachment" => json!("png"),
        "reveal_reporter" => json!({"field": "name", "purpose": "越界核对身份"}),
        _ => return None,
    })
}

#[tokio::test]
async fn street_b_gets_404_on_every_street_a_object_and_nothing_changes() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let other = seed::bootstrap(
        &mut app.system().await,
        "150204",
        "青山区",
        "q-admin",
        PASSWORD,
        onegrid_tests::roles_since(),
    )
    .await
    .unwrap();
    let q_admin = app.token("q-admin").await;
    let departments = app.get("/api/v1/departments").bearer(&q_admin).send().await;
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
        .post("/api/v1/api-keys")
        .bearer(&a_admin)
        .json(&json!({"name": "a key", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}))
        .send()
        .await;
    let key_id = key.ok(201)["id"].as_str().unwrap().to_owned();
    // A notice to street A's community admin (a break-glass in their community).
    let a2_admin = app.token("a2-admin").await;
    let types = app
        .get("/api/v1/ledger-types?limit=200")
        .bearer(&a2_admin)
        .send()
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
    app.post(&format!("/api/v1/ledger-types/{disabled}/break-glass"))
        .bearer(&a2_admin)
        .json(&json!({"community_id": w.community_a1, "reason": "协助核实信息"}))
        .send()
        .await
        .ok(201);
    let a1_admin = app.token("a1-admin").await;
    let inbox = app
        .get("/api/v1/me/notifications")
        .bearer(&a1_admin)
        .send()
        .await;
    let notification_id = inbox.ok(200)["items"][0]["id"].as_str().unwrap().to_owned();
    let saved = app
        .post("/api/v1/saved-queries")
        .bearer(&a_admin)
        .json(&json!({"name": "A的查询", "query": {"ledger": "veterans"}}))
        .send()
        .await;
    let saved_query_id = saved.ok(201)["id"].as_str().unwrap().to_owned();
    // A case of street A, with a sealed reporter; and a category of another district.
    let categories = app
        .get("/api/v1/case-categories")
        .bearer(&a_admin)
        .send()
        .await;
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
    let filed = app
        .post("/api/v1/cases")
        .bearer(&a_admin)
        .json(&json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "夜间噪声", "description": "楼下商铺夜间施工", "reporter": {"name": "王芳", "phone": "13900001234"}}))
        .send()
        .await;
    let case_id = filed.ok(201)["id"].as_str().unwrap().to_owned();
    let attached = app
        .post(&format!("/api/v1/cases/{case_id}/attachments?name=a.png"))
        .bearer(&a_admin)
        .raw("image/png", PNG.to_vec())
        .send()
        .await;
    let attachment_id = attached.ok(201)["id"].as_str().unwrap().to_owned();
    // One of the deadline jobs the case queued (street A's).
    let street_a_job = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let mut owner = app.db.owner().await;
        diesel::sql_query(format!(
            "SELECT id FROM jobs WHERE street_id = '{}' LIMIT 1",
            w.street_a
        ))
        .get_result::<Id>(&mut owner)
        .await
        .unwrap()
        .id
        .to_string()
    };
    // Street A's webhook endpoint and a delivery of the case's creation to it.
    let endpoint = app
        .post("/api/v1/webhook-endpoints")
        .bearer(&a_admin)
        .json(&json!({"url": "https://hooks.example.cn/a", "street_id": w.street_a}))
        .send()
        .await;
    let webhook_endpoint_id = endpoint.ok(201)["id"].as_str().unwrap().to_owned();
    app.runner()
        .tick(&std::sync::atomic::AtomicBool::new(false))
        .await
        .unwrap();
    let deliveries = app
        .get(&format!(
            "/api/v1/webhook-endpoints/{webhook_endpoint_id}/deliveries"
        ))
        .bearer(&a_admin)
        .send()
        .await;
    let webhook_delivery_id = deliveries.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A dispute of street A (a person party with a phone, a document), moved
    // up to the street and whistled to the police.
    let dispute = app
        .post("/api/v1/disputes")
        .bearer(&a_admin)
        .json(
            &json!({"community_id": w.community_a1, "kind": "neighbour", "summary": "楼上漏水",
            "parties": [{"role": "applicant", "name": "刘洋", "phone": "13900004321"}]}),
        )
        .send()
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
    let document_id = document.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/disputes/{dispute_id}/escalate"))
        .bearer(&a_admin)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "社区调解未果"}))
        .send()
        .await
        .ok(200);
    let settings = app
        .get("/api/v1/mediation-settings")
        .bearer(&a_admin)
        .send()
        .await;
    let police = settings.ok(200)["panel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "police")
        .unwrap()["id"]
        .clone();
    let whistle = app
        .post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(
            &json!({"dispute_id": dispute_id, "reason": "pressing", "summary": "请公安到场",
            "department_ids": [police]}),
        )
        .send()
        .await;
    let whistle = whistle.ok(201).clone();
    let whistle_id = whistle["id"].as_str().unwrap().to_owned();
    let summons_id = whistle["summonses"][0]["id"].as_str().unwrap().to_owned();
    // A patrol log of street A's grid worker, with a finding.
    let a1_worker = app.token("a1-worker").await;
    let log = app
        .post("/api/v1/patrol-logs")
        .bearer(&a1_worker)
        .json(&json!({"grid_id": w.grid_a1_1, "notes": "日巡"}))
        .send()
        .await;
    let patrol_log_id = log.ok(201)["id"].as_str().unwrap().to_owned();
    let finding = app
        .post(&format!("/api/v1/patrol-logs/{patrol_log_id}/findings"))
        .bearer(&a1_worker)
        .json(&json!({"description": "井盖缺失"}))
        .send()
        .await;
    let patrol_finding_id = finding.ok(201)["id"].as_str().unwrap().to_owned();
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
    let foreign_schedule = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let mut owner = app.db.owner().await;
        diesel::sql_query(format!(
            "SELECT id FROM schedules WHERE district_id <> '{}' LIMIT 1",
            w.district
        ))
        .get_result::<Id>(&mut owner)
        .await
        .unwrap()
        .id
        .to_string()
    };
    let foreign_categories = app
        .get("/api/v1/case-categories")
        .bearer(&q_admin)
        .send()
        .await;
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
        app.get(&path).bearer(&a_admin).send().await.ok(200);
    }
    // Lists never show another street's rows.
    let users = app
        .get("/api/v1/users?limit=200")
        .bearer(&b_admin)
        .send()
        .await;
    let text = &users.text;
    assert!(!text.contains(&w.user("a1-worker").to_string()) && !text.contains("a-admin"));
    let streets = app.get("/api/v1/streets").bearer(&b_admin).send().await;
    assert_eq!(streets.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn references_into_another_street_are_refused() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let b_admin = app.token("b-admin").await;
    let before = snapshot(&app).await;
    // Staff a street-B grid with a street-A user.
    let r = app
        .post(&format!("/api/v1/grids/{}/staff", w.grid_b1_1))
        .bearer(&b_admin)
        .json(&json!({"user_id": w.user("a1-worker"), "kind": "part_time"}))
        .send()
        .await;
    r.problem(422, "invalid_reference");
    // Grant a street-B user a role on a street-A grid.
    let r = app
        .post(&format!("/api/v1/users/{}/roles", w.user("b1-worker")))
        .bearer(&b_admin)
        .json(&json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}))
        .send()
        .await;
    r.problem(422, "invalid_reference");
    // Create a user homed in street A.
    let r = app
        .post("/api/v1/users")
        .bearer(&b_admin)
        .json(&json!({"username": "intruder", "display_name": "x", "password": "long-enough-password", "street_id": w.street_a}))
        .send()
        .await;
    r.problem(422, "invalid_reference");
    assert_eq!(snapshot(&app).await, before);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test]
async fn rls_backstop_shows_nothing_without_a_scope() {
    // The app role owns nothing and cannot bypass RLS.
    #[derive(diesel::QueryableByName)]
    struct Role {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolbypassrls: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolsuper: bool,
    }
    #[derive(diesel::QueryableByName)]
    struct Rls {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        enabled: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        forced: bool,
    }
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let tables = tenant_tables(&app).await;
    assert!(tables.len() >= 24, "{tables:?}");
    let mut owner = app.db.owner().await;
    let mut conn = app.db.app().await;
    for table in &tables {
        let rls: Rls = diesel::sql_query("SELECT relrowsecurity AS enabled, relforcerowsecurity AS forced FROM pg_class WHERE relname = $1")
            .bind::<Text, _>(table)
            .get_result(&mut owner)
            .await
            .unwrap();
        assert!(
            rls.enabled && rls.forced,
            "{table} lacks forced row-level security"
        );
        let q = format!("SELECT count(*) AS n FROM {table}");
        let as_owner = diesel::sql_query(&q)
            .get_result::<Count>(&mut owner)
            .await
            .unwrap()
            .n;
        let as_app = diesel::sql_query(&q)
            .get_result::<Count>(&mut conn)
            .await
            .unwrap()
            .n;
        if [
            "streets",
            "communities",
            "grids",
            "users",
            "residents",
            "ledger_types",
        ]
        .contains(&table.as_str())
        {
            assert!(as_owner > 0, "{table} should have fixture rows");
        }
        assert_eq!(as_app, 0, "{table} is readable without a scope");
    }
    // Writes into a street the scope does not include are refused by the database.
    let insert = format!(
        "INSERT INTO communities (street_id, id, code, name) VALUES ('{}', gen_random_uuid(), '150203001077', 'x')",
        w.street_a
    );
    assert!(diesel::sql_query(&insert).execute(&mut conn).await.is_err());
    // With street B's scope, street A stays invisible and unwritable.
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        diesel::sql_query("SELECT set_config('app.street_ids', $1, true)")
            .bind::<Text, _>(w.street_b.to_string())
            .execute(c)
            .await?;
        let n = diesel::sql_query("SELECT count(*) AS n FROM communities")
            .get_result::<Count>(c)
            .await?
            .n;
        assert_eq!(n, 1);
        let a = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM grids WHERE street_id = '{}'",
            w.street_a
        ))
        .get_result::<Count>(c)
        .await?
        .n;
        assert_eq!(a, 0);
        Ok(())
    })
    .await
    .unwrap();
    assert!(diesel::sql_query(&insert).execute(&mut conn).await.is_err());
    let role: Role = diesel::sql_query(
        "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'onegrid_app'",
    )
    .get_result(&mut owner)
    .await
    .unwrap();
    assert!(!role.rolbypassrls && !role.rolsuper);
    let owned =
        diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE tableowner = 'onegrid_app'")
            .get_result::<Count>(&mut owner)
            .await
            .unwrap()
            .n;
    assert_eq!(owned, 0);
}

#[tokio::test]
async fn scope_never_leaks_to_the_next_user_of_a_pooled_connection() {
    #[derive(diesel::QueryableByName)]
    struct Leftover {
        #[diesel(sql_type = Nullable<Text>)]
        streets: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        user_id: Option<String>,
        #[diesel(sql_type = BigInt)]
        grids: i64,
    }
    let app = TestApp::start_with(&[("ONEGRID_POOL_SIZE", "1")]).await;
    let w = World::build(&app).await;
    let t = app.token("a-admin").await;
    app.get(&format!("/api/v1/communities/{}/grids", w.community_a1))
        .bearer(&t)
        .send()
        .await
        .ok(200);
    // A failing request too: its transaction is rolled back.
    app.get(&format!("/api/v1/grids/{}", uuid::Uuid::now_v7()))
        .bearer(&t)
        .send()
        .await
        .problem(404, "not_found");
    let left: Leftover = app
        .state
        .db
        .acting(Acting::Nobody, |c| {
            Box::pin(async move {
                diesel::sql_query(
                    "SELECT current_setting('app.street_ids', true) AS streets, current_setting('app.user_id', true) AS user_id, \
                     (SELECT count(*) FROM grids) AS grids",
                )
                .get_result::<Leftover>(c)
                .await
                .map_err(onegrid_store::StoreError::from)
            })
        })
        .await
        .unwrap();
    assert!(left.streets.unwrap_or_default().is_empty());
    assert!(left.user_id.unwrap_or_default().is_empty());
    assert_eq!(left.grids, 0);
}
