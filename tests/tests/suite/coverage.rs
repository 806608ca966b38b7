//! 一格三员 coverage and grid staffing.

use onegrid_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn coverage_names_the_missing_kinds_and_follows_assignments() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let path = format!("/api/v1/communities/{}/coverage", w.community_a1);
    let c = app.get_as(&t, &path).await;
    let c = c.ok(200).clone();
    assert_eq!(c["summary"]["grids"], 2);
    assert_eq!(c["summary"]["fully_staffed"], 0);
    let g1 = c["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grid_id"] == w.grid_a1_1.to_string())
        .unwrap();
    assert_eq!(g1["full_time"], 1);
    assert_eq!(g1["part_time"], 1);
    assert_eq!(g1["missing"], json!(["department"]));
    let g2 = c["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grid_id"] == w.grid_a1_2.to_string())
        .unwrap();
    assert_eq!(
        g2["missing"],
        json!(["full_time", "part_time", "department"])
    );

    // Close the gap on grid 1 with the police department grid worker.
    let added = app.post_as(&t, &format!("/api/v1/grids/{}/staff", w.grid_a1_1), &json!({"user_id": w.user("police"), "kind": "department", "department_id": w.departments["police"], "duty": "社区民警"})).await;
    let added = added.ok(201).clone();
    assert_eq!(added["kind"], "department");
    let c = app.get_as(&t, &format!("{path}?gaps_only=true")).await;
    let c = c.ok(200).clone();
    assert_eq!(c["summary"]["fully_staffed"], 1);
    assert_eq!(c["summary"]["missing_department"], 1);
    assert_eq!(
        c["grids"].as_array().unwrap().len(),
        1,
        "gaps_only lists only grid 2"
    );

    // Ending the assignment reopens the gap from today on.
    let ended = app
        .delete(&format!(
            "/api/v1/grid-assignments/{}",
            added["id"].as_str().unwrap()
        ))
        .bearer(&t)
        .send()
        .await;
    ended.ok(200);
    let c = app.get_as(&t, &path).await;
    assert_eq!(c.ok(200)["summary"]["fully_staffed"], 0);
    // ...but a past day still shows who was there.
    let staff = app
        .get_as(&t, &format!("/api/v1/grids/{}/staff", w.grid_a1_1))
        .await;
    assert_eq!(staff.ok(200).as_array().unwrap().len(), 3);
    let today = app
        .get_as(
            &t,
            &format!(
                "/api/v1/grids/{}/staff?on={}",
                w.grid_a1_1,
                app.state.clock.today()
            ),
        )
        .await;
    assert_eq!(today.ok(200).as_array().unwrap().len(), 2);

    // Street coverage spans the street's communities; another street's is hidden.
    let admin = app.token("a-admin").await;
    let s = app
        .get_as(&admin, &format!("/api/v1/streets/{}/coverage", w.street_a))
        .await;
    assert_eq!(s.ok(200)["summary"]["grids"], 3);
    app.get_as(&admin, &format!("/api/v1/streets/{}/coverage", w.street_b))
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn staffing_validates_kind_and_department() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-chief").await;
    let path = format!("/api/v1/grids/{}/staff", w.grid_a1_2);
    let r = app
        .post_as(
            &t,
            &path,
            &json!({"user_id": w.user("police"), "kind": "department"}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "department_id"
    );
    let r = app.post_as(&t, &path, &json!({"user_id": w.user("a1-pt"), "kind": "full_time", "department_id": w.departments["gas"]})).await;
    r.problem(422, "validation_failed");
    let r = app
        .post_as(
            &t,
            &path,
            &json!({"user_id": w.user("a1-pt"), "kind": "volunteer"}),
        )
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post_as(
            &t,
            &path,
            &json!({"user_id": uuid::Uuid::now_v7(), "kind": "part_time"}),
        )
        .await;
    r.problem(422, "invalid_reference");
    let ok = app
        .post_as(
            &t,
            &path,
            &json!({"user_id": w.user("a1-pt"), "kind": "part_time", "duty": "单元长"}),
        )
        .await;
    assert_eq!(ok.ok(201)["duty"], "单元长");
}
