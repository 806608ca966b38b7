//! Work lists, their counts and their exports.

use super::{category, events, file, ok_step};
use onegrid_tests::{Reply, TestApp, at};
use serde_json::{Value, json};

#[tokio::test]
async fn work_lists_filter_and_count() {
    let (app, w) = TestApp::with_world().await;
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
    let list = app.get_as(&worker, "/api/v1/cases").await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&emergency), id(&mine)]);
    let list = app.get_as(&a_admin, "/api/v1/cases").await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere), id(&emergency), id(&mine)]);
    let list = app.get_as(&worker, "/api/v1/cases?mine=true").await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&mine)]);
    let list = app
        .get_as(
            &a2_admin,
            &format!("/api/v1/cases?community_id={}", w.community_a2),
        )
        .await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere)]);
    let list = app
        .get_as(&a_admin, "/api/v1/cases?status=received&channel=hotline")
        .await;
    list.ok(200);
    assert_eq!(ids(&list), [id(&elsewhere), id(&emergency)]);
    // Paging: newest first, the cursor continues.
    let first = app.get_as(&a_admin, "/api/v1/cases?limit=2").await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get_as(&a_admin, &format!("/api/v1/cases?limit=2&cursor={cursor}"))
        .await;
    second.ok(200);
    assert_eq!(ids(&second), [id(&mine)]);

    // 50 minutes on, the emergency's 60-minute response clock is past 75 %;
    // 70 minutes on, it is overdue (the dispatched case's response clock stopped in time).
    app.clock.set(Some(at("2026-12-02T10:50:00+08:00")));
    let soon = app.get_as(&a_admin, "/api/v1/cases?due_soon=true").await;
    soon.ok(200);
    assert_eq!(ids(&soon), [id(&elsewhere), id(&emergency)]);
    let counts = app.get_as(&a_admin, "/api/v1/cases/counts").await;
    assert_eq!(
        counts.ok(200).clone(),
        json!({"total": 3, "overdue": 0, "due_soon": 2})
    );
    app.clock.set(Some(at("2026-12-02T11:10:00+08:00")));
    let overdue = app.get_as(&worker, "/api/v1/cases?overdue=true").await;
    overdue.ok(200);
    assert_eq!(ids(&overdue), [id(&emergency)]);
    let counts = app.get_as(&a_admin, "/api/v1/cases/counts").await;
    assert_eq!(
        counts.ok(200).clone(),
        json!({"total": 3, "overdue": 2, "due_soon": 0})
    );
    let counts = app
        .get_as(&a_admin, "/api/v1/cases/counts?overdue=false")
        .await;
    assert_eq!(
        counts.ok(200)["total"],
        1,
        "only the dispatched case has no overdue clock"
    );
    // Bad filters are 400s.
    app.get_as(&worker, "/api/v1/cases?status=lost")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&worker, "/api/v1/cases?limit=0")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&worker, "/api/v1/cases?colour=red")
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn exports_mask_reporters_keep_sealed_ones_sealed_and_defuse_formulas() {
    let (app, w) = TestApp::with_world().await;
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
    let csv = app.get_as(&worker, "/api/v1/cases/export?format=csv").await;
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
    let xlsx = app.get_as(&worker, "/api/v1/cases/export").await;
    assert_eq!(xlsx.status.as_u16(), 200);
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    app.get_as(&worker, "/api/v1/cases/export?limit=5")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&worker, "/api/v1/cases?format=csv")
        .await
        .problem(400, "invalid_parameter");
    // The events of a case never carry the reporter either.
    let list = app.get_as(&worker, "/api/v1/cases").await;
    for c in list.ok(200)["items"].as_array().unwrap() {
        let history = events(&app, &worker, c).await;
        let text = serde_json::to_string(&history).unwrap();
        assert!(!text.contains("13700001111") && !text.contains("李明") && !text.contains("王芳"));
    }
}
