//! The daily patrol log: one log per worker and day, visits and findings
//! (with a photo), a finding turned into a case linked both ways, history and
//! coverage with the missing working days, and the worker's once-a-day flag
//! of a missing log to the worker and the grid chief.

use onegrid_tests::{TestApp, at};
use serde_json::json;

/// The start of a PNG: enough for the upload check, which reads the signature.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

#[tokio::test]
async fn a_day_of_patrol_from_check_in_to_a_tracked_finding() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let a1_admin = app.token("a1-admin").await;
    let a2_admin = app.token("a2-admin").await;
    let b_worker = app.token("b1-worker").await;
    app.clock.set(Some(at("2026-12-02T08:40:00+08:00")));
    let track = json!({"type": "LineString", "coordinates": [[109.84, 40.65], [109.85, 40.66]]});
    for (body, field) in [
        (json!({"notes": "x"}), "grid_id"),
        (
            json!({"grid_id": w.grid_a1_1, "track": {"type": "Point", "coordinates": [1, 2]}}),
            "track",
        ),
        (
            json!({"grid_id": w.grid_a1_1, "check_in_at": "2026-12-02T01:00:00Z", "check_out_at": "2026-12-02T00:00:00Z"}),
            "check_out_at",
        ),
        (json!({"grid_id": w.grid_a1_1, "day": "2026-12-09"}), "day"),
    ] {
        let r = app.post_as(&worker, "/api/v1/patrol-logs", &body).await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    // Another worker's grid is not one to patrol.
    app.post_as(
        &worker,
        "/api/v1/patrol-logs",
        &json!({"grid_id": w.grid_a1_2}),
    )
    .await
    .problem(403, "forbidden");
    let log = app
        .post_as(
            &worker,
            "/api/v1/patrol-logs",
            &json!({"grid_id": w.grid_a1_1, "check_in_at": "2026-12-02T00:40:00Z", "track": track}),
        )
        .await;
    let log = log.ok(201).clone();
    assert_eq!(
        (log["day"].as_str(), log["version"].as_i64()),
        (Some("2026-12-02"), Some(1))
    );
    app.post_as(
        &worker,
        "/api/v1/patrol-logs",
        &json!({"grid_id": w.grid_a1_1}),
    )
    .await
    .problem(409, "conflict");
    let log_path = format!("/api/v1/patrol-logs/{}", log["id"].as_str().unwrap());

    // A household visit and a finding with a photo.
    let visit = app.post_as(&worker, &format!("{log_path}/visits"), &json!({"household_id": w.household_a, "purpose": "走访独居老人", "service_mode": "home_visit", "next_visit_on": "2026-12-09"})).await;
    assert_eq!(visit.ok(201)["service_mode"], "home_visit");
    let finding = app.post_as(&worker, &format!("{log_path}/findings"), &json!({"description": "3号楼北侧井盖缺失，存在安全隐患", "location": {"lon": 109.845, "lat": 40.655}, "address": "3号楼北侧"})).await;
    let finding = finding.ok(201).clone();
    let finding_path = format!(
        "/api/v1/patrol-findings/{}",
        finding["id"].as_str().unwrap()
    );
    app.post(&format!("{finding_path}/photos?name=井盖.png"))
        .bearer(&worker)
        .raw("image/png", PNG.to_vec())
        .send()
        .await
        .ok(201);
    // Only the keeper writes the log.
    app.post_as(
        &chief,
        &format!("{log_path}/findings"),
        &json!({"description": "x"}),
    )
    .await
    .problem(403, "forbidden");

    // The finding becomes a case, linked both ways, once.
    let category = app.case_category(&worker, "03.02").await;
    let tracked = app
        .post_as(
            &worker,
            &format!("{finding_path}/case"),
            &json!({"category_id": category}),
        )
        .await;
    let tracked = tracked.ok(201).clone();
    let case_id = tracked["case_id"].as_str().unwrap().to_owned();
    assert_eq!(tracked["photos"].as_array().unwrap().len(), 1);
    let case = app
        .get_as(&worker, &format!("/api/v1/cases/{case_id}"))
        .await;
    let case = case.ok(200).clone();
    assert_eq!(
        (
            case["channel"].as_str(),
            case["grid_id"].as_str(),
            case["address"].as_str()
        ),
        (
            Some("patrol"),
            Some(w.grid_a1_1.to_string().as_str()),
            Some("3号楼北侧")
        )
    );
    assert!(
        case.to_string().contains(finding["id"].as_str().unwrap()),
        "the case links the finding"
    );
    app.post_as(
        &worker,
        &format!("{finding_path}/case"),
        &json!({"category_id": category}),
    )
    .await
    .problem(409, "conflict");

    // Check-out under If-Match.
    app.patch(&log_path)
        .bearer(&worker)
        .json(&json!({"check_out_at": "2026-12-02T09:30:00Z"}))
        .send()
        .await
        .problem(428, "precondition_required");
    let out = app
        .patch_at(
            &worker,
            &log_path,
            "\"1\"",
            &json!({"check_out_at": "2026-12-02T09:30:00Z", "notes": "日巡完成"}),
        )
        .await;
    assert_eq!(
        (
            out.ok(200)["version"].as_i64(),
            out.body["check_in_at"].as_str()
        ),
        (Some(2), Some("2026-12-02T00:40:00Z"))
    );

    // History: the worker's own; the chief's view of the community; nobody else's.
    let mine = app.get_as(&worker, "/api/v1/patrol-logs").await;
    let mine = mine.ok(200).as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (
            mine[0]["visits"].as_array().unwrap().len(),
            mine[0]["findings"][0]["case_id"].as_str()
        ),
        (1, Some(case_id.as_str()))
    );
    let community = format!("/api/v1/patrol-logs?community_id={}", w.community_a1);
    let seen = app.get_as(&chief, &community).await;
    assert_eq!(seen.ok(200).as_array().unwrap().len(), 1);
    let other = app.get_as(&a2_admin, &community).await;
    assert!(other.ok(200).as_array().unwrap().is_empty());
    app.get_as(&b_worker, &log_path)
        .await
        .problem(404, "not_found");

    // Coverage on Friday: logged Wednesday only.
    app.clock.set(Some(at("2026-12-04T18:00:00+08:00")));
    let coverage = app
        .get_as(
            &a1_admin,
            &format!(
                "/api/v1/patrol-coverage?community_id={}&from=2026-12-01&to=2026-12-06",
                w.community_a1
            ),
        )
        .await;
    let rows = coverage.ok(200).as_array().unwrap().clone();
    let me = rows
        .iter()
        .find(|r| r["worker_id"] == w.user("a1-worker").to_string())
        .unwrap();
    assert_eq!(
        (
            me["logs"].as_i64(),
            me["visits"].as_i64(),
            me["households_visited"].as_i64(),
            me["findings"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1))
    );
    assert_eq!(
        me["missing_days"],
        json!(["2026-12-01", "2026-12-03", "2026-12-04"])
    );
    app.get_as(
        &worker,
        &format!(
            "/api/v1/patrol-coverage?community_id={}&from=2026-12-01&to=2026-12-06",
            w.community_a1
        ),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn a_missing_log_is_flagged_once_to_the_worker_and_the_chief() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let b_worker = app.token("b1-worker").await;
    app.runner().ensure_schedules().await.unwrap();
    // Planned on Tuesday evening; Wednesday a1-worker logs, b1-worker does not.
    while app.tick_at("2026-12-01T21:00:00+08:00").await.ran() > 0 {}
    app.clock.set(Some(at("2026-12-02T09:00:00+08:00")));
    app.post_as(
        &worker,
        "/api/v1/patrol-logs",
        &json!({"grid_id": w.grid_a1_1}),
    )
    .await
    .ok(201);
    for when in ["2026-12-02T20:00:05+08:00", "2026-12-02T20:30:00+08:00"] {
        while app.tick_at(when).await.ran() > 0 {}
    }
    assert!(
        app.notifications_of_kind(&worker, "patrol.missing_log")
            .await
            .is_empty()
    );
    let flagged = app
        .notifications_of_kind(&b_worker, "patrol.missing_log")
        .await;
    assert_eq!(flagged.len(), 1, "once, however many passes");
    assert_eq!(flagged[0]["body"]["day"], "2026-12-02");
    // Thursday nobody logs: a1-worker and the grid chief are told.
    while app.tick_at("2026-12-03T20:00:05+08:00").await.ran() > 0 {}
    assert_eq!(
        app.notifications_of_kind(&worker, "patrol.missing_log")
            .await
            .len(),
        1
    );
    let told = app
        .notifications_of_kind(&chief, "patrol.missing_log")
        .await;
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0]["body"]["worker_id"],
        w.user("a1-worker").to_string()
    );
    assert_eq!(app.db.count("patrol_missing").await, 3);
}
