//! The district's tiers, and the KPIs on a known fixture.

use super::{category, clock, file, ok_step, same_instant};
use onegrid_tests::{Reply, TestApp, at};
use serde_json::{Value, json};

/// The `general` tier of a tier list.
fn general_tier(tiers: &Reply) -> Value {
    tiers
        .rows()
        .into_iter()
        .find(|t| t["tier"] == "general")
        .unwrap()
}

#[tokio::test]
async fn the_district_sets_its_tiers_and_each_district_keeps_its_own() {
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let worker = app.token("a1-worker").await;
    let tiers = app.get_as(&worker, "/api/v1/sla-tiers").await;
    let general = general_tier(&tiers);
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
    app.other_district("150204", "青山区", "q-admin").await;
    let q_admin = app.token("q-admin").await;
    let theirs = app.get_as(&q_admin, "/api/v1/sla-tiers").await;
    let q_general = general_tier(&theirs);
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
    let ours = app.get_as(&d_admin, "/api/v1/calendar?year=2026").await;
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
    app.get_as(&d_admin, "/api/v1/calendar?year=1900")
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn kpis_on_a_known_fixture() {
    let (app, w) = TestApp::with_world().await;
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
        .get_as(&a_admin, "/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
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
        .get_as(
            &a_admin,
            "/api/v1/case-kpis?from=2026-12-01&to=2026-12-31&group_by=community",
        )
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
        .get_as(&worker, "/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
        .await;
    assert_eq!(mine.ok(200)["rows"][0]["filed"], 3);
    let by_worker = app
        .get_as(
            &a_admin,
            "/api/v1/case-kpis?from=2026-12-01&to=2026-12-31&group_by=worker",
        )
        .await;
    let top = by_worker.ok(200)["rows"][0].clone();
    assert_eq!(
        (top["key"].as_str(), top["filed"].as_i64()),
        (Some(me.to_string().as_str()), Some(3))
    );
    // Outside the period, nothing; the police see nothing (nothing was routed to them).
    let before = app
        .get_as(&a_admin, "/api/v1/case-kpis?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(before.ok(200)["rows"], json!([]));
    let theirs = app
        .get_as(&police, "/api/v1/case-kpis?from=2026-12-01&to=2026-12-31")
        .await;
    assert_eq!(theirs.ok(200)["rows"], json!([]));
    app.get_as(&a_admin, "/api/v1/case-kpis?from=2026-12-31&to=2026-12-01")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&a_admin, "/api/v1/case-kpis?from=2026-01-01&to=2027-12-31")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&a_admin, "/api/v1/case-kpis?from=yesterday&to=2026-12-01")
        .await
        .problem(400, "invalid_parameter");
}
