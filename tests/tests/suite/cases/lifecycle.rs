//! The lifecycle: the whole loop with pause, extension, rating and rework;
//! illegal and concurrent steps; departments working what was routed to them.

use super::{category, clock, events, file, ok_step, same_instant, step};
use onegrid_tests::{Reply, TestApp, at};
use serde_json::{Value, json};

#[tokio::test]
async fn the_whole_loop_with_pause_extension_rating_and_rework() {
    // Nobody can edit it, not even the owner.
    use diesel_async::RunQueryDsl;
    let (app, w) = TestApp::with_world().await;
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
        .post_at(
            &worker,
            &milestones_path,
            &format!("\"{}\"", case["version"]),
            &json!({"name": "控制"}),
        )
        .await;
    let case = reached.ok(201).clone();
    let again = app
        .post_at(
            &worker,
            &milestones_path,
            &format!("\"{}\"", case["version"]),
            &json!({"name": "控制"}),
        )
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
    let (app, w) = TestApp::with_world().await;
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
    app.post_as(
        &worker,
        &format!("/api/v1/cases/{}/steps", case["id"].as_str().unwrap()),
        &json!({"step": "accept"}),
    )
    .await
    .problem(428, "precondition_required");
    let stale = json!({"id": case["id"], "version": 7});
    step(&app, &worker, &stale, json!({"step": "accept"}))
        .await
        .problem(412, "version_mismatch");
    let now = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(now.ok(200)["version"], 1);
    assert_eq!(now.body["status"], "received");
    assert_eq!(events(&app, &worker, &case).await.len(), 1);
}

#[tokio::test]
async fn of_concurrent_steps_on_one_version_exactly_one_wins() {
    let (app, w) = TestApp::with_world().await;
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
    let (app, w) = TestApp::with_world().await;
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
    let inbox = app.get_as(&police, "/api/v1/cases").await;
    let items = inbox.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], routed["id"]);
    assert_eq!(items[0]["reporter"]["name"], "赵*");
    assert!(!inbox.text.contains("13600002222"));
    app.get_as(
        &police,
        &format!("/api/v1/cases/{}", other["id"].as_str().unwrap()),
    )
    .await
    .problem(404, "not_found");
    // Department staff sign and handle, but do not triage or reveal.
    let signed = ok_step(&app, &police, &routed, json!({"step": "sign"})).await;
    step(&app, &police, &signed, json!({"step": "resolve"}))
        .await
        .problem(403, "forbidden");
    app.post_as(
        &police,
        &format!(
            "/api/v1/cases/{}/reporter/reveal",
            routed["id"].as_str().unwrap()
        ),
        &json!({"field": "phone", "purpose": "联系报案人"}),
    )
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
    let inbox = app.get_as(&police, "/api/v1/cases").await;
    assert_eq!(inbox.ok(200)["items"].as_array().unwrap().len(), 0);
    app.get_as(
        &police,
        &format!("/api/v1/cases/{}", routed["id"].as_str().unwrap()),
    )
    .await
    .problem(403, "forbidden");
    // Street B never sees street A's cases, in lists or by id.
    let b_admin = app.token("b-admin").await;
    let list = app.get_as(&b_admin, "/api/v1/cases").await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 0);
}
