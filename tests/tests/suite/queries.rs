//! Targeting queries: predicates, derived age, cross-ledger NOT, scope, saving.

use onegrid_tests::TestApp;
use serde_json::{Value, json};

async fn add(app: &TestApp, token: &str, type_id: &str, body: Value) -> String {
    let r = app
        .post_as(
            token,
            &format!("/api/v1/ledger-types/{type_id}/records"),
            &body,
        )
        .await;
    r.created_id()
}

#[tokio::test]
async fn veterans_in_a_grid_aged_60_or_more_not_on_low_income() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let grid = w.grid_a1_1;
    let resident = |name: &str, id: &str| json!({"name": name, "id_number": id});
    let young = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{grid}/residents"),
            &resident("青年兵", "150203198506011233"),
        )
        .await
        .ok(201)["id"]
        .clone();
    let poor = app
        .post_as(
            &t,
            &format!("/api/v1/grids/{grid}/residents"),
            &resident("老兵乙", "150203195001011234"),
        )
        .await
        .ok(201)["id"]
        .clone();
    let household = app
        .post_as(&t, &format!("/api/v1/grids/{grid}/households"), &json!({}))
        .await
        .ok(201)["id"]
        .clone();
    app.patch_at(
        &t,
        &format!("/api/v1/residents/{}", poor.as_str().unwrap()),
        "\"1\"",
        &json!({"household_id": household}),
    )
    .await
    .ok(200);

    let veterans = app.ledger_type_id(&t, "veterans").await;
    let low_income = app.ledger_type_id(&t, "low_income").await;
    let old_vet = add(
        &app,
        &t,
        &veterans,
        json!({"resident_id": w.resident_a, "data": {"service_branch": "陆军"}}),
    )
    .await;
    add(
        &app,
        &t,
        &veterans,
        json!({"resident_id": young, "data": {"service_branch": "海军"}}),
    )
    .await;
    add(
        &app,
        &t,
        &veterans,
        json!({"resident_id": poor, "data": {"service_branch": "陆军"}}),
    )
    .await;
    add(&app, &t, &low_income, json!({"household_id": household, "data": {"certificate_no": "DB-001", "monthly_amount": 760, "since": "2024-01-01"}})).await;

    let query = json!({
        "ledger": "veterans",
        "conditions": [{"field": "age", "op": "gte", "value": 60}],
        "also": [{"ledger": "low_income", "present": false}],
        "scope": {"grid_id": grid}
    });
    let r = app
        .post_as(&t, "/api/v1/ledger-queries", &json!({"query": query}))
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["id"], old_vet);
    assert_eq!(items[0]["resident"]["id_number"], "1***************2X");
    // The same without the NOT finds both old veterans; with present=true only the poor one.
    let mut both = query.clone();
    both["also"] = json!([]);
    let r = app
        .post_as(&t, "/api/v1/ledger-queries", &json!({"query": both}))
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 2);
    let mut on_it = query.clone();
    on_it["also"][0]["present"] = json!(true);
    let r = app
        .post_as(&t, "/api/v1/ledger-queries", &json!({"query": on_it}))
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    // Field predicates and paging.
    let navy = json!({"ledger": "veterans", "conditions": [{"field": "service_branch", "op": "in", "value": ["海军"]}]});
    let r = app
        .post_as(&t, "/api/v1/ledger-queries", &json!({"query": navy}))
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    let r = app
        .post_as(
            &t,
            "/api/v1/ledger-queries",
            &json!({"query": {"ledger": "veterans"}, "limit": 2}),
        )
        .await;
    let cursor = r.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .post_as(
            &t,
            "/api/v1/ledger-queries",
            &json!({"query": {"ledger": "veterans"}, "limit": 2, "cursor": cursor}),
        )
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);

    // Someone who may not read the protected low-income ledger there gets nothing from a query that uses it.
    let a2 = app.token("a2-admin").await;
    let r = app
        .post_as(&a2, "/api/v1/ledger-queries", &json!({"query": query}))
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 0);
    // Street B sees nothing of street A.
    let b = app.token("b-admin").await;
    let r = app
        .post_as(&b, "/api/v1/ledger-queries", &json!({"query": both}))
        .await;
    r.problem(422, "invalid_reference");

    // Bad queries are 422 with paths.
    let bad = json!({"query": {"ledger": "veterans", "conditions": [{"field": "colour", "op": "eq", "value": 1}], "also": [{"ledger": "nope", "present": true}]}});
    let r = app.post_as(&t, "/api/v1/ledger-queries", &bad).await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "query.conditions[0].field"
    );
    let r = app.post_as(&t, "/api/v1/ledger-queries", &json!({"query": {"ledger": "veterans", "also": [{"ledger": "nope", "present": true}]}})).await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "query.also[0].ledger"
    );

    // Save and rerun.
    let saved = app
        .post_as(
            &t,
            "/api/v1/saved-queries",
            &json!({"name": "一网格60岁以上非低保退役军人", "query": query}),
        )
        .await;
    let s = saved.ok(201).clone();
    assert_eq!(s["street_id"], w.street_a.to_string());
    let rerun = app
        .get_as(
            &t,
            &format!(
                "/api/v1/saved-queries/{}/results",
                s["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(rerun.ok(200)["items"].as_array().unwrap().len(), 1);
    let listed = app.get_as(&t, "/api/v1/saved-queries").await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 1);
    let listed_b = app.get_as(&b, "/api/v1/saved-queries").await;
    assert_eq!(listed_b.ok(200).as_array().unwrap().len(), 0);
}

async fn resident_in(app: &TestApp, token: &str, grid: uuid::Uuid, name: &str, id: &str) -> Value {
    app.post_as(
        token,
        &format!("/api/v1/grids/{grid}/residents"),
        &json!({"name": name, "id_number": id}),
    )
    .await
    .ok(201)["id"]
        .clone()
}

async fn query(app: &TestApp, token: &str, query: Value) -> (Vec<String>, Vec<String>) {
    let r = app
        .post_as(token, "/api/v1/ledger-queries", &json!({"query": query}))
        .await;
    let body = r.ok(200);
    let ids = |key: &str, field: Option<&str>| -> Vec<String> {
        body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| field.map_or(v, |f| &v[f]).as_str().unwrap().to_owned())
            .collect()
    };
    (ids("items", Some("id")), ids("grids", None))
}

#[tokio::test]
async fn personal_ledgers_stay_in_the_grid_workers_own_grid_until_the_district_decides() {
    let (app, w) = TestApp::with_world().await;
    let admin = app.token("a1-admin").await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    let street_admin = app.token("a-admin").await;
    let d_admin = app.token("d-admin").await;
    let own = resident_in(&app, &admin, w.grid_a1_1, "老兵甲", "150203195001011234").await;
    let next = resident_in(&app, &admin, w.grid_a1_2, "老兵乙", "150203195202021236").await;
    let veterans = app.ledger_type_id(&admin, "veterans").await;
    let own_record = add(
        &app,
        &admin,
        &veterans,
        json!({"resident_id": own, "data": {"service_branch": "陆军"}}),
    )
    .await;
    let next_record = add(
        &app,
        &admin,
        &veterans,
        json!({"resident_id": next, "data": {"service_branch": "海军"}}),
    )
    .await;
    let (g1, g2) = (w.grid_a1_1.to_string(), w.grid_a1_2.to_string());

    // Every built-in ledger about people reads as protected.
    let types = app.get_as(&d_admin, "/api/v1/ledger-types?limit=200").await;
    for t in types.ok(200)["items"].as_array().unwrap() {
        if t["built_in"] == true && t["subject"] != "none" {
            assert!(
                t["sensitivity"] == "protected" || t["sensitivity"] == "closed",
                "{}",
                t["code"]
            );
        }
    }

    // The grid worker's query with no scope covers their own grid only, and
    // naming the next grid covers nothing without breaking the glass.
    let all = json!({"ledger": "veterans"});
    assert_eq!(
        query(&app, &worker, all.clone()).await,
        (vec![own_record.clone()], vec![g1.clone()])
    );
    let named = json!({"ledger": "veterans", "scope": {"grid_id": w.grid_a1_2}});
    assert_eq!(query(&app, &worker, named.clone()).await, (vec![], vec![]));
    app.get_as(&worker, &format!("/api/v1/ledger-records/{next_record}"))
        .await
        .problem(403, "break_glass_required");
    // The chief's own scope is the community: both grids, listed in id order.
    let mut both = vec![g1.clone(), g2.clone()];
    both.sort();
    let (found, covered) = query(&app, &chief, all.clone()).await;
    assert_eq!((found.len(), &covered), (2, &both));
    // Open ledgers too: no scope is one's own grids, naming another is allowed.
    let organisations = app.ledger_type_id(&admin, "organisations").await;
    let shop = add(
        &app,
        &admin,
        &organisations,
        json!({"grid_id": w.grid_a1_2, "data": {"name": "便民超市", "kind": "商铺"}}),
    )
    .await;
    let open = json!({"ledger": "organisations"});
    assert_eq!(query(&app, &worker, open).await, (vec![], vec![g1.clone()]));
    assert_eq!(
        query(
            &app,
            &worker,
            json!({"ledger": "organisations", "scope": {"grid_id": w.grid_a1_2}})
        )
        .await,
        (vec![shop], vec![g2.clone()])
    );

    // The district changes the sensitivity: with If-Match and a reason, audited.
    let path = format!("/api/v1/ledger-types/{veterans}/sensitivity");
    let change = json!({"sensitivity": "audited", "reason": "街道统筹退役军人走访"});
    app.call(reqwest::Method::PUT, &path)
        .bearer(&street_admin)
        .header("if-match", "\"2\"")
        .json(&change)
        .send()
        .await
        .problem(403, "forbidden");
    app.call(reqwest::Method::PUT, &path)
        .bearer(&d_admin)
        .json(&change)
        .send()
        .await
        .problem(428, "precondition_required");
    app.call(reqwest::Method::PUT, &path)
        .bearer(&d_admin)
        .header("if-match", "\"1\"")
        .json(&json!({"sensitivity": "audited", "reason": "x"}))
        .send()
        .await
        .problem(422, "validation_failed");
    assert_eq!(
        app.call(reqwest::Method::PUT, &path)
            .bearer(&d_admin)
            .header("if-match", "\"1\"")
            .json(&json!({"sensitivity": "public", "reason": "街道统筹退役军人走访"}))
            .send()
            .await
            .problem(422, "validation_failed")["errors"][0]["field"],
        "sensitivity"
    );
    let current = app
        .get_as(&d_admin, &format!("/api/v1/ledger-types/{veterans}"))
        .await;
    let version = current.ok(200)["version"].as_i64().unwrap();
    let changed = app
        .call(reqwest::Method::PUT, &path)
        .bearer(&d_admin)
        .header("if-match", &format!("\"{version}\""))
        .json(&change)
        .send()
        .await;
    assert_eq!(
        (
            changed.ok(200)["sensitivity"].as_str(),
            changed.body["version"].as_i64()
        ),
        (Some("audited"), Some(version + 1))
    );
    let audit = app
        .get_as(
            &d_admin,
            &format!("/api/v1/audit-log?action=ledger_type.sensitivity&subject_id={veterans}"),
        )
        .await;
    let entries = audit.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", audit.text);
    assert_eq!(entries[0]["purpose"], "街道统筹退役军人走访");
    assert_eq!(entries[0]["actor_id"], w.user("d-admin").to_string());
    assert_eq!(
        (&entries[0]["details"]["from"], &entries[0]["details"]["to"]),
        (&json!("protected"), &json!("audited"))
    );
    // Now the worker may name the next grid; no scope is still their own grid.
    assert_eq!(
        query(&app, &worker, named).await,
        (vec![next_record], vec![g2])
    );
    assert_eq!(
        query(&app, &worker, all).await,
        (vec![own_record], vec![g1])
    );
}

/// A query saved under an older query language (its stored form no longer
/// reads) is a 409 naming `query` when rerun, never a 500 or its text.
#[tokio::test]
async fn a_saved_query_that_no_longer_reads_is_a_conflict_naming_query() {
    let (app, _w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let saved = app
        .post_as(
            &t,
            "/api/v1/saved-queries",
            &json!({"name": "退役军人", "query": {"ledger": "veterans"}}),
        )
        .await;
    let id = saved.created_id();
    let mut owner = app.db.owner().await;
    let changed = diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE saved_queries SET query = '{\"ledger\": \"veterans\", \"legacy_filter\": \"秘密\"}'",
        ),
        &mut owner,
    )
    .await
    .unwrap();
    assert_eq!(changed, 1);

    let r = app
        .get_as(&t, &format!("/api/v1/saved-queries/{id}/results"))
        .await;
    let p = r.problem(409, "conflict");
    assert_eq!(p["errors"][0]["field"], "query");
    assert!(!r.text.contains("秘密") && !r.text.contains("legacy_filter"));
    let listed = app.get_as(&t, "/api/v1/saved-queries").await;
    assert_eq!(
        listed.problem(409, "conflict")["errors"][0]["field"],
        "query"
    );

    // The spec says so for both reads.
    let spec = app.get("/api-docs/openapi.json").send().await.body;
    for path in [
        "/api/v1/saved-queries",
        "/api/v1/saved-queries/{saved_query_id}/results",
    ] {
        assert!(
            spec["paths"][path]["get"]["responses"]["409"].is_object(),
            "{path} does not declare 409"
        );
    }
}
