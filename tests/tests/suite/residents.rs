//! Residents: masking everywhere, audited purpose-bound reveals, sealed
//! storage bound to the row, blind index scoped by street, grid moves.

use diesel::sql_types::{Bytea, Text};
use diesel_async::RunQueryDsl;
use onegrid_tests::fixture::{ID_A, PHONE_A};
use onegrid_tests::{TestApp, World};
use serde_json::json;

#[tokio::test]
async fn residents_are_masked_everywhere_and_stored_sealed() {
    // In the database: no plaintext anywhere in the row.
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let t = app.token("a1-worker").await;
    let one = app
        .get(&format!("/api/v1/residents/{}", w.resident_a))
        .bearer(&t)
        .send()
        .await;
    let body = one.ok(200);
    assert_eq!(body["id_number"], "1***************2X");
    assert_eq!(body["phone"], "138****1234");
    assert_eq!(body["gender"], "female");
    assert!(body["age"].as_i64().unwrap() >= 76);
    let list = app
        .get(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .send()
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
    let created = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "宋金伟", "id_number": "150203196503151231", "phone": "+86 139-0000-1111", "relation": "head"}))
        .send()
        .await;
    let r = created.ok(201).clone();
    assert_eq!(r["gender"], "male");
    assert_eq!(r["phone"], "139****1111");
    let bad = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "x", "id_number": "150203196503151230"}))
        .send()
        .await;
    let p = bad.problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "id_number");
    assert!(
        !bad.text.contains("150203196503151230"),
        "error bodies never echo the value"
    );
    let excel = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "x", "id_number": "1.50203196503152E+17"}))
        .send()
        .await;
    excel.problem(422, "validation_failed");
    let dup = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "重复", "id_number": ID_A}))
        .send()
        .await;
    let p = dup.problem(409, "conflict");
    assert_eq!(p["errors"][0]["field"], "id_number");
}

#[tokio::test]
async fn reveal_needs_permission_and_purpose_and_is_audited_without_the_value() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}/reveal", w.resident_a);
    let no_purpose = app
        .post(&path)
        .bearer(&worker)
        .json(&json!({"field": "id_number", "purpose": "x"}))
        .send()
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
        .post(&path)
        .bearer(&worker)
        .json(&json!({"field": "phone", "purpose": "联系本人核实"}))
        .send()
        .await;
    assert_eq!(phone.ok(200)["value"], PHONE_A);

    // Auditors read the trail: actor, field, purpose, request id; never the value.
    let auditor = app.token("a-auditor").await;
    let log = app
        .get(&format!("/api/v1/audit-log?subject_id={}", w.resident_a))
        .bearer(&auditor)
        .send()
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
    app.post(&path)
        .bearer(&auditor)
        .json(&json!({"field": "id_number", "purpose": "审计抽查核对"}))
        .send()
        .await
        .problem(403, "forbidden");
    let police = app.token("police").await;
    app.post(&path)
        .bearer(&police)
        .json(&json!({"field": "id_number", "purpose": "治安核查需要"}))
        .send()
        .await
        .problem(404, "not_found");
    let a2 = app.token("a2-admin").await;
    app.post(&path)
        .bearer(&a2)
        .json(&json!({"field": "id_number", "purpose": "跨社区核对"}))
        .send()
        .await
        .problem(404, "not_found");
    let worker_b = app.token("b1-worker").await;
    app.post(&path)
        .bearer(&worker_b)
        .json(&json!({"field": "id_number", "purpose": "跨街道核对"}))
        .send()
        .await
        .problem(404, "not_found");
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
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}/reveal", w.resident_a);
    for _ in 0..30 {
        app.post(&path)
            .bearer(&worker)
            .json(&json!({"field": "phone", "purpose": "批量回访核对"}))
            .send()
            .await
            .ok(200);
    }
    let limited = app
        .post(&path)
        .bearer(&worker)
        .json(&json!({"field": "phone", "purpose": "批量回访核对"}))
        .send()
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
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    app.post(&format!("/api/v1/residents/{}/reveal", w.resident_a))
        .bearer(&worker)
        .json(&json!({"field": "phone", "purpose": "联系本人核实"}))
        .send()
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
    app.get("/api/v1/audit-log")
        .bearer(&worker)
        .send()
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
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let t = app.token("a1-worker").await;
    let other = app
        .post(&format!("/api/v1/grids/{}/residents", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "王五"}))
        .send()
        .await;
    let other_id = other.ok(201)["id"].as_str().unwrap().to_owned();
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
        .get(&format!("/api/v1/residents/{other_id}"))
        .bearer(&t)
        .send()
        .await;
    assert_eq!(
        shown.ok(200)["id_number"],
        "***",
        "an unopenable value is never shown"
    );
    let reveal = app
        .post(&format!("/api/v1/residents/{other_id}/reveal"))
        .bearer(&t)
        .json(&json!({"field": "id_number", "purpose": "核对移植的密文"}))
        .send()
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
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    // The same ID number is registered in street A and street B.
    let a = app.token("a-admin").await;
    let found = app
        .post("/api/v1/residents/search")
        .bearer(&a)
        .json(&json!({"id_number": ID_A.to_lowercase()}))
        .send()
        .await;
    let items = found.ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.resident_a.to_string());
    let b = app.token("b-admin").await;
    let found = app
        .post("/api/v1/residents/search")
        .bearer(&b)
        .json(&json!({"id_number": ID_A}))
        .send()
        .await;
    let items = found.ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.resident_b.to_string());
    let by_phone = app
        .post("/api/v1/residents/search")
        .bearer(&a)
        .json(&json!({"phone": "138 1234 1234"}))
        .send()
        .await;
    assert_eq!(by_phone.ok(200).as_array().unwrap().len(), 1);
    // A worker of another community in street A finds nothing.
    let a2 = app.token("a2-admin").await;
    let none = app
        .post("/api/v1/residents/search")
        .bearer(&a2)
        .json(&json!({"id_number": ID_A}))
        .send()
        .await;
    assert_eq!(none.ok(200).as_array().unwrap().len(), 0);
    let mut owner = app.db.owner().await;
    let d: Distinct =
        diesel::sql_query("SELECT count(DISTINCT id_number_bidx) AS n FROM residents")
            .get_result(&mut owner)
            .await
            .unwrap();
    assert_eq!(d.n, 2);
    app.post("/api/v1/residents/search")
        .bearer(&a)
        .json(&json!({"id_number": ID_A, "phone": PHONE_A}))
        .send()
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn moving_a_resident_takes_the_old_grids_access_away_and_keeps_history() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let path = format!("/api/v1/residents/{}", w.resident_a);
    app.get(&path).bearer(&worker).send().await.ok(200);
    let moved = app
        .post(&format!("{path}/move"))
        .bearer(&chief)
        .json(&json!({"grid_id": w.grid_a1_2, "reason": "搬家至二号楼"}))
        .send()
        .await;
    let m = moved.ok(200).clone();
    assert_eq!(m["from_grid_id"], w.grid_a1_1.to_string());
    assert_eq!(m["to_grid_id"], w.grid_a1_2.to_string());
    app.get(&path)
        .bearer(&worker)
        .send()
        .await
        .problem(404, "not_found");
    let now = app.get(&path).bearer(&chief).send().await;
    assert_eq!(now.ok(200)["grid_id"], w.grid_a1_2.to_string());
    let history = app
        .get(&format!("{path}/moves"))
        .bearer(&chief)
        .send()
        .await;
    assert_eq!(history.ok(200).as_array().unwrap().len(), 1);
    // Moves stay within the street.
    let admin = app.token("a-admin").await;
    app.post(&format!("{path}/move"))
        .bearer(&admin)
        .json(&json!({"grid_id": w.grid_b1_1}))
        .send()
        .await
        .problem(422, "invalid_reference");
    app.post(&format!("{path}/move"))
        .bearer(&admin)
        .json(&json!({"grid_id": w.grid_a1_2}))
        .send()
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn updating_a_resident_reseals_and_clears() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let t = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}", w.resident_a);
    app.patch(&path)
        .bearer(&t)
        .json(&json!({"phone": "13900001111"}))
        .send()
        .await
        .problem(428, "precondition_required");
    let r = app
        .patch(&path)
        .bearer(&t)
        .header("if-match", "\"1\"")
        .json(&json!({"phone": "13900001111", "tags": ["独居"]}))
        .send()
        .await;
    assert_eq!(r.ok(200)["phone"], "139****1111");
    assert_eq!(r.body["version"], 2);
    let revealed = app
        .post(&format!("{path}/reveal"))
        .bearer(&t)
        .json(&json!({"field": "phone", "purpose": "核对新号码"}))
        .send()
        .await;
    assert_eq!(revealed.ok(200)["value"], "13900001111");
    let cleared = app
        .patch(&path)
        .bearer(&t)
        .header("if-match", "\"2\"")
        .json(&json!({"id_number": null}))
        .send()
        .await;
    assert!(cleared.ok(200)["id_number"].is_null());
    assert!(cleared.body["age"].is_null());
    app.patch(&path)
        .bearer(&t)
        .header("if-match", "\"2\"")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .problem(412, "version_mismatch");
}

#[tokio::test]
async fn buildings_units_dwellings_and_households() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let t = app.token("a1-worker").await;
    let b = app
        .post(&format!("/api/v1/grids/{}/buildings", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "3号楼", "address": "明日星城3号楼"}))
        .send()
        .await;
    let building = b.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/grids/{}/buildings", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"name": "3号楼"}))
        .send()
        .await
        .problem(409, "conflict");
    let u = app
        .post(&format!("/api/v1/buildings/{building}/units"))
        .bearer(&t)
        .json(&json!({"name": "2单元"}))
        .send()
        .await;
    let unit = u.ok(201)["id"].as_str().unwrap().to_owned();
    let d = app
        .post(&format!("/api/v1/units/{unit}/dwellings"))
        .bearer(&t)
        .json(&json!({"number": "502"}))
        .send()
        .await;
    let dwelling = d.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(d.body["grid_id"], w.grid_a1_1.to_string());
    let h = app
        .post(&format!("/api/v1/grids/{}/households", w.grid_a1_1))
        .bearer(&t)
        .json(&json!({"dwelling_id": dwelling, "address": "3号楼2单元502"}))
        .send()
        .await;
    let household = h.ok(201)["id"].as_str().unwrap().to_owned();
    // A dwelling of another grid cannot host this grid's household.
    app.post(&format!("/api/v1/grids/{}/households", w.grid_a1_2))
        .bearer(&app.token("a1-chief").await)
        .json(&json!({"dwelling_id": dwelling}))
        .send()
        .await
        .problem(422, "invalid_reference");
    app.patch(&format!("/api/v1/residents/{}", w.resident_a))
        .bearer(&t)
        .header("if-match", "\"1\"")
        .json(&json!({"household_id": household, "relation": "head"}))
        .send()
        .await
        .ok(200);
    let got = app
        .get(&format!("/api/v1/households/{household}"))
        .bearer(&t)
        .send()
        .await;
    let members = got.ok(200)["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["relation"], "head");
    assert_eq!(members[0]["id_number"], "1***************2X");
    assert_eq!(
        app.get(&format!("/api/v1/grids/{}/buildings", w.grid_a1_1))
            .bearer(&t)
            .send()
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.get(&format!("/api/v1/buildings/{building}/units"))
            .bearer(&t)
            .send()
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/units/{unit}/dwellings"))
            .bearer(&t)
            .send()
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/grids/{}/households", w.grid_a1_1))
            .bearer(&t)
            .send()
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A member who moves to a grid the worker cannot read drops out of the worker's view.
    let chief = app.token("a1-chief").await;
    app.post(&format!("/api/v1/residents/{}/move", w.resident_a))
        .bearer(&chief)
        .json(&json!({"grid_id": w.grid_a1_2}))
        .send()
        .await
        .ok(200);
    let got = app
        .get(&format!("/api/v1/households/{household}"))
        .bearer(&t)
        .send()
        .await;
    assert_eq!(got.ok(200)["members"].as_array().unwrap().len(), 0);
    let got = app
        .get(&format!("/api/v1/households/{household}"))
        .bearer(&chief)
        .send()
        .await;
    assert_eq!(got.ok(200)["members"].as_array().unwrap().len(), 1);
    // Another grid's worker does not see the household.
    let other = app.token("b1-worker").await;
    app.get(&format!("/api/v1/households/{household}"))
        .bearer(&other)
        .send()
        .await
        .problem(404, "not_found");
}
