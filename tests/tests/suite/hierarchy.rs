//! Walking and editing the hierarchy: codes, ETags, pagination.

use onegrid_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn district_admin_walks_district_to_grids() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("d-admin").await;
    let d = app.get_as(&t, "/api/v1/district").await;
    assert_eq!(d.ok(200)["code"], "150203");
    assert_eq!(d.body["id"], w.district.to_string());
    let streets = app.get_as(&t, "/api/v1/streets").await;
    let codes: Vec<&str> = streets.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["150203001", "150203002"]);
    let communities = app
        .get_as(&t, &format!("/api/v1/streets/{}/communities", w.street_a))
        .await;
    assert_eq!(communities.ok(200)["items"].as_array().unwrap().len(), 2);
    let grids = app
        .get_as(&t, &format!("/api/v1/communities/{}/grids", w.community_a1))
        .await;
    let grids = grids.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(grids.len(), 2);
    assert_eq!(grids[0]["code"], "150203001001001");
    assert_eq!(grids[0]["target_households"], 450);
    let one = app
        .get_as(&t, &format!("/api/v1/grids/{}", w.grid_a1_1))
        .await;
    assert_eq!(one.ok(200)["community_id"], w.community_a1.to_string());
    assert_eq!(one.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn street_admin_creates_a_community_and_grids_with_valid_codes() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    let created = app
        .post_as(
            &t,
            &format!("/api/v1/streets/{}/communities", w.street_a),
            &json!({"code": "150203001003", "name": "幸福社区"}),
        )
        .await;
    let c = created.ok(201).clone();
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/communities/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(c["street_id"], w.street_a.to_string());

    // Codes: wrong prefix, wrong length, zero local part, duplicate.
    for (code, expect) in [
        ("150203002003", "parent's code"),
        ("15020300100", "digits"),
        ("150203001000", "zeros"),
    ] {
        let r = app
            .post_as(
                &t,
                &format!("/api/v1/streets/{}/communities", w.street_a),
                &json!({"code": code, "name": "x社区"}),
            )
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "code");
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(expect),
            "{}",
            r.text
        );
    }
    let dup = app
        .post_as(
            &t,
            &format!("/api/v1/streets/{}/communities", w.street_a),
            &json!({"code": "150203001003", "name": "又一个"}),
        )
        .await;
    dup.problem(409, "conflict");
    assert_eq!(dup.body["errors"][0]["field"], "code");

    let boundary = json!({"type": "Polygon", "coordinates": [[[109.80, 40.60], [109.81, 40.60], [109.81, 40.61], [109.80, 40.60]]]});
    let grid = app.post_as(&t, &format!("/api/v1/communities/{id}/grids"), &json!({"code": "150203001003001", "name": "幸福一网格", "target_households": 450, "boundary": boundary})).await;
    assert_eq!(grid.ok(201)["boundary"], boundary);
    let bad = app.post_as(&t, &format!("/api/v1/communities/{id}/grids"), &json!({"code": "150203001003002", "name": "坏网格", "boundary": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}})).await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.body["errors"][0]["field"], "boundary");
    let bad = app
        .post_as(
            &t,
            &format!("/api/v1/communities/{id}/grids"),
            &json!({"code": "150203001003002", "name": "坏网格", "target_households": 0}),
        )
        .await;
    assert_eq!(
        bad.problem(422, "validation_failed")["errors"][0]["field"],
        "target_households"
    );
    assert_eq!(
        app.db.count("grids").await,
        5,
        "only the valid grid was written"
    );
}

#[tokio::test]
async fn updates_need_if_match_and_bump_the_version() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let path = format!("/api/v1/grids/{}", w.grid_a1_1);
    let missing = app
        .patch(&path)
        .bearer(&t)
        .json(&json!({"name": "新名字"}))
        .send()
        .await;
    missing.problem(428, "precondition_required");
    let stale = app
        .patch_at(&t, &path, "\"7\"", &json!({"name": "新名字"}))
        .await;
    stale.problem(412, "version_mismatch");
    assert_eq!(stale.header("etag"), Some("\"1\""));
    app.patch_at(&t, &path, "garbage", &json!({"name": "x"}))
        .await
        .problem(412, "version_mismatch");

    let ok = app
        .patch_at(
            &t,
            &path,
            "\"1\"",
            &json!({"name": "新名字", "target_households": null}),
        )
        .await;
    let body = ok.ok(200);
    assert_eq!(body["name"], "新名字");
    assert_eq!(body["version"], 2);
    assert!(body["target_households"].is_null(), "null clears the field");
    assert_eq!(ok.header("etag"), Some("\"2\""));
    // The old ETag is now stale; nothing changes.
    app.patch_at(&t, &path, "\"1\"", &json!({"name": "第三"}))
        .await
        .problem(412, "version_mismatch");
    let now = app.get_as(&t, &path).await;
    assert_eq!(now.ok(200)["name"], "新名字");

    // Renaming the community and the street.
    let c = app
        .get_as(&t, &format!("/api/v1/communities/{}", w.community_a1))
        .await;
    let etag = c.header("etag").unwrap().to_owned();
    let renamed = app
        .patch_at(
            &t,
            &format!("/api/v1/communities/{}", w.community_a1),
            &etag,
            &json!({"name": "明日星城"}),
        )
        .await;
    assert_eq!(renamed.ok(200)["name"], "明日星城");
    let admin = app.token("a-admin").await;
    let s = app
        .patch_at(
            &admin,
            &format!("/api/v1/streets/{}", w.street_a),
            "\"1\"",
            &json!({"name": "团结路街道"}),
        )
        .await;
    assert_eq!(s.ok(200)["version"], 2);
}

#[tokio::test]
async fn cursor_pagination_walks_every_row_once() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    for n in 3..=12 {
        app.post_as(
            &t,
            &format!("/api/v1/communities/{}/grids", w.community_a1),
            &json!({"code": format!("150203001001{n:03}"), "name": format!("网格{n}")}),
        )
        .await
        .ok(201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!(
                "/api/v1/communities/{}/grids?limit=5&cursor={c}",
                w.community_a1
            ),
            None => format!("/api/v1/communities/{}/grids?limit=5", w.community_a1),
        };
        let page = app.get_as(&t, &path).await;
        let body = page.ok(200).clone();
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["code"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match body.get("next_cursor").and_then(|c| c.as_str()) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 12);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 12, "no row twice");

    for bad in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "cursor=not-a-cursor",
        "unknown=1",
    ] {
        let r = app
            .get_as(
                &t,
                &format!("/api/v1/communities/{}/grids?{bad}", w.community_a1),
            )
            .await;
        r.problem(400, "invalid_parameter");
    }
}
