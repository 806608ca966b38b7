//! Lists filter in SQL before their limit, so a page is full while more rows
//! exist, and a page costs the same number of statements whatever its size
//! (the pool counts every statement it sends).

use onegrid_tests::fixture::World;
use onegrid_tests::{Reply, TestApp, at};
use serde_json::json;

/// Statements sent while answering `path` as `token`, and the reply.
async fn costed(app: &TestApp, token: &str, path: &str) -> (u64, Reply) {
    let before = app.state.db.statements();
    let reply = app.get_as(token, path).await;
    (app.state.db.statements() - before, reply)
}

/// Six of every busy list's rows, as the people who list them make them.
async fn six_of_each(app: &TestApp, w: &World) -> (String, String) {
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let general = app.case_category(&worker, "03.02").await;
    let records = app.ledger_type_id(&worker, "organisations").await;
    for i in 0..6 {
        app.file_case(
            &worker,
            &json!({"channel": "hotline", "category_id": general, "grid_id": w.grid_a1_1,
                "title": format!("楼道堆物 {i}"), "description": "楼道堆放杂物"}),
        )
        .await;
        app.post_as(&a_admin, &format!("/api/v1/communities/{}/grids", w.community_a1), &json!({"code": format!("15020300100110{i}"), "name": format!("新网格{i}"), "target_households": 450})).await
            .ok(201);
        app.post_as(&worker, &format!("/api/v1/ledger-types/{records}/records"), &json!({"grid_id": w.grid_a1_1, "data": {"name": format!("便民超市{i}"), "kind": "商铺"}})).await
            .ok(201);
        app.post_as(
            &worker,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": format!("居民{i}")}),
        )
        .await
        .ok(201);
        app.grid_dispute(w, &worker).await;
        app.clock
            .set(Some(at(&format!("2026-12-0{}T18:00:00+08:00", i + 1))));
        app.post_as(
            &worker,
            "/api/v1/patrol-logs",
            &json!({"grid_id": w.grid_a1_1, "notes": "巡查"}),
        )
        .await
        .ok(201);
    }
    let d_admin = app.token("d-admin").await;
    let dispute = app.street_dispute(w, &worker, &a_admin).await;
    let panel = app.panel(&d_admin).await;
    let ids: Vec<&String> = panel.iter().map(|(_, id)| id).take(6).collect();
    app.whistle(&a_admin, &dispute, "emergency", &ids).await;
    for _ in 0..5 {
        let dispute = app.street_dispute(w, &worker, &a_admin).await;
        app.whistle(&a_admin, &dispute, "pressing", &ids[..2]).await;
    }
    (a_admin, worker)
}

#[tokio::test]
async fn a_page_costs_the_same_statements_whatever_its_size() {
    let (app, w) = TestApp::with_world().await;
    let (a_admin, worker) = six_of_each(&app, &w).await;
    let records = app.ledger_type_id(&worker, "organisations").await;
    let lists = [
        (
            "work list",
            worker.clone(),
            "/api/v1/cases?mine=false".to_owned(),
        ),
        (
            "grids",
            a_admin.clone(),
            format!("/api/v1/communities/{}/grids?", w.community_a1),
        ),
        (
            "ledger records",
            worker.clone(),
            format!("/api/v1/ledger-types/{records}/records?"),
        ),
        (
            "residents",
            worker.clone(),
            format!("/api/v1/grids/{}/residents?", w.grid_a1_1),
        ),
        (
            "summonses",
            a_admin.clone(),
            "/api/v1/summonses?".to_owned(),
        ),
        ("disputes", worker.clone(), "/api/v1/disputes?".to_owned()),
        ("whistles", a_admin.clone(), "/api/v1/whistles?".to_owned()),
        (
            "patrol logs",
            worker.clone(),
            "/api/v1/patrol-logs?".to_owned(),
        ),
    ];
    let mut costs = Vec::new();
    for (name, token, path) in &lists {
        let sep = if path.ends_with('?') { "" } else { "&" };
        let (small, one) = costed(&app, token, &format!("{path}{sep}limit=1")).await;
        let (large, six) = costed(&app, token, &format!("{path}{sep}limit=6")).await;
        assert_eq!(one.rows().len(), 1, "{name}: one row on a page of one");
        assert_eq!(six.rows().len(), 6, "{name}: six rows on a page of six");
        costs.push((*name, small, large));
    }
    println!("{costs:?}");
    for (name, small, large) in costs {
        assert_eq!(small, large, "{name} costs more statements for more rows");
    }
}

#[tokio::test]
async fn a_page_is_full_while_more_rows_exist() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let a1_admin = app.token("a1-admin").await;
    // Two disputes of the worker's grid, then three newer ones of the
    // neighbouring grid, which the wall shows (same street) but the worker
    // may not read.
    let mine = [
        app.grid_dispute(&w, &worker).await,
        app.grid_dispute(&w, &worker).await,
    ];
    for _ in 0..3 {
        app.post_as(&a1_admin, "/api/v1/disputes", &json!({"grid_id": w.grid_a1_2, "kind": "neighbour", "summary": "邻里噪音纠纷",
                "parties": [{"role": "applicant", "name": "王芳"}, {"role": "respondent", "name": "李强"}]})).await
            .ok(201);
    }
    let page = app.get_as(&worker, "/api/v1/disputes?limit=2").await;
    let ids: Vec<&str> = page.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            mine[1]["id"].as_str().unwrap(),
            mine[0]["id"].as_str().unwrap()
        ],
        "the worker's two disputes fill the page, newest first"
    );
    assert!(page.body["next_cursor"].is_null(), "nothing more to read");
    let admins = app.get_as(&a1_admin, "/api/v1/disputes?limit=4").await;
    assert_eq!(admins.ok(200)["items"].as_array().unwrap().len(), 4);
    assert!(admins.body["next_cursor"].is_string(), "a fifth follows");
}
