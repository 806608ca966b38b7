//! Disputes and the joint mediation platform against the real database and
//! worker: a whistle summoning the nine panel departments where seven report
//! in on time (at the same instant), one late and one never - reminders,
//! overdue marks and escalations happen once; webhooks for every summons and
//! report-in; the figures and rankings; department scope across two streets
//! and masking in the department inbox; the dispute ladder, sessions,
//! agreements, referrals, follow-ups and where disputes were settled.

use onegrid_tests::receiver::Receiver;
use onegrid_tests::{TestApp, World, at};
use serde_json::{Value, json};

#[tokio::test]
async fn nine_departments_summoned_seven_on_time_one_late_one_never() {
    let app = TestApp::start_with(&[("ONEGRID_WEBHOOK_ALLOW_CIDRS", "127.0.0.2/32")]).await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let departments = app.panel(&d_admin).await;
    assert_eq!(departments.len(), 9, "nine departments by default");
    assert!(departments.iter().all(|(code, _)| code != "education"));
    // One staff account per department (police exists in the fixture).
    let mut staff = Vec::new();
    for (code, id) in &departments {
        let token = if code == "police" {
            app.token("police").await
        } else {
            app.department_staff(&d_admin, &format!("staff-{}", code.replace('_', "-")), id)
                .await
        };
        staff.push((code.clone(), id.clone(), token));
    }
    let rx = Receiver::start();
    app.post("/api/v1/webhook-endpoints")
        .bearer(&a_admin)
        .json(&json!({"url": format!("{}/m", rx.base), "street_id": w.street_a,
            "event_types": ["mediation.summoned", "mediation.reported_in", "mediation.report_overdue"]}))
        .send()
        .await
        .ok(201);
    app.clock.set(Some(at("2026-12-02T09:00:00+08:00")));
    let dispute = app.street_dispute(&w, &worker, &a_admin).await;

    // 10:00, an emergency: every panel department has 30 minutes.
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let ids: Vec<&String> = staff.iter().map(|(_, id, _)| id).collect();
    let whistle = app
        .post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(&json!({"dispute_id": dispute["id"], "reason": "emergency",
            "summary": "业主聚集，请各部门到场联合调处", "department_ids": ids}))
        .send()
        .await;
    let whistle = whistle.ok(201).clone();
    let summonses = whistle["summonses"].as_array().unwrap().clone();
    assert_eq!(summonses.len(), 9);
    assert!(
        summonses
            .iter()
            .all(|s| s["deadline_at"] == "2026-12-02T02:30:00Z"
                && s["state"] == "summoned"
                && s["allowed"] == json!(["report_in"]))
    );
    let summons_of = |code: &str| {
        let id = &staff.iter().find(|(c, _, _)| c == code).unwrap().1;
        summonses
            .iter()
            .find(|s| s["department_id"].as_str() == Some(id.as_str()))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // 10:05: seven report in at the same instant; the police twice at once.
    app.clock.set(Some(at("2026-12-02T10:05:00+08:00")));
    let on_time: Vec<&(String, String, String)> = staff
        .iter()
        .filter(|(code, _, _)| code != "health" && code != "gas")
        .collect();
    let police = &staff.iter().find(|(c, _, _)| c == "police").unwrap().2;
    let police_summons = summons_of("police");
    let mut calls = Vec::new();
    for (code, _, token) in &on_time {
        calls.push((summons_of(code), token.clone()));
    }
    calls.push((police_summons.clone(), police.clone()));
    let replies = futures_util::future::join_all(calls.iter().map(|(id, token)| {
        app.post(&format!("/api/v1/summonses/{id}/steps"))
            .bearer(token)
            .json(&json!({"step": "report_in"}))
            .send()
    }))
    .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let refused: Vec<&onegrid_tests::Reply> = replies.iter().filter(|r| r.status != 200).collect();
    assert_eq!(
        (ok, refused.len()),
        (7, 1),
        "one of the police's two report-ins wins"
    );
    assert_eq!(
        refused[0].problem(409, "illegal_transition")["allowed"],
        json!(["on_site", "action", "done"])
    );

    // 10:15: half way - only the two that have not reported are reminded, once.
    app.settle_at("2026-12-02T10:15:00+08:00").await;
    app.settle_at("2026-12-02T10:16:00+08:00").await;
    let token_of = |code: &str| staff.iter().find(|(c, _, _)| c == code).unwrap().2.clone();
    assert_eq!(
        app.notifications_of_kind(&token_of("health"), "mediation.remind")
            .await
            .len(),
        1
    );
    assert_eq!(
        app.notifications_of_kind(&token_of("gas"), "mediation.remind")
            .await
            .len(),
        1
    );
    assert!(
        app.notifications_of_kind(police, "mediation.remind")
            .await
            .is_empty()
    );

    // 10:31: the deadline - both marked overdue and escalated, once.
    app.settle_at("2026-12-02T10:31:00+08:00").await;
    // 10:40: health reports in, late.
    app.clock.set(Some(at("2026-12-02T10:40:00+08:00")));
    let late = app
        .post(&format!("/api/v1/summonses/{}/steps", summons_of("health")))
        .bearer(&token_of("health"))
        .json(&json!({"step": "report_in", "note": "已派员"}))
        .send()
        .await;
    assert_eq!(
        (late.ok(200)["late"].as_bool(), late.body["state"].as_str()),
        (Some(true), Some("reported_in"))
    );
    app.settle_at("2026-12-02T11:00:00+08:00").await;
    app.settle_at("2026-12-02T12:00:00+08:00").await;
    let view = app
        .get(&format!(
            "/api/v1/whistles/{}",
            whistle["id"].as_str().unwrap()
        ))
        .bearer(&a_admin)
        .send()
        .await;
    let list = view.ok(200)["summonses"].as_array().unwrap().clone();
    let overdue: Vec<&Value> = list
        .iter()
        .filter(|s| s["overdue_at"].is_string())
        .collect();
    assert_eq!(overdue.len(), 2);
    assert!(
        overdue
            .iter()
            .all(|s| s["escalated_at"] == "2026-12-02T02:31:00Z")
    );
    let gas = list
        .iter()
        .find(|s| s["id"].as_str() == Some(summons_of("gas").as_str()))
        .unwrap();
    assert_eq!(
        (gas["state"].as_str(), gas["reported_at"].is_null()),
        (Some("summoned"), true)
    );
    // Each mark happened once: actions, notices to the district and the street.
    let detail = app
        .get(&format!("/api/v1/summonses/{}", summons_of("gas")))
        .bearer(&a_admin)
        .send()
        .await;
    let steps: Vec<&str> = detail.ok(200)["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["reminded", "overdue", "escalated"]);
    assert_eq!(
        app.notifications_of_kind(&d_admin, "mediation.escalated")
            .await
            .len(),
        2
    );
    assert_eq!(
        app.notifications_of_kind(&a_admin, "mediation.escalated")
            .await
            .len(),
        2
    );
    assert_eq!(
        app.notifications_of_kind(&token_of("gas"), "mediation.overdue")
            .await
            .len(),
        1
    );

    // Integrators heard of every summons, report-in and overdue mark.
    let got = rx.got("/m");
    let count = |kind: &str| {
        got.iter()
            .filter(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"] == kind)
            .count()
    };
    assert_eq!(
        (
            count("mediation.summoned"),
            count("mediation.reported_in"),
            count("mediation.report_overdue")
        ),
        (9, 8, 2)
    );

    // The figures: seven on time, health late, gas never; ranked.
    let kpis = app
        .get("/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-03T00:00:00Z")
        .bearer(&d_admin)
        .send()
        .await;
    let figures = kpis.ok(200).clone();
    let deps = figures["departments"].as_array().unwrap();
    assert_eq!(deps.len(), 9);
    let row = |code: &str| deps.iter().find(|d| d["code"] == code).unwrap().clone();
    assert_eq!(
        (
            row("police")["on_time"].as_i64(),
            row("police")["on_time_rate"].as_f64(),
            row("police")["avg_report_minutes"].as_f64()
        ),
        (Some(1), Some(1.0), Some(5.0))
    );
    assert_eq!(
        (
            row("health")["late"].as_i64(),
            row("health")["on_time_rate"].as_f64(),
            row("health")["avg_report_minutes"].as_f64()
        ),
        (Some(1), Some(0.0), Some(40.0))
    );
    assert_eq!(
        (
            row("gas")["missed"].as_i64(),
            row("gas")["on_time_rate"].as_f64(),
            row("gas")["avg_report_minutes"].as_f64()
        ),
        (Some(1), Some(0.0), None)
    );
    assert_eq!(
        (row("health")["rank"].as_i64(), row("gas")["rank"].as_i64()),
        (Some(8), Some(9))
    );
    let street_a = figures["streets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["street_id"] == w.street_a.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        (
            street_a["disputes"].as_i64(),
            street_a["whistles"].as_i64(),
            street_a["whistle_rate"].as_f64()
        ),
        (Some(1), Some(1), Some(1.0))
    );
}

#[tokio::test]
async fn departments_see_their_summonses_across_streets_masked_and_nothing_else() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    let b_admin = app.token("b-admin").await;
    let worker = app.token("a1-worker").await;
    let police = app.token("police").await;
    let departments = app.panel(&a_admin).await;
    let id_of = |code: &str| {
        departments
            .iter()
            .find(|(c, _)| c == code)
            .unwrap()
            .1
            .clone()
    };
    let health = app
        .department_staff(&d_admin, "staff-health", &id_of("health"))
        .await;
    let dispute = app.street_dispute(&w, &worker, &a_admin).await;
    let other = app.street_dispute(&w, &worker, &a_admin).await;
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let a_whistle = app
        .post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(
            &json!({"dispute_id": dispute["id"], "reason": "joint_enforcement",
            "summary": "联合执法", "department_ids": [id_of("police"), id_of("health")]}),
        )
        .send()
        .await;
    let a_whistle = a_whistle.ok(201).clone();
    assert_eq!(
        a_whistle["summonses"][0]["deadline_at"], "2026-12-02T06:00:00Z",
        "four hours"
    );
    // Street B whistles a case of its own to the police.
    let b1 = app.token("b1-worker").await;
    let noise = app.case_category(&b1, "03.02").await;
    let b_case = app
        .file_case(
            &b1,
            &json!({"channel": "hotline", "category_id": noise, "grid_id": w.grid_b1_1,
            "title": "夜间施工", "description": "工地夜间施工扰民"}),
        )
        .await;
    let b_whistle = app
        .post("/api/v1/whistles")
        .bearer(&b_admin)
        .json(
            &json!({"case_id": b_case["id"], "reason": "pressing", "summary": "请公安协助",
            "department_ids": [id_of("police")]}),
        )
        .send()
        .await;
    b_whistle.ok(201);

    // The police's inbox: both streets' summonses, nothing else.
    let inbox = app.get("/api/v1/summonses").bearer(&police).send().await;
    let items = inbox.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    let streets: std::collections::BTreeSet<&str> = items
        .iter()
        .map(|s| s["street_id"].as_str().unwrap())
        .collect();
    assert_eq!(streets.len(), 2);
    assert!(items.iter().all(|s| s["department_id"] == id_of("police")));
    // Masking: party names masked for departments, phones always.
    let a_item = items
        .iter()
        .find(|s| s["subject"]["kind"] == "dispute")
        .unwrap();
    let parties = a_item["subject"]["parties"].as_array().unwrap();
    assert_eq!(parties.len(), 3);
    assert!(
        !inbox.text.contains("刘洋")
            && !inbox.text.contains("13900004321")
            && !inbox.text.contains("鑫源物业")
    );
    assert!(parties.iter().any(|p| p["phone"] == "139****4321"));
    // The case whistle is a summons, not a hand-over: the case stays with
    // its handler and out of the police's case list.
    let case_item = items
        .iter()
        .find(|s| s["subject"]["kind"] == "case")
        .unwrap();
    assert_eq!(case_item["subject"]["id"], b_case["id"]);
    let cases = app.get("/api/v1/cases").bearer(&police).send().await;
    assert!(
        !cases
            .ok(200)
            .to_string()
            .contains(b_case["id"].as_str().unwrap())
    );
    // Health sees only its own summons; the street admin sees names, phones masked.
    let h = app.get("/api/v1/summonses").bearer(&health).send().await;
    assert_eq!(h.ok(200)["items"].as_array().unwrap().len(), 1);
    let full = app
        .get(&format!(
            "/api/v1/disputes/{}",
            dispute["id"].as_str().unwrap()
        ))
        .bearer(&a_admin)
        .send()
        .await;
    assert!(full.ok(200).to_string().contains("刘洋"));
    assert!(!full.text.contains("13900004321"));
    let masked = app
        .get(&format!(
            "/api/v1/disputes/{}",
            dispute["id"].as_str().unwrap()
        ))
        .bearer(&police)
        .send()
        .await;
    assert!(!masked.ok(200).to_string().contains("刘洋"));
    // A dispute not whistled to the police does not exist for them; street B's
    // admin cannot see street A's whistle.
    app.get(&format!(
        "/api/v1/disputes/{}",
        other["id"].as_str().unwrap()
    ))
    .bearer(&police)
    .send()
    .await
    .problem(404, "not_found");
    app.get(&format!(
        "/api/v1/whistles/{}",
        a_whistle["id"].as_str().unwrap()
    ))
    .bearer(&b_admin)
    .send()
    .await
    .problem(404, "not_found");
    // The police reveals a phone with a purpose: audited, without the number.
    let person = parties.iter().find(|p| p["role"] == "other").unwrap();
    let revealed = app
        .post(&format!(
            "/api/v1/disputes/{}/parties/{}/reveal",
            dispute["id"].as_str().unwrap(),
            person["id"].as_str().unwrap()
        ))
        .bearer(&police)
        .json(&json!({"purpose": "联系当事人到场"}))
        .send()
        .await;
    assert_eq!(revealed.ok(200)["phone"], "13900004321");
    let audited: i64 = app
        .db
        .scalar("SELECT count(*) FROM audit_log WHERE action = 'dispute.party_reveal' AND purpose = '联系当事人到场' AND details::text NOT LIKE '%13900004321%'")
        .await;
    assert_eq!(audited, 1);

    // Steps: in order only; health cannot act on the police's summons.
    let police_summons = a_item["id"].as_str().unwrap();
    let step = |token: &str, body: Value| {
        app.post(&format!("/api/v1/summonses/{police_summons}/steps"))
            .bearer(token)
            .json(&body)
            .send()
    };
    let early = step(&police, json!({"step": "on_site"})).await;
    assert_eq!(
        early.problem(409, "illegal_transition")["allowed"],
        json!(["report_in"])
    );
    step(&health, json!({"step": "report_in"}))
        .await
        .problem(404, "not_found");
    step(&a_admin, json!({"step": "report_in"}))
        .await
        .problem(403, "forbidden");
    step(&police, json!({"step": "action"}))
        .await
        .problem(422, "validation_failed");
    step(&police, json!({"step": "report_in"})).await.ok(200);
    step(&police, json!({"step": "on_site"})).await.ok(200);
    step(
        &police,
        json!({"step": "action", "note": "现场调解，双方情绪稳定"}),
    )
    .await
    .ok(200);
    // Rating waits for the department to finish.
    let rate = |score: i64| {
        app.post(&format!("/api/v1/summonses/{police_summons}/rating"))
            .bearer(&a_admin)
            .json(&json!({"score": score}))
            .send()
    };
    rate(10).await.problem(409, "conflict");
    let done = step(&police, json!({"step": "done"})).await;
    assert_eq!(done.ok(200)["allowed"], json!([]));
    rate(7).await.problem(422, "validation_failed");
    app.post(&format!("/api/v1/summonses/{police_summons}/rating"))
        .bearer(&police)
        .json(&json!({"score": 10}))
        .send()
        .await
        .problem(403, "forbidden");
    assert_eq!(rate(10).await.ok(200)["rating"], 10);
    rate(8).await.problem(409, "conflict");
    let actions: Vec<String> = app
        .get(&format!("/api/v1/summonses/{police_summons}"))
        .bearer(&a_admin)
        .send()
        .await
        .ok(200)["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["report_in", "on_site", "action", "done", "rated"]);
}

#[tokio::test]
async fn disputes_climb_settle_or_refer_and_are_followed_up() {
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let app = TestApp::start().await;
    let w = World::build(&app).await;
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
        let r = app
            .post("/api/v1/disputes")
            .bearer(&worker)
            .json(&body)
            .send()
            .await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    let r = app
        .post("/api/v1/disputes")
        .bearer(&worker)
        .json(&json!({"grid_id": w.grid_a1_1, "kind": "feud", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]}))
        .send()
        .await;
    assert_eq!(r.status, 422);
    // A grid worker records only in their own grids.
    app.post("/api/v1/disputes")
        .bearer(&worker)
        .json(&json!({"grid_id": w.grid_a1_2, "kind": "neighbour", "summary": "x", "parties": [{"role": "applicant", "name": "甲"}]}))
        .send()
        .await
        .problem(403, "forbidden");
    assert_eq!(app.db.count("disputes").await, 0);

    // Settled in the grid: a session with the agreement document.
    let small = app
        .post("/api/v1/disputes")
        .bearer(&worker)
        .json(&json!({"grid_id": w.grid_a1_1, "kind": "neighbour", "summary": "楼道堆物", "parties": [{"role": "applicant", "resident_id": w.resident_a}, {"role": "respondent", "name": "王某"}]}))
        .send()
        .await;
    let small = small.ok(201).clone();
    let small_path = format!("/api/v1/disputes/{}", small["id"].as_str().unwrap());
    // Whistling needs the street.
    app.post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(&json!({"dispute_id": small["id"], "reason": "pressing", "summary": "x", "department_ids": []}))
        .send()
        .await
        .problem(422, "validation_failed");
    let settings = app.panel(&a_admin).await;
    let early = app
        .post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(&json!({"dispute_id": small["id"], "reason": "pressing", "summary": "x", "department_ids": [settings[0].1]}))
        .send()
        .await;
    assert!(
        early.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("street")
    );
    let session = json!({"held_at": "2026-12-02T02:00:00Z", "place": "第一网格议事点", "mediators": ["网格员", "楼长"], "result": "agreement"});
    let no_doc = app
        .post(&format!("{small_path}/sessions"))
        .bearer(&worker)
        .header("if-match", "\"1\"")
        .json(&session)
        .send()
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
    app.post(&format!("{small_path}/sessions"))
        .bearer(&worker)
        .json(&with_doc)
        .send()
        .await
        .problem(428, "precondition_required");
    app.clock.set(Some(at("2026-12-02T10:30:00+08:00")));
    let settled = app
        .post(&format!("{small_path}/sessions"))
        .bearer(&worker)
        .header("if-match", "\"1\"")
        .json(&with_doc)
        .send()
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
        .get(&format!(
            "{small_path}/documents/{}",
            doc["id"].as_str().unwrap()
        ))
        .bearer(&a_admin)
        .send()
        .await;
    assert_eq!((bytes.status.as_u16(), bytes.text.as_bytes()), (200, PDF));
    // No second outcome; the visits close it, each once.
    app.post(&format!("{small_path}/sessions"))
        .bearer(&worker)
        .header("if-match", "\"2\"")
        .json(&with_doc)
        .send()
        .await
        .problem(409, "conflict");
    for seq in 1..=3 {
        let r = app
            .post(&format!("{small_path}/follow-ups/{seq}/complete"))
            .bearer(&worker)
            .json(&json!({"notes": "回访满意"}))
            .send()
            .await;
        assert_eq!(
            r.ok(200)["status"],
            if seq == 3 { "closed" } else { "settled" }
        );
    }
    app.post(&format!("{small_path}/follow-ups/3/complete"))
        .bearer(&worker)
        .json(&json!({}))
        .send()
        .await
        .problem(409, "conflict");
    app.post(&format!("{small_path}/follow-ups/4/complete"))
        .bearer(&worker)
        .json(&json!({}))
        .send()
        .await
        .problem(404, "not_found");

    // Referred from the street; another settled at the street.
    let big = app.street_dispute(&w, &worker, &a_admin).await;
    // Only the street's own officers blow the whistle on it.
    let whistle = json!({"dispute_id": big["id"], "reason": "pressing", "summary": "请到场",
        "department_ids": [settings[0].1]});
    let a1_admin = app.token("a1-admin").await;
    app.post("/api/v1/whistles")
        .bearer(&a1_admin)
        .json(&whistle)
        .send()
        .await
        .problem(403, "forbidden");
    let b_admin = app.token("b-admin").await;
    app.post("/api/v1/whistles")
        .bearer(&b_admin)
        .json(&whistle)
        .send()
        .await
        .problem(422, "invalid_reference");
    let mut off_panel = whistle.clone();
    let education = app
        .get("/api/v1/departments?limit=200")
        .bearer(&d_admin)
        .send()
        .await;
    off_panel["department_ids"] = json!([education.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "education")
        .unwrap()["id"]]);
    app.post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(&off_panel)
        .send()
        .await
        .problem(422, "invalid_reference");
    assert_eq!(app.db.count("whistles").await, 0);
    let referred = app
        .post(&format!("/api/v1/disputes/{}/sessions", big["id"].as_str().unwrap()))
        .bearer(&a_admin)
        .header("if-match", &format!("\"{}\"", big["version"]))
        .json(&json!({"held_at": "2026-12-02T03:00:00Z", "place": "法官工作站", "mediators": ["调解员", "驻站法官"],
            "result": "failed", "referral": "court", "notes": "双方分歧大"}))
        .send()
        .await;
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
    app.post(&format!("{third_path}/sessions"))
        .bearer(&a_admin)
        .header("if-match", &format!("\"{}\"", third["version"]))
        .json(&json!({"held_at": "2026-12-02T03:00:00Z", "place": "街道调解中心", "mediators": ["调解员"],
            "result": "agreement", "agreement_document_id": doc_id}))
        .send()
        .await
        .ok(201);
    // The history of the climb, append-only.
    let events = app
        .get(&format!("{third_path}/events"))
        .bearer(&a_admin)
        .send()
        .await;
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
        .get("/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z")
        .bearer(&d_admin)
        .send()
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
    app.get("/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z")
        .bearer(&d_admin)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z")
        .bearer(&worker)
        .send()
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn the_district_sets_its_panel_and_windows() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let settings = app
        .get("/api/v1/mediation-settings")
        .bearer(&d_admin)
        .send()
        .await;
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
    app.get("/api/v1/mediation-settings")
        .bearer(&worker)
        .send()
        .await
        .problem(403, "forbidden");
    let departments = app
        .get("/api/v1/departments?limit=200")
        .bearer(&d_admin)
        .send()
        .await;
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
        .post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(
            &json!({"dispute_id": dispute["id"], "reason": "pressing", "summary": "请到场",
            "department_ids": [id("education")]}),
        )
        .send()
        .await;
    assert_eq!(
        whistle.ok(201)["summonses"][0]["deadline_at"],
        "2026-12-02T04:00:00Z"
    );
    app.post("/api/v1/whistles")
        .bearer(&a_admin)
        .json(
            &json!({"dispute_id": dispute["id"], "reason": "emergency", "summary": "请到场",
            "department_ids": [id("gas")]}),
        )
        .send()
        .await
        .problem(422, "invalid_reference");
}
