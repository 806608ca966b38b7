//! The whistle and the department inbox: nine departments summoned, seven
//! on time, one late, one never; scope across streets and masking.

use onegrid_tests::receiver::Receiver;
use onegrid_tests::{Reply, TestApp, World, at};
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
    app.post_as(&a_admin, "/api/v1/webhook-endpoints", &json!({"url": format!("{}/m", rx.base), "street_id": w.street_a,
            "event_types": ["mediation.summoned", "mediation.reported_in", "mediation.report_overdue"]})).await
        .ok(201);
    app.clock.set(Some(at("2026-12-02T09:00:00+08:00")));
    let dispute = app.street_dispute(&w, &worker, &a_admin).await;

    // 10:00, an emergency: every panel department has 30 minutes.
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let ids: Vec<&String> = staff.iter().map(|(_, id, _)| id).collect();
    let whistle = app
        .post_as(
            &a_admin,
            "/api/v1/whistles",
            &json!({"dispute_id": dispute["id"], "reason": "emergency",
            "summary": "业主聚集，请各部门到场联合调处", "department_ids": ids}),
        )
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
        .post_as(
            &token_of("health"),
            &format!("/api/v1/summonses/{}/steps", summons_of("health")),
            &json!({"step": "report_in", "note": "已派员"}),
        )
        .await;
    assert_eq!(
        (late.ok(200)["late"].as_bool(), late.body["state"].as_str()),
        (Some(true), Some("reported_in"))
    );
    app.settle_at("2026-12-02T11:00:00+08:00").await;
    app.settle_at("2026-12-02T12:00:00+08:00").await;
    let view = app
        .get_as(
            &a_admin,
            &format!("/api/v1/whistles/{}", whistle["id"].as_str().unwrap()),
        )
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
        .get_as(
            &a_admin,
            &format!("/api/v1/summonses/{}", summons_of("gas")),
        )
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
        .get_as(
            &d_admin,
            "/api/v1/mediation-kpis?from=2026-12-01T00:00:00Z&to=2026-12-03T00:00:00Z",
        )
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
    let (app, w) = TestApp::with_world().await;
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
        .post_as(
            &a_admin,
            "/api/v1/whistles",
            &json!({"dispute_id": dispute["id"], "reason": "joint_enforcement",
            "summary": "联合执法", "department_ids": [id_of("police"), id_of("health")]}),
        )
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
        .post_as(
            &b_admin,
            "/api/v1/whistles",
            &json!({"case_id": b_case["id"], "reason": "pressing", "summary": "请公安协助",
            "department_ids": [id_of("police")]}),
        )
        .await;
    let b_whistle = b_whistle.ok(201).clone();
    // Whistles: the police's both streets' (a full page of one, then the
    // other), health's only the one that summoned it, street B's its own.
    let whistle_ids = |r: &Reply| -> Vec<String> {
        r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = app.get_as(&police, "/api/v1/whistles?limit=1").await;
    assert_eq!(whistle_ids(&first), [b_whistle["id"].as_str().unwrap()]);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get_as(
            &police,
            &format!("/api/v1/whistles?limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(whistle_ids(&second), [a_whistle["id"].as_str().unwrap()]);
    let h = app.get_as(&health, "/api/v1/whistles").await;
    assert_eq!(whistle_ids(&h), [a_whistle["id"].as_str().unwrap()]);
    let b = app.get_as(&b_admin, "/api/v1/whistles").await;
    assert_eq!(whistle_ids(&b), [b_whistle["id"].as_str().unwrap()]);

    // The police's inbox: both streets' summonses, nothing else.
    let inbox = app.get_as(&police, "/api/v1/summonses").await;
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
    let cases = app.get_as(&police, "/api/v1/cases").await;
    assert!(
        !cases
            .ok(200)
            .to_string()
            .contains(b_case["id"].as_str().unwrap())
    );
    // Health sees only its own summons; the street admin sees names, phones masked.
    let h = app.get_as(&health, "/api/v1/summonses").await;
    assert_eq!(h.ok(200)["items"].as_array().unwrap().len(), 1);
    let full = app
        .get_as(
            &a_admin,
            &format!("/api/v1/disputes/{}", dispute["id"].as_str().unwrap()),
        )
        .await;
    assert!(full.ok(200).to_string().contains("刘洋"));
    assert!(!full.text.contains("13900004321"));
    let masked = app
        .get_as(
            &police,
            &format!("/api/v1/disputes/{}", dispute["id"].as_str().unwrap()),
        )
        .await;
    assert!(!masked.ok(200).to_string().contains("刘洋"));
    // A dispute not whistled to the police does not exist for them; street B's
    // admin cannot see street A's whistle.
    app.get_as(
        &police,
        &format!("/api/v1/disputes/{}", other["id"].as_str().unwrap()),
    )
    .await
    .problem(404, "not_found");
    app.get_as(
        &b_admin,
        &format!("/api/v1/whistles/{}", a_whistle["id"].as_str().unwrap()),
    )
    .await
    .problem(404, "not_found");
    // The police reveals a phone with a purpose: audited, without the number.
    let person = parties.iter().find(|p| p["role"] == "other").unwrap();
    let revealed = app
        .post_as(
            &police,
            &format!(
                "/api/v1/disputes/{}/parties/{}/reveal",
                dispute["id"].as_str().unwrap(),
                person["id"].as_str().unwrap()
            ),
            &json!({"purpose": "联系当事人到场"}),
        )
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
    app.post_as(
        &police,
        &format!("/api/v1/summonses/{police_summons}/rating"),
        &json!({"score": 10}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(rate(10).await.ok(200)["rating"], 10);
    rate(8).await.problem(409, "conflict");
    let actions: Vec<String> = app
        .get_as(&a_admin, &format!("/api/v1/summonses/{police_summons}"))
        .await
        .ok(200)["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["report_in", "on_site", "action", "done", "rated"]);
}
