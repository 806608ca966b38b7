//! The dispute ladder, sessions, agreements, referrals and follow-ups; the
//! district's panel and windows.

use onegrid_tests::{TestApp, at};
use serde_json::{Value, json};

#[tokio::test]
async fn disputes_climb_settle_or_refer_and_are_followed_up() {
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let (app, w) = TestApp::with_world().await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let d_admin = app.token("d-admin").await;
    // Bad input: 422 and nothing written.
    for (body, field) in [
        (
            json!({"kind": "neighbour", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]}),
            "grid_id",
        ),
        (
            json!({"grid_id": w.grid_a1_1, "kind": "neighbour", "summary": "x", "parties": []}),
            "parties",
        ),
        (
            json!({"grid_id": w.grid_a1_1, "kind": "neighbour", "summary": "x", "parties": [{"role": "applicant"}]}),
            "parties[0].name",
        ),
        (
            json!({"grid_id": w.grid_a1_1, "kind": "neighbour", "summary": "x", "parties": [{"role": "applicant", "name": "甲", "phone": "12"}]}),
            "parties[0].phone",
        ),
        (
            json!({"community_id": w.community_a1, "level": "grid", "kind": "neighbour", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]}),
            "level",
        ),
    ] {
        let r = app.post_as(&worker, "/api/v1/disputes", &body).await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    let r = app.post_as(&worker, "/api/v1/disputes", &json!({"grid_id": w.grid_a1_1, "kind": "feud", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]})).await;
    assert_eq!(r.status, 422);
    // A grid worker records only in their own grids.
    app.post_as(&worker, "/api/v1/disputes", &json!({"grid_id": w.grid_a1_2, "kind": "neighbour", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]})).await
        .problem(403, "forbidden");
    assert_eq!(app.db.count("disputes").await, 0);

    // Settled in the grid: a session with the agreement document.
    let small = app.post_as(&worker, "/api/v1/disputes", &json!({"grid_id": w.grid_a1_1, "kind": "neighbour", "summary": "楼道堆物", "parties": [{"role": "applicant", "resident_id": w.resident_a}, {"role": "respondent", "name": "王某"}]})).await;
    let small = small.ok(201).clone();
    let small_path = format!("/api/v1/disputes/{}", small["id"].as_str().unwrap());
    // Whistling needs the street.
    app.post_as(&a_admin, "/api/v1/whistles", &json!({"dispute_id": small["id"], "reason": "pressing", "summary": "x", "department_ids": []})).await
        .problem(422, "validation_failed");
    let settings = app.panel(&a_admin).await;
    let early = app.post_as(&a_admin, "/api/v1/whistles", &json!({"dispute_id": small["id"], "reason": "pressing", "summary": "x", "department_ids": [settings[0].1]})).await;
    assert!(
        early.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("street")
    );
    let session = json!({"held_at": "2026-12-02T02:00:00Z", "place": "第一网格议事点", "mediators": ["网格员", "楼长"], "result": "agreement"});
    let no_doc = app
        .post_at(
            &worker,
            &format!("{small_path}/sessions"),
            "\"1\"",
            &session,
        )
        .await;
    assert_eq!(
        no_doc.problem(422, "validation_failed")["errors"][0]["field"],
        "agreement_document_id"
    );
    let doc = app
        .post(&format!("{small_path}/documents?name=调解协议书.pdf"))
        .bearer(&worker)
        .raw("application/pdf", PDF.to_vec())
        .send()
        .await;
    let doc = doc.ok(201).clone();
    let mut with_doc = session.clone();
    with_doc["agreement_document_id"] = doc["id"].clone();
    app.post_as(&worker, &format!("{small_path}/sessions"), &with_doc)
        .await
        .problem(428, "precondition_required");
    app.clock.set(Some(at("2026-12-02T10:30:00+08:00")));
    let settled = app
        .post_at(
            &worker,
            &format!("{small_path}/sessions"),
            "\"1\"",
            &with_doc,
        )
        .await;
    let settled = settled.ok(201).clone();
    assert_eq!(
        (
            settled["status"].as_str(),
            settled["settled_level"].as_str()
        ),
        (Some("settled"), Some("grid"))
    );
    let due: Vec<&str> = settled["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["due_on"].as_str().unwrap())
        .collect();
    assert_eq!(due, ["2026-12-09", "2027-01-01", "2027-03-02"]);
    // The document comes back byte for byte.
    let bytes = app
        .get_as(
            &a_admin,
            &format!("{small_path}/documents/{}", doc["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!((bytes.status.as_u16(), bytes.text.as_bytes()), (200, PDF));
    // No second outcome; the visits close it, each once.
    app.post_at(
        &worker,
        &format!("{small_path}/sessions"),
        "\"2\"",
        &with_doc,
    )
    .await
    .problem(409, "conflict");
    for seq in 1..=3 {
        let r = app
            .post_as(
                &worker,
                &format!("{small_path}/follow-ups/{seq}/complete"),
                &json!({"notes": "回访满意"}),
            )
            .await;
        assert_eq!(
            r.ok(200)["status"],
            if seq == 3 { "closed" } else { "settled" }
        );
    }
    app.post_as(
        &worker,
        &format!("{small_path}/follow-ups/3/complete"),
        &json!({}),
    )
    .await
    .problem(409, "conflict");
    app.post_as(
        &worker,
        &format!("{small_path}/follow-ups/4/complete"),
        &json!({}),
    )
    .await
    .problem(404, "not_found");

    // Referred from the street; another settled at the street.
    let big = app.street_dispute(&w, &worker, &a_admin).await;
    // Only the street's own officers blow the whistle on it.
    let whistle = json!({"dispute_id": big["id"], "reason": "pressing", "summary": "请到场",
        "department_ids": [settings[0].1]});
    let a1_admin = app.token("a1-admin").await;
    app.post_as(&a1_admin, "/api/v1/whistles", &whistle)
        .await
        .problem(403, "forbidden");
    let b_admin = app.token("b-admin").await;
    app.post_as(&b_admin, "/api/v1/whistles", &whistle)
        .await
        .problem(422, "invalid_reference");
    let mut off_panel = whistle.clone();
    let education = app.get_as(&d_admin, "/api/v1/departments?limit=200").await;
    off_panel["department_ids"] = json!([education.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "education")
        .unwrap()["id"]]);
    app.post_as(&a_admin, "/api/v1/whistles", &off_panel)
        .await
        .problem(422, "invalid_reference");
    assert_eq!(app.db.count("whistles").await, 0);
    let referred = app.post_at(&a_admin, &format!("/api/v1/disputes/{}/sessions", big["id"].as_str().unwrap()), &format!("\"{}\"", big["version"]), &json!({"held_at": "2026-12-02T03:00:00Z", "place": "法官工作站", "mediators": ["调解员", "驻站法官"],
            "result": "failed", "referral": "court", "notes": "双方分歧大"})).await;
    assert_eq!(
        (
            referred.ok(201)["status"].as_str(),
            referred.body["referral"].as_str(),
            referred.body["settled_level"].as_str()
        ),
        (Some("referred"), Some("court"), Some("street"))
    );
    let third = app.street_dispute(&w, &worker, &a_admin).await;
    let third_path = format!("/api/v1/disputes/{}", third["id"].as_str().unwrap());
    let doc = app
        .post(&format!("{third_path}/documents"))
        .bearer(&a_admin)
        .raw("application/pdf", PDF.to_vec())
        .send()
        .await;
    let doc_id = doc.ok(201)["id"].clone();
    app.post_at(
        &a_admin,
        &format!("{third_path}/sessions"),
        &format!("\"{}\"", third["version"]),
        &json!({"held_at": "2026-12-02T03:00:00Z", "place": "街道调解中心", "mediators": ["调解员"],
            "result": "agreement", "agreement_document_id": doc_id}),
    )
    .await
    .ok(201);
    // The history of the climb, append-only.
    let events = app.get_as(&a_admin, &format!("{third_path}/events")).await;
    let steps: Vec<&str> = events
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["record", "escalate", "escalate", "settle"]);
    // Where disputes were settled: one in the grid, one in the street (the referral does not count).
    let kpis = app
        .get_as(
            &d_admin,
            "/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z",
        )
        .await;
    let shares: Vec<(String, i64, Option<f64>)> = kpis.ok(200)["settled_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["level"].as_str().unwrap().to_owned(),
                l["settled"].as_i64().unwrap(),
                l["share"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        [
            ("grid".to_owned(), 1, Some(0.5)),
            ("community".to_owned(), 0, Some(0.0)),
            ("street".to_owned(), 1, Some(0.5)),
            ("centre".to_owned(), 0, Some(0.0))
        ]
    );
    app.get_as(
        &d_admin,
        "/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
    )
    .await
    .problem(400, "invalid_parameter");
    app.get_as(
        &worker,
        "/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z",
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn the_district_sets_its_panel_and_windows() {
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let settings = app.get_as(&d_admin, "/api/v1/mediation-settings").await;
    let settings = settings.ok(200).clone();
    assert_eq!(
        (
            settings["emergency_minutes"].as_i64(),
            settings["other_hours"].as_i64(),
            settings["version"].as_i64()
        ),
        (Some(30), Some(4), Some(1))
    );
    // Grid workers do not whistle and do not read the panel.
    app.get_as(&worker, "/api/v1/mediation-settings")
        .await
        .problem(403, "forbidden");
    let departments = app.get_as(&d_admin, "/api/v1/departments?limit=200").await;
    let all: Vec<(String, String)> = departments.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let id = |code: &str| all.iter().find(|(c, _)| c == code).unwrap().1.clone();
    let put = |if_match: &str, body: Value| {
        app.call(reqwest::Method::PUT, "/api/v1/mediation-settings")
            .bearer(&d_admin)
            .header("if-match", if_match)
            .json(&body)
            .send()
    };
    let bad = put(
        "\"1\"",
        json!({"emergency_minutes": 2, "other_hours": 100, "panel": []}),
    )
    .await;
    let fields: Vec<&str> = bad.problem(422, "validation_failed")["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["emergency_minutes", "other_hours", "panel"]);
    put(
        "\"1\"",
        json!({"emergency_minutes": 20, "other_hours": 2, "panel": [id("police"), w.street_a]}),
    )
    .await
    .problem(422, "invalid_reference");
    put(
        "\"9\"",
        json!({"emergency_minutes": 20, "other_hours": 2, "panel": [id("police")]}),
    )
    .await
    .problem(412, "version_mismatch");
    app.call(reqwest::Method::PUT, "/api/v1/mediation-settings")
        .bearer(&a_admin)
        .header("if-match", "\"1\"")
        .json(&json!({"emergency_minutes": 20, "other_hours": 2, "panel": [id("police")]}))
        .send()
        .await
        .problem(403, "forbidden");
    let changed = put(
        "\"1\"",
        json!({"emergency_minutes": 20, "other_hours": 2, "panel": [id("police"), id("education")]}),
    )
    .await;
    assert_eq!(changed.ok(200)["version"], 2);
    let codes: Vec<&str> = changed.body["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["police", "education"]);
    // New whistles use the new windows and panel.
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let dispute = app.street_dispute(&w, &worker, &a_admin).await;
    let whistle = app
        .post_as(
            &a_admin,
            "/api/v1/whistles",
            &json!({"dispute_id": dispute["id"], "reason": "pressing", "summary": "请到场",
            "department_ids": [id("education")]}),
        )
        .await;
    assert_eq!(
        whistle.ok(201)["summonses"][0]["deadline_at"],
        "2026-12-02T04:00:00Z"
    );
    app.post_as(
        &a_admin,
        "/api/v1/whistles",
        &json!({"dispute_id": dispute["id"], "reason": "emergency", "summary": "请到场",
            "department_ids": [id("gas")]}),
    )
    .await
    .problem(422, "invalid_reference");
}
