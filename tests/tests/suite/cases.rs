//! Cases end to end: filing through the channels with grid routing, clocks on
//! the district's working calendar (holidays and adjusted workdays loaded
//! through the API), the whole loop with pauses, extensions, ratings and
//! rework, illegal and concurrent steps, permissions per step, the sealed
//! reporter, work lists and counts.

use chrono::DateTime;
use onegrid_tests::{Reply, TestApp, World, at};
use serde_json::{Value, json};

fn same_instant(v: &Value, s: &str) -> bool {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t.to_utc() == at(s))
}

async fn category(app: &TestApp, token: &str, code: &str) -> String {
    app.case_category(token, code).await
}

async fn file(app: &TestApp, token: &str, body: Value) -> Value {
    app.file_case(token, &body).await
}

async fn step(app: &TestApp, token: &str, case: &Value, body: Value) -> Reply {
    app.case_step(token, case, &body).await
}

async fn ok_step(app: &TestApp, token: &str, case: &Value, body: Value) -> Value {
    app.case_step_ok(token, case, &body).await
}

fn clock<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {case}"))
}

async fn events(app: &TestApp, token: &str, case: &Value) -> Vec<Value> {
    let reply = app
        .get(&format!(
            "/api/v1/cases/{}/events",
            case["id"].as_str().unwrap()
        ))
        .bearer(token)
        .send()
        .await;
    reply.ok(200).as_array().unwrap().clone()
}

/// Loads 2026 with the official days plus a test holiday on Monday 7 December
/// and an adjusted workday on Saturday 5 December.
#[tokio::test]
async fn filing_routes_to_a_grid_and_starts_clocks_on_the_working_calendar() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let worker = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    app.load_test_calendar(&d_admin).await;
    let noise = category(&app, &worker, "03.02").await;

    // Friday 4 December 17:00: a general case's first response is due one
    // working hour later - 30 minutes on Friday, 30 on the adjusted Saturday.
    app.clock.set(Some(at("2026-12-04T17:00:00+08:00")));
    let case = file(
        &app,
        &worker,
        json!({
            "channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "夜间噪声", "description": "楼下商铺夜间施工",
            "reporter": {"name": "王芳", "phone": "139 0000 1234"}
        }),
    )
    .await;
    assert_eq!(case["status"], "received");
    assert_eq!(case["tier"], "general");
    assert_eq!(case["community_id"], w.community_a1.to_string());
    assert_eq!(case["allowed_steps"], json!(["accept", "reject"]));
    let response = clock(&case, "response");
    assert_eq!(response["basis"], "working");
    assert!(
        same_instant(&response["warn_50_at"], "2026-12-04T17:30:00+08:00"),
        "{response}"
    );
    assert!(
        same_instant(&response["due_at"], "2026-12-05T09:30:00+08:00"),
        "{response}"
    );
    assert_eq!(response["state"], "running");
    let resolution = clock(&case, "resolution");
    assert!(
        same_instant(&resolution["due_at"], "2026-12-11T17:00:00+08:00"),
        "{resolution}"
    );
    // The reporter is masked, and nowhere in plaintext.
    assert_eq!(
        case["reporter"],
        json!({"sealed": false, "name": "王*", "phone": "139****1234"})
    );
    let text = serde_json::to_string(&case).unwrap();
    assert!(!text.contains("王芳") && !text.contains("13900001234"));
    let history = events(&app, &worker, &case).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["step"], "file");
    assert_eq!(history[0]["actor_id"], w.user("a1-worker").to_string());
    assert_eq!(history[0]["data"]["channel"], "face_to_face");

    // A case filed on Sunday evening is due at Tuesday's opening + 1 hour:
    // Monday 7 December is the test holiday.
    app.clock.set(Some(at("2026-12-06T20:00:00+08:00")));
    let sunday = file(
        &app,
        &worker,
        json!({
            "channel": "patrol", "category_id": noise, "resident_id": w.resident_a,
            "title": "楼道堆物", "description": "三楼楼道堆放纸箱"
        }),
    )
    .await;
    assert_eq!(
        sunday["grid_id"],
        w.grid_a1_1.to_string(),
        "routed through the resident"
    );
    assert_eq!(
        sunday["links"],
        json!([{"subject_type": "resident", "id": w.resident_a}])
    );
    assert!(same_instant(
        &clock(&sunday, "response")["due_at"],
        "2026-12-08T10:00:00+08:00"
    ));

    // A point inside grid A1-2's boundary routes there; a point nowhere is refused.
    let grid = app
        .get(&format!("/api/v1/grids/{}", w.grid_a1_2))
        .bearer(&a_admin)
        .send()
        .await;
    let etag = grid.header("etag").unwrap().to_owned();
    let boundary = json!({"type": "Polygon", "coordinates": [[[109.80, 40.60], [109.82, 40.60], [109.82, 40.62], [109.80, 40.62], [109.80, 40.60]]]});
    app.patch(&format!("/api/v1/grids/{}", w.grid_a1_2))
        .bearer(&a_admin)
        .header("if-match", &etag)
        .json(&json!({"boundary": boundary}))
        .send()
        .await
        .ok(200);
    let by_point = file(
        &app,
        &a_admin,
        json!({
            "channel": "hotline", "category_id": noise, "location": {"lon": 109.81, "lat": 40.61},
            "title": "12345转办", "description": "广场舞噪声"
        }),
    )
    .await;
    assert_eq!(by_point["grid_id"], w.grid_a1_2.to_string());
    assert_eq!(by_point["location"], json!({"lon": 109.81, "lat": 40.61}));
    let nowhere = app
        .post("/api/v1/cases")
        .bearer(&a_admin)
        .json(&json!({"channel": "hotline", "category_id": noise, "location": {"lon": 100.0, "lat": 30.0},
            "title": "x", "description": "y"}))
        .send()
        .await;
    assert_eq!(
        nowhere.problem(422, "validation_failed")["errors"][0]["field"],
        "location"
    );

    // A grid worker files only in their own grid.
    app.post("/api/v1/cases")
        .bearer(&worker)
        .json(
            &json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a2_1,
            "title": "x", "description": "y"}),
        )
        .send()
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn channels_the_suggestion_box_and_the_app_key() {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    let a1_admin = app.token("a1-admin").await;
    let noise = category(&app, &worker, "03.02").await;
    // The app channel is for an integrator's key acting for a resident.
    let refused = app
        .post("/api/v1/cases")
        .bearer(&worker)
        .json(
            &json!({"channel": "app", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "x", "description": "y"}),
        )
        .send()
        .await;
    assert_eq!(
        refused.problem(422, "validation_failed")["errors"][0]["field"],
        "channel"
    );
    let key = app
        .post("/api/v1/api-keys")
        .bearer(&a_admin)
        .json(&json!({"name": "居民小程序", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}))
        .send()
        .await;
    let secret = key.ok(201)["key"].as_str().unwrap().to_owned();
    let key_id = key.body["id"].as_str().unwrap().to_owned();
    let via_app = app
        .post("/api/v1/cases")
        .header("x-api-key", &secret)
        .json(&json!({"channel": "app", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "路灯不亮", "description": "小区东门路灯不亮", "reporter": {"phone": "13900005678"}}))
        .send()
        .await;
    let via_app = via_app.ok(201).clone();
    let history = events(&app, &worker, &via_app).await;
    assert_eq!(
        (
            history[0]["actor_kind"].as_str(),
            history[0]["actor_id"].as_str()
        ),
        (Some("api_key"), Some(key_id.as_str()))
    );

    // The suggestion box: the reporter is stored sealed and never shown.
    let boxed = file(
        &app,
        &worker,
        json!({
            "channel": "suggestion_box", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "匿名反映", "description": "物业收费不透明",
            "reporter": {"name": "李明", "phone": "13700001111"}
        }),
    )
    .await;
    assert_eq!(
        boxed["reporter"],
        json!({"sealed": true, "name": null, "phone": null})
    );
    let mut owner = app.db.owner().await;
    let rows: Vec<Row> = diesel::sql_query("SELECT r::text AS row FROM case_reporters r")
        .load(&mut owner)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert!(
            !r.row.contains("13700001111") && !r.row.contains("13900005678"),
            "{}",
            r.row
        );
    }
    // Dispatched to the grid worker, the handler cannot learn who reported it...
    let accepted = ok_step(&app, &a1_admin, &boxed, json!({"step": "accept"})).await;
    let dispatched = ok_step(
        &app,
        &a1_admin,
        &accepted,
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
    )
    .await;
    let path = format!(
        "/api/v1/cases/{}/reporter/reveal",
        boxed["id"].as_str().unwrap()
    );
    app.post(&path)
        .bearer(&worker)
        .json(&json!({"field": "name", "purpose": "核实反映情况"}))
        .send()
        .await
        .problem(403, "forbidden");
    assert_eq!(
        dispatched["assignee_user_id"],
        w.user("a1-worker").to_string()
    );
    // ... the community admin can, with a purpose, and the audit log keeps
    // who, why and which field, never the value.
    let revealed = app
        .post(&path)
        .bearer(&a1_admin)
        .header("x-request-id", "reveal-reporter-1")
        .json(&json!({"field": "phone", "purpose": "回访核实反映情况"}))
        .send()
        .await;
    assert_eq!(revealed.ok(200)["value"], "13700001111");
    assert_eq!(revealed.header("cache-control"), Some("no-store"));
    let auditor = app.token("a-auditor").await;
    let log = app
        .get(&format!(
            "/api/v1/audit-log?subject_id={}",
            boxed["id"].as_str().unwrap()
        ))
        .bearer(&auditor)
        .send()
        .await;
    let entries = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "case.reporter_reveal");
    assert_eq!(entries[0]["purpose"], "回访核实反映情况");
    assert_eq!(entries[0]["request_id"], "reveal-reporter-1");
    assert!(!log.text.contains("13700001111"));
}

#[tokio::test]
async fn the_whole_loop_with_pause_extension_rating_and_rework() {
    // Nobody can edit it, not even the owner.
    use diesel_async::RunQueryDsl;
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let water = category(&app, &worker, "02.01").await;
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let case = file(
        &app,
        &worker,
        json!({
            "channel": "face_to_face", "category_id": water, "grid_id": w.grid_a1_1,
            "title": "停水", "description": "3号楼停水", "extra": {}
        }),
    )
    .await;
    assert_eq!(case["tier"], "utility");
    // Accepting starts the category's three milestones.
    let case = ok_step(&app, &worker, &case, json!({"step": "accept"})).await;
    let milestones: Vec<&Value> = case["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "milestone")
        .collect();
    assert_eq!(milestones.len(), 3);
    assert!(
        same_instant(&milestones[0]["due_at"], "2026-12-02T13:00:00+08:00"),
        "{}",
        milestones[0]
    );
    // The first milestone (contain within 3 h) is reached at 12:30: met.
    app.clock.set(Some(at("2026-12-02T12:30:00+08:00")));
    let milestones_path = format!("/api/v1/cases/{}/milestones", case["id"].as_str().unwrap());
    let reached = app
        .post(&milestones_path)
        .bearer(&worker)
        .header("if-match", &format!("\"{}\"", case["version"]))
        .json(&json!({"name": "控制"}))
        .send()
        .await;
    let case = reached.ok(201).clone();
    let again = app
        .post(&milestones_path)
        .bearer(&worker)
        .header("if-match", &format!("\"{}\"", case["version"]))
        .json(&json!({"name": "控制"}))
        .send()
        .await;
    assert!(
        again.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("控制")
    );
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let case = ok_step(&app, &worker, &case, json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker"), "service_mode": "home_visit"})).await;
    assert_eq!(clock(&case, "response")["state"], "met");
    assert_eq!(case["service_mode"], "home_visit");
    let case = ok_step(&app, &worker, &case, json!({"step": "sign"})).await;
    assert_eq!(case["status"], "in_progress");

    // Waiting for the resident for 2 hours pushes the 24-hour resolution clock back 2 hours.
    let case = ok_step(&app, &worker, &case, json!({"step": "wait_for_resident"})).await;
    assert!(case["paused"].as_bool().unwrap());
    assert_eq!(clock(&case, "resolution")["state"], "paused");
    app.clock.set(Some(at("2026-12-02T12:00:00+08:00")));
    let case = ok_step(&app, &worker, &case, json!({"step": "resume"})).await;
    let resolution = clock(&case, "resolution");
    assert_eq!(resolution["paused_minutes"], 120);
    assert!(
        same_instant(&resolution["due_at"], "2026-12-03T12:00:00+08:00"),
        "{resolution}"
    );

    // An extension: the worker asks, the grid chief grants 60 minutes.
    let case = ok_step(
        &app,
        &worker,
        &case,
        json!({"step": "request_extension", "reason": "需更换主阀门", "extension_minutes": 120}),
    )
    .await;
    step(
        &app,
        &worker,
        &case,
        json!({"step": "approve_extension", "extension_minutes": 60}),
    )
    .await
    .problem(403, "forbidden");
    let case = ok_step(
        &app,
        &chief,
        &case,
        json!({"step": "approve_extension", "extension_minutes": 60}),
    )
    .await;
    let resolution = clock(&case, "resolution");
    assert_eq!(resolution["extended_minutes"], 60);
    assert!(
        same_instant(&resolution["due_at"], "2026-12-03T13:00:00+08:00"),
        "{resolution}"
    );

    let case = ok_step(&app, &worker, &case, json!({"step": "submit_result"})).await;
    let case = ok_step(&app, &worker, &case, json!({"step": "verify"})).await;
    app.clock.set(Some(at("2026-12-02T18:00:00+08:00")));
    let case = ok_step(&app, &worker, &case, json!({"step": "resolve"})).await;
    assert_eq!(case["status"], "resolved");
    assert!(
        case["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["stopped_at"].is_string())
    );
    assert_eq!(clock(&case, "resolution")["state"], "met");
    let outcomes: Vec<&str> = case["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "milestone")
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["met", "met", "met"],
        "contained in time; the others stopped at resolution"
    );

    // A bad rating reopens the case on a 15-working-day rework clock.
    let case = ok_step(
        &app,
        &worker,
        &case,
        json!({"step": "rate", "score": 3, "comment": "水压还是不足"}),
    )
    .await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(case["rework_cycle"], 1);
    assert!(case["resolved_at"].is_null());
    let rework = clock(&case, "rework");
    assert_eq!(rework["cycle"], 1);
    assert_eq!(rework["basis"], "working");
    // Wednesday 18:00 + 15 working days of 7 hours: Thursday 3 Dec opens the
    // count, Monday 7 Dec is a working day here, so the 15th ends on Wednesday 23 Dec 17:30.
    assert!(
        same_instant(&rework["due_at"], "2026-12-23T17:30:00+08:00"),
        "{rework}"
    );
    let case = ok_step(&app, &worker, &case, json!({"step": "submit_result"})).await;
    let case = ok_step(&app, &worker, &case, json!({"step": "verify"})).await;
    let case = ok_step(&app, &worker, &case, json!({"step": "resolve"})).await;
    let case = ok_step(&app, &worker, &case, json!({"step": "rate", "score": 10})).await;
    assert_eq!(case["status"], "closed");
    assert!(case["closed_at"].is_string());
    assert_eq!(case["allowed_steps"], json!(["reopen"]));
    let scores: Vec<(i64, i64)> = case["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["cycle"].as_i64().unwrap(), r["score"].as_i64().unwrap()))
        .collect();
    assert_eq!(scores, [(0, 3), (1, 10)]);

    // The history is the record: every step in order, with actor, reason and data.
    let history = events(&app, &worker, &case).await;
    let steps: Vec<&str> = history
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "file",
            "accept",
            "complete_milestone",
            "dispatch",
            "sign",
            "wait_for_resident",
            "resume",
            "request_extension",
            "approve_extension",
            "submit_result",
            "verify",
            "resolve",
            "rate",
            "submit_result",
            "verify",
            "resolve",
            "rate"
        ]
    );
    let seqs: Vec<i64> = history.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=17).collect::<Vec<_>>());
    assert_eq!(history[2]["data"]["milestone"], "控制");
    assert_eq!(history[7]["reason"], "需更换主阀门");
    assert_eq!(history[8]["actor_id"], w.user("a1-chief").to_string());
    assert_eq!(history[8]["data"]["extension_minutes"], 60);
    assert_eq!(history[12]["data"]["score"], 3);
    assert_eq!(
        (
            history[12]["from_status"].as_str(),
            history[12]["to_status"].as_str()
        ),
        (Some("resolved"), Some("in_progress"))
    );
    let mut owner = app.db.owner().await;
    let tamper = diesel::sql_query("UPDATE case_events SET reason = 'x'")
        .execute(&mut owner)
        .await;
    assert!(tamper.unwrap_err().to_string().contains("append-only"));
    let mut as_app = app.db.app().await;
    assert!(
        diesel::sql_query("DELETE FROM case_events")
            .execute(&mut as_app)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn illegal_steps_are_409_with_the_allowed_ones_and_change_nothing() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let noise = category(&app, &worker, "03.02").await;
    let case = file(&app, &worker, json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "t", "description": "d"})).await;
    let refused = step(&app, &worker, &case, json!({"step": "sign"})).await;
    let problem = refused.problem(409, "illegal_transition");
    assert_eq!(problem["allowed"], json!(["accept", "reject"]));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("sign is not allowed while the case is received")
    );
    // Bad bodies: a reason is required, scores are the five levels, unknown fields refused.
    for (body, field) in [
        (json!({"step": "reject"}), "reason"),
        (json!({"step": "dispatch"}), "assignee_user_id"),
        (json!({"step": "accept", "score": 10}), "score"),
        (json!({"step": "rate", "score": 5}), "score"),
        (
            json!({"step": "accept", "extension_minutes": 10}),
            "extension_minutes",
        ),
    ] {
        let reply = step(&app, &worker, &case, body.clone()).await;
        assert_eq!(
            reply.problem(422, "validation_failed")["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    for (body, field) in [
        (json!({"step": "accept", "note": "x"}), "body"),
        (json!({"step": "teleport"}), "step"),
    ] {
        let reply = step(&app, &worker, &case, body).await;
        assert_eq!(
            reply.problem(422, "validation_failed")["errors"][0]["field"],
            field
        );
    }
    // Without If-Match: 428; with a stale one: 412.
    app.post(&format!(
        "/api/v1/cases/{}/steps",
        case["id"].as_str().unwrap()
    ))
    .bearer(&worker)
    .json(&json!({"step": "accept"}))
    .send()
    .await
    .problem(428, "precondition_required");
    let stale = json!({"id": case["id"], "version": 7});
    step(&app, &worker, &stale, json!({"step": "accept"}))
        .await
        .problem(412, "version_mismatch");
    let now = app
        .get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(now.ok(200)["version"], 1);
    assert_eq!(now.body["status"], "received");
    assert_eq!(events(&app, &worker, &case).await.len(), 1);
}

#[tokio::test]
async fn of_concurrent_steps_on_one_version_exactly_one_wins() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let noise = category(&app, &worker, "03.02").await;
    let case = file(&app, &worker, json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "t", "description": "d"})).await;
    let tries = (0..8).map(|i| {
        let body = if i % 2 == 0 {
            json!({"step": "accept"})
        } else {
            json!({"step": "reject", "reason": "重复反映"})
        };
        step(&app, &worker, &case, body)
    });
    let replies = futures_util::future::join_all(tries).await;
    let won: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status.as_u16() != 201) {
        r.problem(412, "version_mismatch");
    }
    let history = events(&app, &worker, &case).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["to_status"], won[0].body["status"]);
}

#[tokio::test]
async fn departments_see_and_work_only_what_was_routed_to_them() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let a1_admin = app.token("a1-admin").await;
    let police = app.token("police").await;
    let noise = category(&app, &a1_admin, "03.02").await;
    let routed = file(&app, &a1_admin, json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
        "title": "占道经营", "description": "夜市占道", "reporter": {"name": "赵强", "phone": "13600002222"}})).await;
    let other = file(
        &app,
        &a1_admin,
        json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
        "title": "其他", "description": "不归公安"}),
    )
    .await;
    let routed = ok_step(&app, &a1_admin, &routed, json!({"step": "accept"})).await;
    let routed = ok_step(
        &app,
        &a1_admin,
        &routed,
        json!({"step": "dispatch", "department_id": w.departments["police"]}),
    )
    .await;
    assert_eq!(
        routed["assignee_department_id"],
        w.departments["police"].to_string()
    );
    // The department's inbox holds the routed case only, masked.
    let inbox = app.get("/api/v1/cases").bearer(&police).send().await;
    let items = inbox.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], routed["id"]);
    assert_eq!(items[0]["reporter"]["name"], "赵*");
    assert!(!inbox.text.contains("13600002222"));
    app.get(&format!("/api/v1/cases/{}", other["id"].as_str().unwrap()))
        .bearer(&police)
        .send()
        .await
        .problem(404, "not_found");
    // Department staff sign and handle, but do not triage or reveal.
    let signed = ok_step(&app, &police, &routed, json!({"step": "sign"})).await;
    step(&app, &police, &signed, json!({"step": "resolve"}))
        .await
        .problem(403, "forbidden");
    app.post(&format!(
        "/api/v1/cases/{}/reporter/reveal",
        routed["id"].as_str().unwrap()
    ))
    .bearer(&police)
    .json(&json!({"field": "phone", "purpose": "联系报案人"}))
    .send()
    .await
    .problem(403, "forbidden");
    // Returned, it leaves the department's inbox and its hands.
    let dispatched = ok_step(
        &app,
        &a1_admin,
        &signed,
        json!({"step": "dispatch", "department_id": w.departments["police"]}),
    )
    .await;
    let returned = ok_step(
        &app,
        &police,
        &dispatched,
        json!({"step": "return", "reason": "不属于公安职责"}),
    )
    .await;
    assert!(returned["assignee_department_id"].is_null());
    let inbox = app.get("/api/v1/cases").bearer(&police).send().await;
    assert_eq!(inbox.ok(200)["items"].as_array().unwrap().len(), 0);
    app.get(&format!("/api/v1/cases/{}", routed["id"].as_str().unwrap()))
        .bearer(&police)
        .send()
        .await
        .problem(403, "forbidden");
    // Street B never sees street A's cases, in lists or by id.
    let b_admin = app.token("b-admin").await;
    let list = app.get("/api/v1/cases").bearer(&b_admin).send().await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn work_lists_filter_and_count() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    let a2_admin = app.token("a2-admin").await;
    let noise = category(&app, &worker, "03.02").await;
    let gas = category(&app, &worker, "02.04").await;
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let mine = file(&app, &worker, json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "1", "description": "d"})).await;
    let mine = ok_step(&app, &worker, &mine, json!({"step": "accept"})).await;
    ok_step(
        &app,
        &worker,
        &mine,
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
    )
    .await;
    let emergency = file(&app, &worker, json!({"channel": "hotline", "category_id": gas, "grid_id": w.grid_a1_1, "title": "2", "description": "燃气味"})).await;
    assert_eq!(emergency["tier"], "emergency");
    let elsewhere = file(&app, &a_admin, json!({"channel": "hotline", "category_id": noise, "grid_id": w.grid_a2_1, "title": "3", "description": "d"})).await;

    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    // The grid worker's lists stay in their grid; the street admin sees the street.
    let list = app.get("/api/v1/cases").bearer(&worker).send().await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&emergency), id(&mine)]);
    let list = app.get("/api/v1/cases").bearer(&a_admin).send().await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere), id(&emergency), id(&mine)]);
    let list = app
        .get("/api/v1/cases?mine=true")
        .bearer(&worker)
        .send()
        .await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&mine)]);
    let list = app
        .get(&format!("/api/v1/cases?community_id={}", w.community_a2))
        .bearer(&a2_admin)
        .send()
        .await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere)]);
    let list = app
        .get("/api/v1/cases?status=received&channel=hotline")
        .bearer(&a_admin)
        .send()
        .await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere), id(&emergency)]);
    // Paging: newest first, the cursor continues.
    let first = app
        .get("/api/v1/cases?limit=2")
        .bearer(&a_admin)
        .send()
        .await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!("/api/v1/cases?limit=2&cursor={cursor}"))
        .bearer(&a_admin)
        .send()
        .await;
    second.ok(200);
    assert_eq!(ids(&second), [id(&mine)]);

    // 50 minutes on, the emergency's 60-minute response clock is past 75 %;
    // 70 minutes on, it is overdue (the dispatched case's response clock stopped in time).
    app.clock.set(Some(at("2026-12-02T10:50:00+08:00")));
    let soon = app
        .get("/api/v1/cases?due_soon=true")
        .bearer(&a_admin)
        .send()
        .await;
    soon.ok(200);
    assert_eq!(ids(&soon), [id(&elsewhere), id(&emergency)]);
    let counts = app
        .get("/api/v1/cases/counts")
        .bearer(&a_admin)
        .send()
        .await;
    assert_eq!(
        counts.ok(200).clone(),
        json!({"total": 3, "overdue": 0, "due_soon": 2})
    );
    app.clock.set(Some(at("2026-12-02T11:10:00+08:00")));
    let overdue = app
        .get("/api/v1/cases?overdue=true")
        .bearer(&worker)
        .send()
        .await;
    overdue.ok(200);
    assert_eq!(ids(&overdue), [id(&emergency)]);
    let counts = app
        .get("/api/v1/cases/counts")
        .bearer(&a_admin)
        .send()
        .await;
    assert_eq!(
        counts.ok(200).clone(),
        json!({"total": 3, "overdue": 2, "due_soon": 0})
    );
    let counts = app
        .get("/api/v1/cases/counts?overdue=false")
        .bearer(&a_admin)
        .send()
        .await;
    assert_eq!(
        counts.ok(200)["total"],
        1,
        "only the dispatched case has no overdue clock"
    );
    // Bad filters are 400s.
    app.get("/api/v1/cases?status=lost")
        .bearer(&worker)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/cases?limit=0")
        .bearer(&worker)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/cases?colour=red")
        .bearer(&worker)
        .send()
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn filing_validates_fields_references_and_extra_fields() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    // A category with an extra field, added through the API.
    let parent = app
        .post("/api/v1/case-categories")
        .bearer(&d_admin)
        .json(&json!({"code": "09.01", "name": "无父类", "tier": "general"}))
        .send()
        .await;
    assert_eq!(
        parent.problem(422, "validation_failed")["errors"][0]["field"],
        "code"
    );
    let created = app
        .post("/api/v1/case-categories")
        .bearer(&d_admin)
        .json(
            &json!({"code": "01.04", "name": "窨井异味", "tier": "general",
            "fields": [{"key": "depth", "label": "井深", "type": "number", "required": true}],
            "resolution": {"basis": "working", "minutes": 840}}),
        )
        .send()
        .await;
    let cat = created.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["parent_code"], "01");
    app.post("/api/v1/case-categories")
        .bearer(&a_admin)
        .json(&json!({"code": "01.05", "name": "x", "tier": "general"}))
        .send()
        .await
        .problem(403, "forbidden");
    let base = json!({"channel": "face_to_face", "category_id": cat, "grid_id": w.grid_a1_1, "title": "t", "description": "d"});
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, status, code, field) in [
        (base.clone(), 422, "validation_failed", "extra.depth"),
        (
            with(json!({"extra": {"depth": "deep"}})),
            422,
            "validation_failed",
            "extra.depth",
        ),
        (
            with(json!({"extra": {"depth": 2, "colour": "red"}})),
            422,
            "validation_failed",
            "extra.colour",
        ),
        (
            with(json!({"extra": {"depth": 2}, "title": ""})),
            422,
            "validation_failed",
            "title",
        ),
        (
            with(json!({"extra": {"depth": 2}, "resident_id": w.resident_b})),
            422,
            "invalid_reference",
            "",
        ),
        (
            with(json!({"extra": {"depth": 2}, "grid_id": w.grid_b1_1})),
            422,
            "invalid_reference",
            "",
        ),
        (
            with(json!({"extra": {"depth": 2}, "reporter": {"phone": "12"}})),
            422,
            "validation_failed",
            "reporter.phone",
        ),
    ] {
        let reply = app
            .post("/api/v1/cases")
            .bearer(&a_admin)
            .json(&body)
            .send()
            .await;
        let problem = reply.problem(status, code);
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    }
    let reply = app
        .post("/api/v1/cases")
        .bearer(&a_admin)
        .json(&with(json!({"extra": {"depth": 2}, "colour": 1})))
        .send()
        .await;
    assert_eq!(
        reply.problem(422, "validation_failed")["errors"][0]["field"],
        "body"
    );
    // A grid worker cannot link a resident of another grid of the street.
    let worker = app.token("a1-worker").await;
    let neighbour = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_2))
        .bearer(&a_admin)
        .json(&json!({"name": "邻格居民"}))
        .send()
        .await;
    let neighbour = neighbour.ok(201)["id"].clone();
    let linked = app
        .post("/api/v1/cases")
        .bearer(&worker)
        .json(&with(
            json!({"extra": {"depth": 2}, "resident_id": neighbour}),
        ))
        .send()
        .await;
    assert!(
        linked.problem(422, "invalid_reference")["detail"]
            .as_str()
            .unwrap()
            .contains("resident_id")
    );
    assert_eq!(app.db.count("cases").await, 0, "nothing was written");
    // A valid one uses the category's own resolution clock (2 working days).
    app.clock.set(Some(at("2026-12-02T09:00:00+08:00")));
    let ok = file(&app, &a_admin, with(json!({"extra": {"depth": 2}}))).await;
    assert_eq!(ok["extra"], json!({"depth": 2}));
    assert!(same_instant(
        &clock(&ok, "resolution")["due_at"],
        "2026-12-03T17:30:00+08:00"
    ));
}

#[tokio::test]
async fn the_district_sets_its_tiers_and_each_district_keeps_its_own() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let worker = app.token("a1-worker").await;
    let tiers = app.get("/api/v1/sla-tiers").bearer(&worker).send().await;
    let general = tiers
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "general")
        .unwrap()
        .clone();
    assert_eq!(
        general["response"],
        json!({"basis": "working", "minutes": 60})
    );
    let put = |token: String, version: Value| {
        let app = &app;
        async move {
            app.call(reqwest::Method::PUT, "/api/v1/sla-tiers/general")
                .bearer(&token)
                .header("if-match", &format!("\"{version}\""))
                .json(&json!({"response": {"basis": "calendar", "minutes": 30}, "resolution": {"basis": "calendar", "minutes": 2880}}))
                .send()
                .await
        }
    };
    put(worker.clone(), general["version"].clone())
        .await
        .problem(403, "forbidden");
    let updated = put(d_admin.clone(), general["version"].clone()).await;
    assert_eq!(updated.ok(200)["response"]["minutes"], 30);
    put(d_admin.clone(), general["version"].clone())
        .await
        .problem(412, "version_mismatch");
    // New cases use it.
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let noise = category(&app, &worker, "03.02").await;
    let case = file(&app, &worker, json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "t", "description": "d"})).await;
    assert!(same_instant(
        &clock(&case, "response")["due_at"],
        "2026-12-02T10:30:00+08:00"
    ));
    assert!(same_instant(
        &clock(&case, "resolution")["due_at"],
        "2026-12-04T10:00:00+08:00"
    ));
    // Another district's admin changes its own tiers and calendar, not ours.
    onegrid_api::seed::bootstrap(
        &mut app.system().await,
        "150204",
        "青山区",
        "q-admin",
        onegrid_tests::PASSWORD,
        onegrid_tests::roles_since(),
    )
    .await
    .unwrap();
    let q_admin = app.token("q-admin").await;
    let theirs = app.get("/api/v1/sla-tiers").bearer(&q_admin).send().await;
    let q_general = theirs
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "general")
        .unwrap()
        .clone();
    assert_eq!(
        q_general["response"]["minutes"], 60,
        "untouched by our change"
    );
    app.call(reqwest::Method::PUT, "/api/v1/calendar/2026")
        .bearer(&q_admin)
        .json(&json!({"days": []}))
        .send()
        .await
        .ok(200);
    let ours = app
        .get("/api/v1/calendar?year=2026")
        .bearer(&d_admin)
        .send()
        .await;
    assert_eq!(ours.ok(200)["days"].as_array().unwrap().len(), 39);
    let bad = app
        .call(reqwest::Method::PUT, "/api/v1/calendar/2026")
        .bearer(&d_admin)
        .json(&json!({"days": [{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}]}))
        .send()
        .await;
    assert_eq!(
        bad.problem(422, "validation_failed")["errors"][0]["field"],
        "days[0].day"
    );
    app.get("/api/v1/calendar?year=1900")
        .bearer(&d_admin)
        .send()
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn kpis_on_a_known_fixture() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let a_admin = app.token("a-admin").await;
    let police = app.token("police").await;
    let noise = category(&app, &worker, "03.02").await;
    let me = w.user("a1-worker");
    let dispatch = json!({"step": "dispatch", "assignee_user_id": me});
    let set = |s: &str| app.clock.set(Some(at(s)));
    let new = |grid: uuid::Uuid| json!({"channel": "patrol", "category_id": noise, "grid_id": grid, "title": "t", "description": "d"});
    set("2026-12-02T10:00:00+08:00");
    let c1 = file(&app, &worker, new(w.grid_a1_1)).await;
    let c2 = file(&app, &worker, new(w.grid_a1_1)).await;
    let c3 = file(&app, &a_admin, new(w.grid_a1_2)).await;
    let c4 = file(&app, &a_admin, new(w.grid_a2_1)).await;
    let c5 = file(&app, &worker, new(w.grid_a1_1)).await;

    // 1: responded in time, resolved in time, rated 10.
    set("2026-12-02T10:30:00+08:00");
    let mut c = c1;
    for s in [
        json!({"step": "accept"}),
        dispatch.clone(),
        json!({"step": "sign"}),
        json!({"step": "submit_result"}),
        json!({"step": "verify"}),
        json!({"step": "resolve"}),
        json!({"step": "rate", "score": 10}),
    ] {
        c = ok_step(&app, &worker, &c, s).await;
    }
    // 3: rejected in time (a response; never due for closure).
    ok_step(
        &app,
        &a_admin,
        &c3,
        json!({"step": "reject", "reason": "不属于受理范围"}),
    )
    .await;
    // 5: responded in time, resolved, never rated (counts as the default 10 after 7 days).
    let mut c = c5;
    for s in [
        json!({"step": "accept"}),
        dispatch.clone(),
        json!({"step": "sign"}),
        json!({"step": "submit_result"}),
        json!({"step": "verify"}),
        json!({"step": "resolve"}),
    ] {
        c = ok_step(&app, &worker, &c, s).await;
    }
    // 4: accepted, never dispatched: its response and resolution clocks run out.
    ok_step(&app, &a_admin, &c4, json!({"step": "accept"})).await;
    // 2: dispatched late, returned, extended (deferred), reworked after a 3, then rated 8.
    set("2026-12-02T11:30:00+08:00");
    let mut c = c2;
    for (who, s) in [
        (&worker, json!({"step": "accept"})),
        (&worker, dispatch.clone()),
        (&worker, json!({"step": "return", "reason": "非本人网格"})),
        (&worker, dispatch.clone()),
        (&worker, json!({"step": "sign"})),
        (
            &worker,
            json!({"step": "request_extension", "reason": "等待配件", "extension_minutes": 60}),
        ),
        (
            &chief,
            json!({"step": "approve_extension", "extension_minutes": 60}),
        ),
        (&worker, json!({"step": "submit_result"})),
        (&worker, json!({"step": "verify"})),
        (&worker, json!({"step": "resolve"})),
        (&worker, json!({"step": "rate", "score": 3})),
        (&worker, json!({"step": "submit_result"})),
        (&worker, json!({"step": "verify"})),
        (&worker, json!({"step": "resolve"})),
        (&worker, json!({"step": "rate", "score": 8})),
    ] {
        c = ok_step(&app, who, &c, s).await;
    }
    set("2026-12-10T12:00:00+08:00");

    let report = app
        .get("/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
        .bearer(&a_admin)
        .send()
        .await;
    let r = report.ok(200)["rows"][0].clone();
    assert_eq!(report.body["rows"].as_array().unwrap().len(), 1);
    let counts: Vec<i64> = [
        "filed",
        "accepted",
        "response_decided",
        "responded_on_time",
        "resolved",
        "due",
        "deferred",
        "closed_on_time",
        "rated",
        "satisfied",
        "dispatched",
        "returned",
        "ever_resolved",
        "reworked",
    ]
    .iter()
    .map(|k| r[*k].as_i64().unwrap_or_else(|| panic!("{k}")))
    .collect();
    assert_eq!(counts, [5, 4, 5, 3, 3, 4, 1, 2, 3, 3, 3, 1, 3, 1], "{r}");
    let rate = |k: &str| r[k].as_f64().unwrap();
    assert!((rate("response_rate") - 0.6).abs() < 1e-9);
    assert!((rate("resolution_rate") - 0.75).abs() < 1e-9);
    assert!(
        (rate("on_time_rate") - 2.0 / 3.0).abs() < 1e-9,
        "closed on time / (due - deferred)"
    );
    assert!((rate("satisfaction_rate") - 1.0).abs() < 1e-9);
    assert!((rate("mean_score") - 28.0 / 3.0).abs() < 1e-9);
    assert!((rate("return_rate") - 1.0 / 3.0).abs() < 1e-9);
    assert!((rate("rework_rate") - 1.0 / 3.0).abs() < 1e-9);

    // Grouped by community; and a grid worker's KPIs cover their grid only.
    let by = app
        .get("/api/v1/case-kpis?from=2026-12-01&to=2026-12-31&group_by=community")
        .bearer(&a_admin)
        .send()
        .await;
    let rows: Vec<(String, i64)> = by.ok(200)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["filed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (w.community_a1.to_string(), 4),
            (w.community_a2.to_string(), 1)
        ]
    );
    let mine = app
        .get("/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(mine.ok(200)["rows"][0]["filed"], 3);
    let by_worker = app
        .get("/api/v1/case-kpis?from=2026-12-01&to=2026-12-31&group_by=worker")
        .bearer(&a_admin)
        .send()
        .await;
    let top = by_worker.ok(200)["rows"][0].clone();
    assert_eq!(
        (top["key"].as_str(), top["filed"].as_i64()),
        (Some(me.to_string().as_str()), Some(3))
    );
    // Outside the period, nothing; the police see nothing (nothing was routed to them).
    let before = app
        .get("/api/v1/case-kpis?from=2026-11-01&to=2026-11-30")
        .bearer(&a_admin)
        .send()
        .await;
    assert_eq!(before.ok(200)["rows"], json!([]));
    let theirs = app
        .get("/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
        .bearer(&police)
        .send()
        .await;
    assert_eq!(theirs.ok(200)["rows"], json!([]));
    app.get("/api/v1/case-kpis?from=2026-12-31&to=2026-12-01")
        .bearer(&a_admin)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/case-kpis?from=2026-01-01&to=2027-12-31")
        .bearer(&a_admin)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/case-kpis?from=yesterday&to=2026-12-01")
        .bearer(&a_admin)
        .send()
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn decomposed_tasks_gate_resolution_and_bundles_are_rated_once() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let police = app.token("police").await;
    let noise = category(&app, &worker, "03.02").await;
    let elderly = category(&app, &worker, "05.01").await;
    let proxy = category(&app, &worker, "05.03").await;
    let case = file(&app, &worker, json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1, "title": "综合整治", "description": "噪声与占道"})).await;
    let tasks_path = format!("/api/v1/cases/{}/tasks", case["id"].as_str().unwrap());
    // Not before the case is accepted.
    app.post(&tasks_path)
        .bearer(&worker)
        .json(&json!({"title": "t", "description": "d"}))
        .send()
        .await
        .problem(409, "conflict");
    let case = ok_step(&app, &worker, &case, json!({"step": "accept"})).await;
    let mine = app
        .post(&tasks_path)
        .bearer(&worker)
        .json(&json!({"title": "噪声劝导", "description": "上门劝导", "service_mode": "home_visit", "assignee_user_id": w.user("a1-worker")}))
        .send()
        .await;
    let mine = mine.ok(201).clone();
    assert_eq!(
        (mine["kind"].as_str(), mine["status"].as_str()),
        (Some("task"), Some("dispatched"))
    );
    assert_eq!(mine["parent_id"], case["id"]);
    assert_eq!(clock(&mine, "response")["state"], "met");
    let theirs = app
        .post(&tasks_path)
        .bearer(&worker)
        .json(&json!({"title": "占道执法", "description": "联合执法", "department_id": w.departments["police"]}))
        .send()
        .await;
    let theirs = theirs.ok(201).clone();
    // The department sees its task, not the parent.
    let inbox = app.get("/api/v1/cases").bearer(&police).send().await;
    let ids: Vec<&str> = inbox.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [theirs["id"].as_str().unwrap()]);
    // Work the parent to the point of resolving: refused while tasks are open.
    let mut parent = case;
    for s in [
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
        json!({"step": "sign"}),
        json!({"step": "submit_result"}),
        json!({"step": "verify"}),
    ] {
        parent = ok_step(&app, &worker, &parent, s).await;
    }
    let refused = step(&app, &worker, &parent, json!({"step": "resolve"})).await;
    assert!(
        refused.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("2 of the case's tasks")
    );
    let mut t = ok_step(&app, &worker, &mine, json!({"step": "sign"})).await;
    for s in [
        json!({"step": "submit_result"}),
        json!({"step": "verify"}),
        json!({"step": "resolve"}),
    ] {
        t = ok_step(&app, &worker, &t, s).await;
    }
    let rate_task = step(&app, &worker, &t, json!({"step": "rate", "score": 10})).await;
    assert_eq!(
        rate_task.problem(422, "validation_failed")["errors"][0]["field"],
        "step"
    );
    let theirs = ok_step(&app, &police, &theirs, json!({"step": "sign"})).await;
    let theirs = ok_step(&app, &police, &theirs, json!({"step": "submit_result"})).await;
    let theirs = ok_step(&app, &worker, &theirs, json!({"step": "verify"})).await;
    ok_step(&app, &worker, &theirs, json!({"step": "resolve"})).await;
    let parent = ok_step(&app, &worker, &parent, json!({"step": "resolve"})).await;
    assert_eq!(parent["status"], "resolved");
    let listed = app.get(&tasks_path).bearer(&worker).send().await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 2);

    // A bundle: one parent for the resident, one task per service, one rating.
    let bundle = app
        .post("/api/v1/case-bundles")
        .bearer(&worker)
        .json(&json!({"resident_id": w.resident_a, "category_id": elderly, "title": "助老服务包", "description": "独居老人每周服务",
            "services": [
                {"title": "上门探访", "description": "每周一次", "service_mode": "home_visit", "assignee_user_id": w.user("a1-worker")},
                {"title": "代办医保", "description": "代办医保报销", "service_mode": "proxy", "category_id": proxy}
            ]}))
        .send()
        .await;
    let bundle = bundle.ok(201).clone();
    assert_eq!(
        (
            bundle["kind"].as_str(),
            bundle["status"].as_str(),
            bundle["service_mode"].as_str()
        ),
        (Some("bundle"), Some("accepted"), Some("bundled"))
    );
    assert_eq!(bundle["grid_id"], w.grid_a1_1.to_string());
    let services = app
        .get(&format!(
            "/api/v1/cases/{}/tasks",
            bundle["id"].as_str().unwrap()
        ))
        .bearer(&worker)
        .send()
        .await;
    let services = services.ok(200).as_array().unwrap().clone();
    let modes: Vec<&str> = services
        .iter()
        .map(|s| s["service_mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["home_visit", "proxy"]);
    assert_eq!(services[1]["category_id"], proxy);
    assert_eq!(
        services[1]["status"], "accepted",
        "no assignee: accepted, awaiting dispatch"
    );
    // Another street's resident cannot be bundled.
    let foreign = app
        .post("/api/v1/case-bundles")
        .bearer(&worker)
        .json(&json!({"resident_id": w.resident_b, "category_id": elderly, "title": "t", "description": "d",
            "services": [{"title": "x", "description": "y"}]}))
        .send()
        .await;
    foreign.problem(422, "invalid_reference");
    let empty = app
        .post("/api/v1/case-bundles")
        .bearer(&worker)
        .json(&json!({"resident_id": w.resident_a, "category_id": elderly, "title": "t", "description": "d", "services": []}))
        .send()
        .await;
    assert_eq!(
        empty.problem(422, "validation_failed")["errors"][0]["field"],
        "services"
    );
}

#[tokio::test]
async fn appointment_slots_off_hours_and_capacity() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let a1_admin = app.token("a1-admin").await;
    let noise = category(&app, &worker, "03.02").await;
    app.clock.set(Some(at("2026-12-01T09:00:00+08:00")));
    let slots = format!("/api/v1/communities/{}/appointment-slots", w.community_a1);
    let offer = |body: Value| {
        let (app, path, token) = (&app, slots.clone(), a1_admin.clone());
        async move { app.post(&path).bearer(&token).json(&body).send().await }
    };
    // Wednesday 10:00-11:00 is in working hours; Saturday morning is off-hours (错时).
    let weekday = offer(json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T03:00:00Z", "capacity": 1, "place": "社区服务站"})).await;
    let weekday = weekday.ok(201).clone();
    assert_eq!(weekday["off_hours"], false);
    let saturday = offer(json!({"starts_at": "2026-12-05T01:00:00Z", "ends_at": "2026-12-05T02:00:00Z", "capacity": 2})).await;
    let saturday = saturday.ok(201).clone();
    assert_eq!(saturday["off_hours"], true);
    let evening = offer(json!({"starts_at": "2026-12-02T09:00:00Z", "ends_at": "2026-12-02T10:30:00Z", "capacity": 1, "grid_id": w.grid_a1_1})).await;
    assert_eq!(
        evening.ok(201)["off_hours"],
        true,
        "17:00-18:30 China time runs past 17:30"
    );
    for (body, field) in [
        (
            json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T01:00:00Z", "capacity": 1}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2026-11-30T02:00:00Z", "ends_at": "2026-11-30T03:00:00Z", "capacity": 1}),
            "starts_at",
        ),
        (
            json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T03:00:00Z", "capacity": 0}),
            "capacity",
        ),
        (
            json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T03:00:00Z", "capacity": 1, "grid_id": w.grid_a2_1}),
            "grid_id",
        ),
    ] {
        let r = offer(body.clone()).await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    // A grid worker offers slots only for their grid.
    app.post(&slots)
        .bearer(&worker)
        .json(&json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T03:00:00Z", "capacity": 1}))
        .send()
        .await
        .problem(403, "forbidden");
    let free = app
        .get(&format!("{slots}?available=true&off_hours=true"))
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(free.ok(200)["items"].as_array().unwrap().len(), 2);

    // Booking: the service mode follows the slot; a full slot refuses.
    let new = || json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1, "title": "预约办理", "description": "d"});
    let one = file(&app, &worker, new()).await;
    let two = file(&app, &worker, new()).await;
    let book = |case: Value, slot: Value| {
        let (app, token) = (&app, worker.clone());
        async move {
            app.post(&format!(
                "/api/v1/cases/{}/appointment",
                case["id"].as_str().unwrap()
            ))
            .bearer(&token)
            .header("if-match", &format!("\"{}\"", case["version"]))
            .json(&json!({"slot_id": slot["id"]}))
            .send()
            .await
        }
    };
    let booked = book(one.clone(), weekday.clone()).await;
    let one = booked.ok(201).clone();
    assert_eq!(one["service_mode"], "appointment");
    let full = book(two.clone(), weekday.clone()).await;
    assert!(
        full.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("full")
    );
    let two = book(two, saturday.clone()).await.ok(201).clone();
    assert_eq!(two["service_mode"], "off_hours");
    let again = book(one.clone(), saturday.clone()).await;
    again.problem(409, "conflict");
    let listed = app.get(&slots).bearer(&worker).send().await;
    let counts: Vec<i64> = listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["booked"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 0]);
    // Cancelling frees the place; the history keeps both.
    let cancelled = app
        .delete(&format!(
            "/api/v1/cases/{}/appointment",
            one["id"].as_str().unwrap()
        ))
        .bearer(&worker)
        .header("if-match", &format!("\"{}\"", one["version"]))
        .send()
        .await;
    cancelled.ok(200);
    let history = events(&app, &worker, &one).await;
    let steps: Vec<&str> = history
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["file", "book_appointment", "cancel_appointment"]);
    assert_eq!(history[1]["data"]["slot_id"], weekday["id"]);
    let listed = app
        .get(&format!("{slots}?available=true"))
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 3);
    // Another street cannot see or book the community's slots.
    let b_admin = app.token("b-admin").await;
    app.get(&slots)
        .bearer(&b_admin)
        .send()
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn attachments_are_checked_by_their_bytes_stored_outside_and_served_back() {
    let app = TestApp::start_with(&[("ONEGRID_ATTACHMENT_MAX_BYTES", "2048")]).await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let noise = category(&app, &worker, "03.02").await;
    let case = file(&app, &worker, json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "井盖破损", "description": "见照片"})).await;
    let path = format!("/api/v1/cases/{}/attachments", case["id"].as_str().unwrap());
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend(std::iter::repeat_n(7u8, 500));
    let up = app
        .post(&format!("{path}?name=../../门口%22照片.jpg"))
        .bearer(&worker)
        .raw("image/jpeg", jpeg.clone())
        .send()
        .await;
    let meta = up.ok(201).clone();
    assert_eq!(meta["file_name"], "门口照片.jpg");
    assert_eq!(meta["size_bytes"], 504);
    assert_eq!(meta["content_type"], "image/jpeg");
    // Stored outside the database, byte for byte; the row has only the metadata.
    let dir = app.state.config.attachment_dir.clone();
    let on_disk = dir
        .join(w.street_a.to_string())
        .join(case["id"].as_str().unwrap())
        .join(meta["id"].as_str().unwrap());
    assert_eq!(std::fs::read(&on_disk).unwrap(), jpeg);
    let down = app
        .get(&format!("{path}/{}", meta["id"].as_str().unwrap()))
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(down.status.as_u16(), 200);
    assert_eq!(down.header("content-type"), Some("image/jpeg"));
    assert_eq!(down.header("x-content-type-options"), Some("nosniff"));
    assert!(
        down.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    // Bytes that lie about their type, or are not a photo at all, are refused.
    for (ctype, bytes, status, code) in [
        ("image/png", jpeg.clone(), 422, "validation_failed"),
        (
            "image/jpeg",
            b"<html><script>alert(1)</script>".to_vec(),
            422,
            "validation_failed",
        ),
        (
            "text/html",
            b"<html>".to_vec(),
            415,
            "unsupported_media_type",
        ),
        ("image/jpeg", vec![0xFF; 4096], 413, "payload_too_large"),
    ] {
        let r = app
            .post(&path)
            .bearer(&worker)
            .raw(ctype, bytes)
            .send()
            .await;
        r.problem(status, code);
    }
    let list = app.get(&path).bearer(&worker).send().await;
    assert_eq!(
        list.ok(200).as_array().unwrap().len(),
        1,
        "refused uploads wrote nothing"
    );
    let files = std::fs::read_dir(on_disk.parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(files, 1, "and left no bytes behind");
    // A tampered file is refused on the way out rather than served.
    std::fs::write(&on_disk, b"\xFF\xD8\xFF tampered").unwrap();
    let tampered = app
        .get(&format!("{path}/{}", meta["id"].as_str().unwrap()))
        .bearer(&worker)
        .send()
        .await;
    tampered.problem(500, "internal");
    // Another street sees none of it.
    let b_admin = app.token("b-admin").await;
    app.get(&path)
        .bearer(&b_admin)
        .send()
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn exports_mask_reporters_keep_sealed_ones_sealed_and_defuse_formulas() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let noise = category(&app, &worker, "03.02").await;
    file(&app, &worker, json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
        "title": "=HYPERLINK(\"http://x\")", "description": "d", "reporter": {"name": "王芳", "phone": "13900001234"}})).await;
    file(
        &app,
        &worker,
        json!({"channel": "suggestion_box", "category_id": noise, "grid_id": w.grid_a1_1,
        "title": "匿名", "description": "d", "reporter": {"name": "李明", "phone": "13700001111"}}),
    )
    .await;
    let csv = app
        .get("/api/v1/cases/export?format=csv")
        .bearer(&worker)
        .send()
        .await;
    assert_eq!(csv.status.as_u16(), 200, "{}", csv.text);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text.clone();
    assert!(
        text.contains("王*") && text.contains("139****1234") && text.contains("已密封"),
        "{text}"
    );
    for secret in ["王芳", "13900001234", "李明", "13700001111"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("\"'=HYPERLINK"), "formula made inert: {text}");
    let lines = text.lines().count();
    assert_eq!(lines, 3, "header and two cases");
    let xlsx = app.get("/api/v1/cases/export").bearer(&worker).send().await;
    assert_eq!(xlsx.status.as_u16(), 200);
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    app.get("/api/v1/cases/export?limit=5")
        .bearer(&worker)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/cases?format=csv")
        .bearer(&worker)
        .send()
        .await
        .problem(400, "invalid_parameter");
    // The events of a case never carry the reporter either.
    let list = app.get("/api/v1/cases").bearer(&worker).send().await;
    for c in list.ok(200)["items"].as_array().unwrap() {
        let history = events(&app, &worker, c).await;
        let text = serde_json::to_string(&history).unwrap();
        assert!(!text.contains("13700001111") && !text.contains("李明") && !text.contains("王芳"));
    }
}
