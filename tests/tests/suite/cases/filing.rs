//! Filing: routing to a grid, the clocks on the working calendar, the
//! channels (suggestion box, app key), and every field checked.

use super::{category, clock, events, file, ok_step, same_instant};
use onegrid_tests::{TestApp, at};
use serde_json::{Value, json};

/// Loads 2026 with the official days plus a test holiday on Monday 7 December
/// and an adjusted workday on Saturday 5 December.
#[tokio::test]
async fn filing_routes_to_a_grid_and_starts_clocks_on_the_working_calendar() {
    let (app, w) = TestApp::with_world().await;
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
        .get_as(&a_admin, &format!("/api/v1/grids/{}", w.grid_a1_2))
        .await;
    let etag = grid.header("etag").unwrap().to_owned();
    let boundary = json!({"type": "Polygon", "coordinates": [[[109.80, 40.60], [109.82, 40.60], [109.82, 40.62], [109.80, 40.62], [109.80, 40.60]]]});
    app.patch_at(
        &a_admin,
        &format!("/api/v1/grids/{}", w.grid_a1_2),
        &etag,
        &json!({"boundary": boundary}),
    )
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
    let nowhere = app.post_as(&a_admin, "/api/v1/cases", &json!({"channel": "hotline", "category_id": noise, "location": {"lon": 100.0, "lat": 30.0},
            "title": "x", "description": "y"})).await;
    assert_eq!(
        nowhere.problem(422, "validation_failed")["errors"][0]["field"],
        "location"
    );

    // A grid worker files only in their own grid.
    app.post_as(
        &worker,
        "/api/v1/cases",
        &json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a2_1,
            "title": "x", "description": "y"}),
    )
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
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    let a1_admin = app.token("a1-admin").await;
    let noise = category(&app, &worker, "03.02").await;
    // The app channel is for an integrator's key acting for a resident.
    let refused = app
        .post_as(
            &worker,
            "/api/v1/cases",
            &json!({"channel": "app", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "x", "description": "y"}),
        )
        .await;
    assert_eq!(
        refused.problem(422, "validation_failed")["errors"][0]["field"],
        "channel"
    );
    let key = app.post_as(&a_admin, "/api/v1/api-keys", &json!({"name": "居民小程序", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}})).await;
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
    app.post_as(
        &worker,
        &path,
        &json!({"field": "name", "purpose": "核实反映情况"}),
    )
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
        .get_as(
            &auditor,
            &format!(
                "/api/v1/audit-log?subject_id={}",
                boxed["id"].as_str().unwrap()
            ),
        )
        .await;
    let entries = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "case.reporter_reveal");
    assert_eq!(entries[0]["purpose"], "回访核实反映情况");
    assert_eq!(entries[0]["request_id"], "reveal-reporter-1");
    assert!(!log.text.contains("13700001111"));
}

#[tokio::test]
async fn filing_validates_fields_references_and_extra_fields() {
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    // A category with an extra field, added through the API.
    let parent = app
        .post_as(
            &d_admin,
            "/api/v1/case-categories",
            &json!({"code": "09.01", "name": "无父类", "tier": "general"}),
        )
        .await;
    assert_eq!(
        parent.problem(422, "validation_failed")["errors"][0]["field"],
        "code"
    );
    let created = app
        .post_as(
            &d_admin,
            "/api/v1/case-categories",
            &json!({"code": "01.04", "name": "窨井异味", "tier": "general",
            "fields": [{"key": "depth", "label": "井深", "type": "number", "required": true}],
            "resolution": {"basis": "working", "minutes": 840}}),
        )
        .await;
    let cat = created.created_id();
    assert_eq!(created.body["parent_code"], "01");
    app.post_as(
        &a_admin,
        "/api/v1/case-categories",
        &json!({"code": "01.05", "name": "x", "tier": "general"}),
    )
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
        let reply = app.post_as(&a_admin, "/api/v1/cases", &body).await;
        let problem = reply.problem(status, code);
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    }
    let reply = app
        .post_as(
            &a_admin,
            "/api/v1/cases",
            &with(json!({"extra": {"depth": 2}, "colour": 1})),
        )
        .await;
    assert_eq!(
        reply.problem(422, "validation_failed")["errors"][0]["field"],
        "body"
    );
    // A grid worker cannot link a resident of another grid of the street.
    let worker = app.token("a1-worker").await;
    let neighbour = app
        .post_as(
            &a_admin,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_2),
            &json!({"name": "邻格居民"}),
        )
        .await;
    let neighbour = neighbour.ok(201)["id"].clone();
    let linked = app
        .post_as(
            &worker,
            "/api/v1/cases",
            &with(json!({"extra": {"depth": 2}, "resident_id": neighbour})),
        )
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
