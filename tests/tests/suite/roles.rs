//! The role matrix: who may do what where, and granting rules.

use onegrid_tests::TestApp;
use reqwest::Method;
use serde_json::json;

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "streets",
        "communities",
        "grids",
        "departments",
        "users",
        "role_assignments",
        "grid_assignments",
        "api_keys",
    ] {
        out.push(app.db.count(t).await);
    }
    out
}

#[tokio::test]
async fn writes_outside_a_role_are_403_and_change_nothing() {
    let (app, w) = TestApp::with_world().await;
    let grid_body = json!({"code": "150203001001050", "name": "新网格"});
    let community_body = json!({"code": "150203001050", "name": "新社区"});
    let cases: Vec<(&str, Method, String, serde_json::Value)> = vec![
        (
            "a1-worker",
            Method::POST,
            format!("/api/v1/communities/{}/grids", w.community_a1),
            grid_body.clone(),
        ),
        (
            "a1-worker",
            Method::PATCH,
            format!("/api/v1/grids/{}", w.grid_a1_1),
            json!({"name": "x"}),
        ),
        (
            "a1-chief",
            Method::POST,
            format!("/api/v1/communities/{}/grids", w.community_a1),
            grid_body.clone(),
        ),
        (
            "a1-admin",
            Method::POST,
            format!("/api/v1/streets/{}/communities", w.street_a),
            community_body.clone(),
        ),
        (
            "a1-admin",
            Method::PATCH,
            format!("/api/v1/communities/{}", w.community_a2),
            json!({"name": "x"}),
        ),
        (
            "a1-admin",
            Method::PATCH,
            format!("/api/v1/grids/{}", w.grid_a2_1),
            json!({"name": "x"}),
        ),
        (
            "a1-admin",
            Method::POST,
            "/api/v1/api-keys".into(),
            json!({"name": "k", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}),
        ),
        (
            "a-admin",
            Method::POST,
            "/api/v1/streets".into(),
            json!({"code": "150203009", "name": "x街道"}),
        ),
        (
            "a-admin",
            Method::POST,
            "/api/v1/departments".into(),
            json!({"code": "civil_affairs", "name": "民政"}),
        ),
        (
            "a-auditor",
            Method::PATCH,
            format!("/api/v1/streets/{}", w.street_a),
            json!({"name": "x"}),
        ),
        (
            "a-auditor",
            Method::POST,
            format!("/api/v1/communities/{}/grids", w.community_a1),
            grid_body.clone(),
        ),
        (
            "d-auditor",
            Method::POST,
            "/api/v1/users".into(),
            json!({"username": "newbie", "display_name": "x", "password": "long-enough-password"}),
        ),
        (
            "police",
            Method::POST,
            format!("/api/v1/communities/{}/grids", w.community_a1),
            grid_body.clone(),
        ),
        ("police", Method::GET, "/api/v1/users".into(), json!(null)),
        (
            "a1-worker",
            Method::GET,
            format!("/api/v1/communities/{}/coverage", w.community_a1),
            json!(null),
        ),
        (
            "a1-worker",
            Method::POST,
            format!("/api/v1/grids/{}/staff", w.grid_a1_1),
            json!({"user_id": w.user("a1-pt"), "kind": "part_time"}),
        ),
        (
            "a1-chief",
            Method::POST,
            format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}),
        ),
        (
            "a1-admin",
            Method::POST,
            format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            json!({"role": "community_admin", "scope": {"community_id": w.community_a1}}),
        ),
        (
            "a1-admin",
            Method::POST,
            format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a2_1}}),
        ),
        (
            "a-admin",
            Method::POST,
            format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            json!({"role": "street_admin", "scope": {"street_id": w.street_a}}),
        ),
        (
            "a-admin",
            Method::PATCH,
            format!("/api/v1/users/{}", w.user("d-auditor")),
            json!({"disabled": true}),
        ),
        (
            "a1-admin",
            Method::DELETE,
            format!("/api/v1/role-assignments/{}", w.roles["a-admin"]),
            json!(null),
        ),
    ];
    let before = counts(&app).await;
    for (user, method, path, body) in cases {
        let token = app.token(user).await;
        let mut call = app
            .call(method.clone(), &path)
            .bearer(&token)
            .header("if-match", "\"1\"");
        if !body.is_null() {
            call = call.json(&body);
        }
        let reply = call.send().await;
        assert_eq!(
            reply.status.as_u16(),
            403,
            "{user} {method} {path}: {}",
            reply.text
        );
        reply.problem(403, "forbidden");
    }
    assert_eq!(counts(&app).await, before);
    // Nothing was renamed either.
    let t = app.token("a-admin").await;
    let s = app
        .get_as(&t, &format!("/api/v1/streets/{}", w.street_a))
        .await;
    assert_eq!(s.ok(200)["version"], 1);
}

#[tokio::test]
async fn allowed_writes_succeed_for_the_roles_the_matrix_names() {
    let (app, w) = TestApp::with_world().await;
    let chief = app.token("a1-chief").await;
    app.patch_at(
        &chief,
        &format!("/api/v1/grids/{}", w.grid_a1_1),
        "\"1\"",
        &json!({"name": "网格长改名"}),
    )
    .await
    .ok(200);
    let a1 = app.token("a1-admin").await;
    app.post_as(
        &a1,
        &format!("/api/v1/communities/{}/grids", w.community_a1),
        &json!({"code": "150203001001003", "name": "第三网格"}),
    )
    .await
    .ok(201);
    let d = app.token("d-admin").await;
    let street = app
        .post_as(
            &d,
            "/api/v1/streets",
            &json!({"code": "150203003", "name": "新街道"}),
        )
        .await;
    assert_eq!(street.ok(201)["district_id"], w.district.to_string());
    let dept = app
        .post_as(
            &d,
            "/api/v1/departments",
            &json!({"code": "civil_affairs", "name": "民政"}),
        )
        .await;
    let dept_id = dept.created_id();
    let patched = app
        .patch_at(
            &d,
            &format!("/api/v1/departments/{dept_id}"),
            "\"1\"",
            &json!({"active": false}),
        )
        .await;
    assert_eq!(patched.ok(200)["active"], false);
    let listed = app.get_as(&a1, "/api/v1/departments").await;
    assert_eq!(
        listed.ok(200)["items"].as_array().unwrap().len(),
        11,
        "ten defaults plus one"
    );
    // Auditors and department staff read.
    let auditor = app.token("d-auditor").await;
    app.get_as(
        &auditor,
        &format!("/api/v1/streets/{}/coverage", w.street_b),
    )
    .await
    .ok(200);
    let police = app.token("police").await;
    let streets = app.get_as(&police, "/api/v1/streets").await;
    assert_eq!(
        streets.ok(200)["items"].as_array().unwrap().len(),
        3,
        "departments work across the district, new street included"
    );
}

#[tokio::test]
async fn granted_roles_act_at_once_and_ended_roles_stop_at_once() {
    let (app, w) = TestApp::with_world().await;
    let a1 = app.token("a1-admin").await;
    let pt = app.token("a1-pt").await;
    // No role yet: a grid read is refused.
    app.get_as(&pt, &format!("/api/v1/grids/{}", w.grid_a1_1))
        .await
        .problem(404, "not_found");
    let granted = app
        .post_as(
            &a1,
            &format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            &json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}),
        )
        .await;
    let role = granted.ok(201).clone();
    assert_eq!(role["scope"]["kind"], "grid");
    assert_eq!(role["created_by"], w.user("a1-admin").to_string());
    // The same token now reads the grid: grants are read per request.
    app.get_as(&pt, &format!("/api/v1/grids/{}", w.grid_a1_1))
        .await
        .ok(200);
    let ended = app
        .delete(&format!(
            "/api/v1/role-assignments/{}",
            role["id"].as_str().unwrap()
        ))
        .bearer(&a1)
        .send()
        .await;
    assert!(ended.ok(200)["valid_to"].is_string());
    app.get_as(&pt, &format!("/api/v1/grids/{}", w.grid_a1_1))
        .await
        .problem(404, "not_found");
    let roles = app
        .get_as(&a1, &format!("/api/v1/users/{}/roles", w.user("a1-pt")))
        .await;
    assert_eq!(
        roles.ok(200).as_array().unwrap().len(),
        1,
        "history is kept"
    );

    // A future grant is not active today; a wrong scope kind is 422.
    let future = app.post_as(&a1, &format!("/api/v1/users/{}/roles", w.user("a1-pt")), &json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}, "valid_from": "2099-01-01"})).await;
    future.ok(201);
    app.get_as(&pt, &format!("/api/v1/grids/{}", w.grid_a1_1))
        .await
        .problem(404, "not_found");
    let wrong = app
        .post_as(
            &a1,
            &format!("/api/v1/users/{}/roles", w.user("a1-pt")),
            &json!({"role": "grid_worker", "scope": {"community_id": w.community_a1}}),
        )
        .await;
    assert_eq!(
        wrong.problem(422, "validation_failed")["errors"][0]["field"],
        "scope"
    );
    let backwards = app.post_as(&a1, &format!("/api/v1/users/{}/roles", w.user("a1-pt")), &json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}, "valid_from": "2026-05-02", "valid_to": "2026-05-01"})).await;
    backwards.problem(422, "validation_failed");
}
