//! Residents: masking everywhere, audited purpose-bound reveals, sealed
//! storage bound to the row, blind index scoped by street, grid moves.

use diesel::sql_types::{Bytea, Text};
use diesel_async::RunQueryDsl;
use onegrid_tests::TestApp;
use onegrid_tests::fixture::{ID_A, PHONE_A};
use serde_json::json;

#[tokio::test]
async fn residents_are_masked_everywhere_and_stored_sealed() {
    // In the database: no plaintext anywhere in the row.
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-worker").await;
    let one = app
        .get_as(&t, &format!("/api/v1/residents/{}", w.resident_a))
        .await;
    let body = one.ok(200);
    assert_eq!(body["id_number"], "1***************2X");
    assert_eq!(body["phone"], "138****1234");
    assert_eq!(body["gender"], "female");
    assert!(body["age"].as_i64().unwrap() >= 76);
    let list = app
        .get_as(&t, &format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .await;
    for text in [&one.text, &list.text] {
        assert!(
            !text.contains(ID_A) && !text.contains(PHONE_A) && !text.contains("19491231"),
            "{text}"
        );
    }
    let mut owner = app.db.owner().await;
    let rows: Vec<Row> = diesel::sql_query("SELECT r::text AS row FROM residents r")
        .load(&mut owner)
        .await
        .unwrap();
    for r in &rows {
        assert!(
            !r.row.contains(ID_A) && !r.row.contains(PHONE_A) && !r.row.contains("3138313233"),
            "{}",
            r.row
        );
    }
    // Creating: the ID number is checked and derived; a duplicate in the street is a conflict.
    let created = app.post_as(&t, &format!("/api/v1/grids/{}/residents", w.grid_a1_1), &json!({"name": "宋金伟", "id_number": "150203196503151231", "phone": "+86 139-0000-1111", "relation": "head"})).await;
    let r = created.ok(201).clone();
    assert_eq!(r["gender"], "male");
    assert_eq!(r["phone"], "139****1111");
    let bad = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "x", "id_number": "150203196503151230"}),
        )
        .await;
    let p = bad.problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "id_number");
    assert!(
        !bad.text.contains("150203196503151230"),
        "error bodies never echo the value"
    );
    let excel = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "x", "id_number": "1.50203196503152E+17"}),
        )
        .await;
    excel.problem(422, "validation_failed");
    let dup = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "重复", "id_number": ID_A}),
        )
        .await;
    let p = dup.problem(409, "conflict");
    assert_eq!(p["errors"][0]["field"], "id_number");
}

#[tokio::test]
async fn reveal_needs_permission_and_purpose_and_is_audited_without_the_value() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}/reveal", w.resident_a);
    let no_purpose = app
        .post_as(
            &worker,
            &path,
            &json!({"field": "id_number", "purpose": "x"}),
        )
        .await;
    no_purpose.problem(422, "validation_failed");
    let revealed = app
        .post(&path)
        .bearer(&worker)
        .header("x-request-id", "reveal-req-1")
        .json(&json!({"field": "id_number", "purpose": "低保复核入户核对"}))
        .send()
        .await;
    assert_eq!(revealed.ok(200)["value"], ID_A);
    assert_eq!(revealed.header("cache-control"), Some("no-store"));
    let phone = app
        .post_as(
            &worker,
            &path,
            &json!({"field": "phone", "purpose": "联系本人核实"}),
        )
        .await;
    assert_eq!(phone.ok(200)["value"], PHONE_A);

    // Auditors read the trail: actor, field, purpose, request id; never the value.
    let auditor = app.token("a-auditor").await;
    let log = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit-log?subject_id={}", w.resident_a),
        )
        .await;
    let entries = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "resident.reveal");
    assert_eq!(entries[0]["field"], "id_number");
    assert_eq!(entries[0]["purpose"], "低保复核入户核对");
    assert_eq!(entries[0]["request_id"], "reveal-req-1");
    assert_eq!(entries[0]["actor_id"], w.user("a1-worker").to_string());
    assert!(!log.text.contains(ID_A) && !log.text.contains(PHONE_A));

    // Auditors and department staff cannot reveal; workers of other grids do not see the resident.
    let refusals = [
        (auditor.clone(), "审计抽查核对", 403, "forbidden"),
        (app.token("police").await, "治安核查需要", 404, "not_found"),
        (app.token("a2-admin").await, "跨社区核对", 404, "not_found"),
        (app.token("b1-worker").await, "跨街道核对", 404, "not_found"),
    ];
    for (token, purpose, status, code) in &refusals {
        let body = json!({"field": "id_number", "purpose": purpose});
        app.post_as(token, &path, &body)
            .await
            .problem(*status, code);
    }
    // Only the two successful reveals were logged.
    assert_eq!(
        app.db
            .count("audit_log WHERE action = 'resident.reveal'")
            .await,
        2
    );
}

#[tokio::test]
async fn reveals_are_rate_limited() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}/reveal", w.resident_a);
    for _ in 0..30 {
        app.post_as(
            &worker,
            &path,
            &json!({"field": "phone", "purpose": "批量回访核对"}),
        )
        .await
        .ok(200);
    }
    let limited = app
        .post_as(
            &worker,
            &path,
            &json!({"field": "phone", "purpose": "批量回访核对"}),
        )
        .await;
    limited.problem(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        app.db
            .count("audit_log WHERE action = 'resident.reveal'")
            .await,
        30,
        "a refused reveal is not logged as a reveal"
    );
    // The document says every reveal may answer so, with its Retry-After.
    let spec = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .ok(200)
        .clone();
    let reveals: Vec<_> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.ends_with("/reveal"))
        .collect();
    assert_eq!(reveals.len(), 3, "resident, case reporter, dispute party");
    for (path, item) in reveals {
        let limited = &item["post"]["responses"]["429"];
        assert!(
            limited["description"]
                .as_str()
                .unwrap()
                .contains("too_many_requests"),
            "{path}: {limited}"
        );
        assert_eq!(
            limited["headers"]["Retry-After"]["schema"]["type"],
            "integer"
        );
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only_for_everyone() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    app.post_as(
        &worker,
        &format!("/api/v1/residents/{}/reveal", w.resident_a),
        &json!({"field": "phone", "purpose": "联系本人核实"}),
    )
    .await
    .ok(200);
    let mut owner = app.db.owner().await;
    for sql in [
        "UPDATE audit_log SET purpose = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = diesel::sql_query(sql)
            .execute(&mut owner)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let mut app_conn = app.db.app().await;
    let err = diesel::sql_query("DELETE FROM audit_log")
        .execute(&mut app_conn)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(app.db.count("audit_log").await, 1);
    // Workers cannot read the log.
    app.get_as(&worker, "/api/v1/audit-log")
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_does_not_open() {
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = Bytea)]
        id_number_enc: Vec<u8>,
    }
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-worker").await;
    let other = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "王五"}),
        )
        .await;
    let other_id = other.created_id();
    // Copy resident A's sealed ID number onto the other row, as an attacker with table access might.
    let mut owner = app.db.owner().await;
    let sealed: Sealed = diesel::sql_query(format!(
        "SELECT id_number_enc FROM residents WHERE id = '{}'",
        w.resident_a
    ))
    .get_result(&mut owner)
    .await
    .unwrap();
    diesel::sql_query(format!(
        "UPDATE residents SET id_number_enc = $1, id_number_bidx = '\\x00' WHERE id = '{other_id}'"
    ))
    .bind::<Bytea, _>(&sealed.id_number_enc)
    .execute(&mut owner)
    .await
    .unwrap();
    let shown = app
        .get_as(&t, &format!("/api/v1/residents/{other_id}"))
        .await;
    assert_eq!(
        shown.ok(200)["id_number"],
        "***",
        "an unopenable value is never shown"
    );
    let reveal = app
        .post_as(
            &t,
            &format!("/api/v1/residents/{other_id}/reveal"),
            &json!({"field": "id_number", "purpose": "核对移植的密文"}),
        )
        .await;
    let p = reveal.problem(500, "internal");
    assert_eq!(p["detail"], "Internal error");
    assert!(!reveal.text.contains(ID_A));
}

#[tokio::test]
async fn search_by_id_number_stays_in_the_callers_street_and_grids() {
    // The index differs per street even for the same value.
    #[derive(diesel::QueryableByName)]
    struct Distinct {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let (app, w) = TestApp::with_world().await;
    // The same ID number is registered in street A and street B.
    let a = app.token("a-admin").await;
    let found = app
        .post_as(
            &a,
            "/api/v1/residents/search",
            &json!({"id_number": ID_A.to_lowercase()}),
        )
        .await;
    let items = found.ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.resident_a.to_string());
    let b = app.token("b-admin").await;
    let found = app
        .post_as(&b, "/api/v1/residents/search", &json!({"id_number": ID_A}))
        .await;
    let items = found.ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.resident_b.to_string());
    let by_phone = app
        .post_as(
            &a,
            "/api/v1/residents/search",
            &json!({"phone": "138 1234 1234"}),
        )
        .await;
    assert_eq!(by_phone.ok(200).as_array().unwrap().len(), 1);
    // A worker of another community in street A finds nothing.
    let a2 = app.token("a2-admin").await;
    let none = app
        .post_as(&a2, "/api/v1/residents/search", &json!({"id_number": ID_A}))
        .await;
    assert_eq!(none.ok(200).as_array().unwrap().len(), 0);
    let mut owner = app.db.owner().await;
    let d: Distinct =
        diesel::sql_query("SELECT count(DISTINCT id_number_bidx) AS n FROM residents")
            .get_result(&mut owner)
            .await
            .unwrap();
    assert_eq!(d.n, 2);
    app.post_as(
        &a,
        "/api/v1/residents/search",
        &json!({"id_number": ID_A, "phone": PHONE_A}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn moving_a_resident_takes_the_old_grids_access_away_and_keeps_history() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let path = format!("/api/v1/residents/{}", w.resident_a);
    app.get_as(&worker, &path).await.ok(200);
    let moved = app
        .post_as(
            &chief,
            &format!("{path}/move"),
            &json!({"grid_id": w.grid_a1_2, "reason": "搬家至二号楼"}),
        )
        .await;
    let m = moved.ok(200).clone();
    assert_eq!(m["from_grid_id"], w.grid_a1_1.to_string());
    assert_eq!(m["to_grid_id"], w.grid_a1_2.to_string());
    app.get_as(&worker, &path).await.problem(404, "not_found");
    let now = app.get_as(&chief, &path).await;
    assert_eq!(now.ok(200)["grid_id"], w.grid_a1_2.to_string());
    let history = app.get_as(&chief, &format!("{path}/moves")).await;
    assert_eq!(history.ok(200).as_array().unwrap().len(), 1);
    // Moves stay within the street.
    let admin = app.token("a-admin").await;
    app.post_as(
        &admin,
        &format!("{path}/move"),
        &json!({"grid_id": w.grid_b1_1}),
    )
    .await
    .problem(422, "invalid_reference");
    app.post_as(
        &admin,
        &format!("{path}/move"),
        &json!({"grid_id": w.grid_a1_2}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn updating_a_resident_reseals_and_clears() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}", w.resident_a);
    app.patch(&path)
        .bearer(&t)
        .json(&json!({"phone": "13900001111"}))
        .send()
        .await
        .problem(428, "precondition_required");
    let r = app
        .patch_at(
            &t,
            &path,
            "\"1\"",
            &json!({"phone": "13900001111", "tags": ["独居"]}),
        )
        .await;
    assert_eq!(r.ok(200)["phone"], "139****1111");
    assert_eq!(r.body["version"], 2);
    let revealed = app
        .post_as(
            &t,
            &format!("{path}/reveal"),
            &json!({"field": "phone", "purpose": "核对新号码"}),
        )
        .await;
    assert_eq!(revealed.ok(200)["value"], "13900001111");
    let cleared = app
        .patch_at(&t, &path, "\"2\"", &json!({"id_number": null}))
        .await;
    assert!(cleared.ok(200)["id_number"].is_null());
    assert!(cleared.body["age"].is_null());
    app.patch_at(&t, &path, "\"2\"", &json!({"name": "x"}))
        .await
        .problem(412, "version_mismatch");
}

#[tokio::test]
async fn buildings_units_dwellings_and_households() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-worker").await;
    let b = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/buildings", w.grid_a1_1),
            &json!({"name": "3号楼", "address": "明日星城3号楼"}),
        )
        .await;
    let building = b.created_id();
    app.post_as(
        &t,
        &format!("/api/v1/grids/{}/buildings", w.grid_a1_1),
        &json!({"name": "3号楼"}),
    )
    .await
    .problem(409, "conflict");
    let u = app
        .post_as(
            &t,
            &format!("/api/v1/buildings/{building}/units"),
            &json!({"name": "2单元"}),
        )
        .await;
    let unit = u.created_id();
    let d = app
        .post_as(
            &t,
            &format!("/api/v1/units/{unit}/dwellings"),
            &json!({"number": "502"}),
        )
        .await;
    let dwelling = d.created_id();
    assert_eq!(d.body["grid_id"], w.grid_a1_1.to_string());
    let h = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{}/households", w.grid_a1_1),
            &json!({"dwelling_id": dwelling, "address": "3号楼2单元502"}),
        )
        .await;
    let household = h.created_id();
    // A dwelling of another grid cannot host this grid's household.
    app.post_as(
        &app.token("a1-chief").await,
        &format!("/api/v1/grids/{}/households", w.grid_a1_2),
        &json!({"dwelling_id": dwelling}),
    )
    .await
    .problem(422, "invalid_reference");
    app.patch_at(
        &t,
        &format!("/api/v1/residents/{}", w.resident_a),
        "\"1\"",
        &json!({"household_id": household, "relation": "head"}),
    )
    .await
    .ok(200);
    let got = app
        .get_as(&t, &format!("/api/v1/households/{household}"))
        .await;
    let members = got.ok(200)["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["relation"], "head");
    assert_eq!(members[0]["id_number"], "1***************2X");
    for (path, count) in [
        (format!("/api/v1/grids/{}/buildings", w.grid_a1_1), 2),
        (format!("/api/v1/buildings/{building}/units"), 1),
        (format!("/api/v1/units/{unit}/dwellings"), 1),
        (format!("/api/v1/grids/{}/households", w.grid_a1_1), 2),
    ] {
        assert_eq!(app.get_as(&t, &path).await.rows().len(), count, "{path}");
    }
    // A member who moves to a grid the worker cannot read drops out of the worker's view.
    let chief = app.token("a1-chief").await;
    app.post_as(
        &chief,
        &format!("/api/v1/residents/{}/move", w.resident_a),
        &json!({"grid_id": w.grid_a1_2}),
    )
    .await
    .ok(200);
    let got = app
        .get_as(&t, &format!("/api/v1/households/{household}"))
        .await;
    assert_eq!(got.ok(200)["members"].as_array().unwrap().len(), 0);
    let got = app
        .get_as(&chief, &format!("/api/v1/households/{household}"))
        .await;
    assert_eq!(got.ok(200)["members"].as_array().unwrap().len(), 1);
    // Another grid's worker does not see the household.
    let other = app.token("b1-worker").await;
    app.get_as(&other, &format!("/api/v1/households/{household}"))
        .await
        .problem(404, "not_found");
}
