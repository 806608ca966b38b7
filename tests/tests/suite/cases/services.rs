//! Service delivery: decomposed tasks and bundles, appointment slots, attachments.

use super::{category, clock, events, file, ok_step, step};
use onegrid_tests::{TestApp, World, at};
use serde_json::{Value, json};

#[tokio::test]
async fn decomposed_tasks_gate_resolution_and_bundles_are_rated_once() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let police = app.token("police").await;
    let noise = category(&app, &worker, "03.02").await;
    let elderly = category(&app, &worker, "05.01").await;
    let proxy = category(&app, &worker, "05.03").await;
    let case = file(&app, &worker, json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1, "title": "综合整治", "description": "噪声与占道"})).await;
    let tasks_path = format!("/api/v1/cases/{}/tasks", case["id"].as_str().unwrap());
    // Not before the case is accepted.
    app.post_as(
        &worker,
        &tasks_path,
        &json!({"title": "t", "description": "d"}),
    )
    .await
    .problem(409, "conflict");
    let case = ok_step(&app, &worker, &case, json!({"step": "accept"})).await;
    let mine = app.post_as(&worker, &tasks_path, &json!({"title": "噪声劝导", "description": "上门劝导", "service_mode": "home_visit", "assignee_user_id": w.user("a1-worker")})).await;
    let mine = mine.ok(201).clone();
    assert_eq!(
        (mine["kind"].as_str(), mine["status"].as_str()),
        (Some("task"), Some("dispatched"))
    );
    assert_eq!(mine["parent_id"], case["id"]);
    assert_eq!(clock(&mine, "response")["state"], "met");
    let theirs = app.post_as(&worker, &tasks_path, &json!({"title": "占道执法", "description": "联合执法", "department_id": w.departments["police"]})).await;
    let theirs = theirs.ok(201).clone();
    // The department sees its task, not the parent.
    let inbox = app.get_as(&police, "/api/v1/cases").await;
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
    let listed = app.get_as(&worker, &tasks_path).await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 2);

    // A bundle: one parent for the resident, one task per service, one rating.
    let bundle = app.post_as(&worker, "/api/v1/case-bundles", &json!({"resident_id": w.resident_a, "category_id": elderly, "title": "助老服务包", "description": "独居老人每周服务",
            "services": [
                {"title": "上门探访", "description": "每周一次", "service_mode": "home_visit", "assignee_user_id": w.user("a1-worker")},
                {"title": "代办医保", "description": "代办医保报销", "service_mode": "proxy", "category_id": proxy}
            ]})).await;
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
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}/tasks", bundle["id"].as_str().unwrap()),
        )
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
    let foreign = app.post_as(&worker, "/api/v1/case-bundles", &json!({"resident_id": w.resident_b, "category_id": elderly, "title": "t", "description": "d",
            "services": [{"title": "x", "description": "y"}]})).await;
    foreign.problem(422, "invalid_reference");
    let empty = app.post_as(&worker, "/api/v1/case-bundles", &json!({"resident_id": w.resident_a, "category_id": elderly, "title": "t", "description": "d", "services": []})).await;
    assert_eq!(
        empty.problem(422, "validation_failed")["errors"][0]["field"],
        "services"
    );
}

#[tokio::test]
async fn appointment_slots_off_hours_and_capacity() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let a1_admin = app.token("a1-admin").await;
    let noise = category(&app, &worker, "03.02").await;
    app.clock.set(Some(at("2026-12-01T09:00:00+08:00")));
    let slots = format!("/api/v1/communities/{}/appointment-slots", w.community_a1);
    let offer = |body: Value| {
        let (app, path, token) = (&app, slots.clone(), a1_admin.clone());
        async move { app.post_as(&token, &path, &body).await }
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
    app.post_as(&worker, &slots, &json!({"starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-02T03:00:00Z", "capacity": 1})).await
        .problem(403, "forbidden");
    let free = app
        .get_as(&worker, &format!("{slots}?available=true&off_hours=true"))
        .await;
    assert_eq!(free.ok(200)["items"].as_array().unwrap().len(), 2);

    // Booking: the service mode follows the slot; a full slot refuses.
    let new = || json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1, "title": "预约办理", "description": "d"});
    let one = file(&app, &worker, new()).await;
    let two = file(&app, &worker, new()).await;
    let book = |case: Value, slot: Value| {
        let (app, token) = (&app, worker.clone());
        async move {
            app.post_at(
                &token,
                &format!("/api/v1/cases/{}/appointment", case["id"].as_str().unwrap()),
                &format!("\"{}\"", case["version"]),
                &json!({"slot_id": slot["id"]}),
            )
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
    let listed = app.get_as(&worker, &slots).await;
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
        .get_as(&worker, &format!("{slots}?available=true"))
        .await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 3);
    // Another street cannot see or book the community's slots.
    let b_admin = app.token("b-admin").await;
    app.get_as(&b_admin, &slots).await.problem(404, "not_found");
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
        .get_as(&worker, &format!("{path}/{}", meta["id"].as_str().unwrap()))
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
    let list = app.get_as(&worker, &path).await;
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
        .get_as(&worker, &format!("{path}/{}", meta["id"].as_str().unwrap()))
        .await;
    tampered.problem(500, "internal");
    // Another street sees none of it.
    let b_admin = app.token("b-admin").await;
    app.get_as(&b_admin, &path).await.problem(404, "not_found");
}
