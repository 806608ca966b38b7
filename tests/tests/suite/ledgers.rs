//! Ledgers: built-in and custom types, records and their versions, reads by
//! sensitivity, break the glass.

use onegrid_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn built_in_types_and_a_community_type_added_through_the_api() {
    let (app, w) = TestApp::with_world().await;
    let admin = app.token("a1-admin").await;
    let list = app.get_as(&admin, "/api/v1/ledger-types?limit=200").await;
    let codes: Vec<String> = list.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_owned())
        .collect();
    for code in [
        "party_members",
        "veterans",
        "low_income",
        "disabled",
        "garages",
        "dogs",
        "elderly_alone",
        "organisations",
        "corrections",
        "a_youth",
    ] {
        assert!(
            codes.contains(&code.to_owned()),
            "{code} missing from {codes:?}"
        );
    }
    let b = app.token("b-admin").await;
    let b_list = app.get_as(&b, "/api/v1/ledger-types?limit=200").await;
    assert!(
        !b_list.text.contains("a_youth"),
        "street A's type is not street B's"
    );

    let body = json!({
        "code": "childcare", "name": "托育机构台账", "subject": "none", "sensitivity": "open",
        "fields": [
            {"key": "name", "label": "机构名称", "type": "text", "required": true},
            {"key": "capacity", "label": "托位数", "type": "number"},
            {"key": "licensed", "label": "是否备案", "type": "boolean"},
            {"key": "age_groups", "label": "托育年龄段", "type": "multi_choice", "choices": ["0-1岁", "1-2岁", "2-3岁"]},
            {"key": "manager", "label": "负责人", "type": "resident"}
        ],
        "scope": {"community_id": w.community_a1}
    });
    let created = app.post_as(&admin, "/api/v1/ledger-types", &body).await;
    let t = created.ok(201).clone();
    assert_eq!(t["community_id"], w.community_a1.to_string());
    assert_eq!(t["fields"].as_array().unwrap().len(), 5);
    let id = t["id"].as_str().unwrap().to_owned();

    // A community admin cannot add a type for the whole street; bad definitions are 422.
    let mut street_wide = body.clone();
    street_wide["code"] = json!("other");
    street_wide["scope"] = json!({"street_id": w.street_a});
    app.post_as(&admin, "/api/v1/ledger-types", &street_wide)
        .await
        .problem(403, "forbidden");
    let mut bad = body.clone();
    bad["code"] = json!("bad_one");
    bad["fields"] = json!([{"key": "age", "label": "x", "type": "text"}, {"key": "k", "label": "y", "type": "choice"}]);
    let r = app.post_as(&admin, "/api/v1/ledger-types", &bad).await;
    let fields: Vec<&str> = r.problem(422, "validation_failed")["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["fields[0].key", "fields[1].choices"]);

    // Evolution: fields can be added, not removed or retyped.
    let mut fields = t["fields"].as_array().unwrap().clone();
    fields.push(json!({"key": "inspected_on", "label": "检查日期", "type": "date"}));
    let evolved = app
        .patch_at(
            &admin,
            &format!("/api/v1/ledger-types/{id}"),
            "\"1\"",
            &json!({"fields": fields}),
        )
        .await;
    assert_eq!(evolved.ok(200)["fields"].as_array().unwrap().len(), 6);
    let shrunk = json!({"fields": [fields[0]]});
    app.patch_at(
        &admin,
        &format!("/api/v1/ledger-types/{id}"),
        "\"2\"",
        &shrunk,
    )
    .await
    .problem(422, "validation_failed");
    let mut retyped = fields.clone();
    retyped[1]["type"] = json!("text");
    app.patch_at(
        &admin,
        &format!("/api/v1/ledger-types/{id}"),
        "\"2\"",
        &json!({"fields": retyped}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn records_are_validated_versioned_verified_retired_and_restored() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let veterans = app.ledger_type_id(&worker, "veterans").await;
    let path = format!("/api/v1/ledger-types/{veterans}/records");
    let bad = app.post_as(&worker, &path, &json!({"resident_id": w.resident_a, "data": {"service_branch": "火箭兵", "discharged_on": "1995-02-30", "colour": "red"}})).await;
    let errs: Vec<&str> = bad.problem(422, "validation_failed")["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        errs.contains(&"data.colour")
            && errs.contains(&"data.service_branch")
            && errs.contains(&"data.discharged_on"),
        "{errs:?}"
    );
    app.post_as(&worker, &path, &json!({"data": {"service_branch": "陆军"}}))
        .await
        .problem(422, "validation_failed");
    app.post_as(
        &worker,
        &path,
        &json!({"resident_id": w.resident_b, "data": {"service_branch": "陆军"}}),
    )
    .await
    .problem(422, "invalid_reference");

    let created = app.post_as(&worker, &path, &json!({"resident_id": w.resident_a, "data": {"service_branch": "陆军", "discharged_on": "1995-07-01"}})).await;
    let r = created.ok(201).clone();
    assert_eq!(
        r["grid_id"],
        w.grid_a1_1.to_string(),
        "a resident's record lives in their grid"
    );
    assert_eq!(r["resident"]["name"], "张芬");
    assert_eq!(r["resident"]["id_number"], "1***************2X");
    assert_eq!(r["stale"], false);
    let rec = format!("/api/v1/ledger-records/{}", r["id"].as_str().unwrap());

    let edited = app
        .patch_at(
            &worker,
            &rec,
            "\"1\"",
            &json!({"data": {"service_branch": "海军"}}),
        )
        .await;
    assert_eq!(edited.ok(200)["data"], json!({"service_branch": "海军"}));
    app.patch_at(
        &worker,
        &rec,
        "\"1\"",
        &json!({"data": {"service_branch": "空军"}}),
    )
    .await
    .problem(412, "version_mismatch");
    app.post(&format!("{rec}/verify"))
        .bearer(&worker)
        .header("if-match", "\"2\"")
        .send()
        .await
        .ok(200);
    let retired = app
        .post_at(
            &worker,
            &format!("{rec}/retire"),
            "\"3\"",
            &json!({"reason": "迁出本社区"}),
        )
        .await;
    assert_eq!(retired.ok(200)["status"], "retired");
    app.post_at(
        &worker,
        &format!("{rec}/retire"),
        "\"4\"",
        &json!({"reason": "再次"}),
    )
    .await
    .problem(409, "conflict");
    let active = app.get_as(&worker, &format!("{path}?limit=50")).await;
    assert_eq!(active.ok(200)["items"].as_array().unwrap().len(), 0);
    let retired_list = app.get_as(&worker, &format!("{path}?status=retired")).await;
    assert_eq!(retired_list.ok(200)["items"].as_array().unwrap().len(), 1);
    let restored = app
        .post(&format!("{rec}/restore"))
        .bearer(&worker)
        .header("if-match", "\"4\"")
        .send()
        .await;
    assert_eq!(restored.ok(200)["status"], "active");
    assert!(restored.body["retired_reason"].is_null());

    let versions = app.get_as(&worker, &format!("{rec}/versions")).await;
    let changes: Vec<&str> = versions
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        ["created", "edited", "verified", "retired", "restored"]
    );
    assert!(
        versions
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["actor_id"] == w.user("a1-worker").to_string())
    );
    assert_eq!(
        versions.body[0]["data"]["service_branch"], "陆军",
        "history keeps the old data"
    );

    // Audited ledger: reads are logged (the retired list and the versions), writes are versions.
    assert_eq!(
        app.db.count("audit_log WHERE action = 'ledger.read'").await,
        2
    );
    // Staleness follows the clock and the type's period (180 days for veterans).
    app.clock
        .set(Some(app.clock.now() + chrono::Duration::days(181)));
    // Half a year on, the 30-day session has lapsed: the worker logs in again.
    app.get_as(&worker, &rec)
        .await
        .problem(401, "invalid_token");
    let worker = app.token("a1-worker").await;
    let later = app.get_as(&worker, &rec).await;
    assert_eq!(later.ok(200)["stale"], true);
}

#[tokio::test]
async fn reads_follow_sensitivity_and_break_the_glass_expires() {
    let (app, w) = TestApp::with_world().await;
    let a1 = app.token("a1-admin").await;
    let disabled = app.ledger_type_id(&a1, "disabled").await;
    let corrections = app.ledger_type_id(&a1, "corrections").await;
    // Organisations is an open ledger (about no person).
    let shops = app.ledger_type_id(&a1, "organisations").await;
    let mut made = Vec::new();
    for (t, body) in [
        (
            &disabled,
            json!({"resident_id": w.resident_a, "data": {"category": "肢体", "grade": "二级"}}),
        ),
        (
            &corrections,
            json!({"resident_id": w.resident_a, "data": {"term_ends_on": "2027-06-30"}}),
        ),
        (
            &shops,
            json!({"grid_id": w.grid_a1_1, "data": {"name": "便民超市", "kind": "商铺"}}),
        ),
    ] {
        let r = app
            .post_as(&a1, &format!("/api/v1/ledger-types/{t}/records"), &body)
            .await;
        made.push(r.created_id());
    }
    let (disabled_rec, corrections_rec, shop_rec) = (&made[0], &made[1], &made[2]);
    // The protected ledger masks the resident's name.
    let own = app
        .get_as(&a1, &format!("/api/v1/ledger-records/{disabled_rec}"))
        .await;
    assert_eq!(own.ok(200)["resident"]["name"], "张*");

    // A2's admin is in the same street but another community.
    let a2 = app.token("a2-admin").await;
    app.get_as(&a2, &format!("/api/v1/ledger-records/{shop_rec}"))
        .await
        .ok(200);
    app.get_as(&a2, &format!("/api/v1/ledger-records/{disabled_rec}"))
        .await
        .problem(403, "break_glass_required");
    app.get_as(&a2, &format!("/api/v1/ledger-records/{corrections_rec}"))
        .await
        .problem(404, "not_found");
    let listed = app
        .get_as(&a2, &format!("/api/v1/ledger-types/{disabled}/records"))
        .await;
    assert_eq!(
        listed.ok(200)["items"].as_array().unwrap().len(),
        0,
        "lists show only what may be read"
    );
    // Street B never sees any of it.
    let b = app.token("b-admin").await;
    app.get_as(&b, &format!("/api/v1/ledger-records/{shop_rec}"))
        .await
        .problem(404, "not_found");

    // Closed ledgers have no break-glass; protected ones do, with a reason.
    let bg = |t: &str| format!("/api/v1/ledger-types/{t}/break-glass");
    app.post_as(
        &a2,
        &bg(&corrections),
        &json!({"community_id": w.community_a1, "reason": "紧急走访核实"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post_as(
        &a2,
        &bg(&disabled),
        &json!({"community_id": w.community_a1, "reason": "x"}),
    )
    .await
    .problem(422, "validation_failed");
    let auditor = app.token("a-auditor").await;
    app.post_as(
        &auditor,
        &bg(&disabled),
        &json!({"community_id": w.community_a1, "reason": "审计抽查核对"}),
    )
    .await
    .problem(403, "forbidden");
    let grant = app
        .post_as(
            &a2,
            &bg(&disabled),
            &json!({"community_id": w.community_a1, "reason": "协助残联紧急入户"}),
        )
        .await;
    let g = grant.ok(201).clone();
    assert_eq!(g["notified"], 1, "the community admin is told");
    let opened = app
        .get_as(&a2, &format!("/api/v1/ledger-records/{disabled_rec}"))
        .await;
    assert_eq!(opened.ok(200)["data"]["grade"], "二级");
    let listed = app
        .get_as(&a2, &format!("/api/v1/ledger-types/{disabled}/records"))
        .await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);
    app.get_as(&a2, &format!("/api/v1/ledger-records/{corrections_rec}"))
        .await
        .problem(404, "not_found");

    // Every read under the grant is audited as such; the grant itself too.
    let log = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit-log?actor_id={}", w.user("a2-admin")),
        )
        .await;
    let entries: Vec<Value> = log.ok(200)["items"].as_array().unwrap().clone();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "ledger.break_glass" && e["purpose"] == "协助残联紧急入户")
    );
    let glass_reads = entries
        .iter()
        .filter(|e| e["action"] == "ledger.read" && e["details"]["break_glass"] == true)
        .count();
    assert_eq!(glass_reads, 2);
    // The community admin finds the notice in their inbox.
    let inbox = app.get_as(&a1, "/api/v1/me/notifications").await;
    let notes = inbox.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["kind"], "break_glass");
    assert_eq!(notes[0]["body"]["reason"], "协助残联紧急入户");

    // Three hours later the glass is whole again.
    app.clock.set(Some(
        app.clock.now() + chrono::Duration::hours(3) + chrono::Duration::minutes(1),
    ));
    app.get_as(&a2, &format!("/api/v1/ledger-records/{disabled_rec}"))
        .await
        .problem(403, "break_glass_required");
}
