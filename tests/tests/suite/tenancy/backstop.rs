//! References into another street, the RLS backstop without a scope, and
//! scope never leaking to the next user of a pooled connection.

use onegrid_store::Acting;

use super::{snapshot, tenant_tables};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use onegrid_tests::{TestApp, World};
use serde_json::json;

#[tokio::test]
async fn references_into_another_street_are_refused() {
    let (app, w) = TestApp::with_world().await;
    let b_admin = app.token("b-admin").await;
    let before = snapshot(&app).await;
    // Staff a street-B grid with a street-A user.
    let r = app
        .post_as(
            &b_admin,
            &format!("/api/v1/grids/{}/staff", w.grid_b1_1),
            &json!({"user_id": w.user("a1-worker"), "kind": "part_time"}),
        )
        .await;
    r.problem(422, "invalid_reference");
    // Grant a street-B user a role on a street-A grid.
    let r = app
        .post_as(
            &b_admin,
            &format!("/api/v1/users/{}/roles", w.user("b1-worker")),
            &json!({"role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}),
        )
        .await;
    r.problem(422, "invalid_reference");
    // Create a user homed in street A.
    let r = app.post_as(&b_admin, "/api/v1/users", &json!({"username": "intruder", "display_name": "x", "password": "long-enough-password", "street_id": w.street_a})).await;
    r.problem(422, "invalid_reference");
    assert_eq!(snapshot(&app).await, before);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test]
async fn rls_backstop_shows_nothing_without_a_scope() {
    // The app role owns nothing and cannot bypass RLS.
    #[derive(diesel::QueryableByName)]
    struct Role {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolbypassrls: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolsuper: bool,
    }
    #[derive(diesel::QueryableByName)]
    struct Rls {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        enabled: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        forced: bool,
    }
    let (app, w) = TestApp::with_world().await;
    let tables = tenant_tables(&app).await;
    assert!(tables.len() >= 24, "{tables:?}");
    let mut owner = app.db.owner().await;
    let mut conn = app.db.app().await;
    for table in &tables {
        let rls: Rls = diesel::sql_query("SELECT relrowsecurity AS enabled, relforcerowsecurity AS forced FROM pg_class WHERE relname = $1")
            .bind::<Text, _>(table)
            .get_result(&mut owner)
            .await
            .unwrap();
        assert!(
            rls.enabled && rls.forced,
            "{table} lacks forced row-level security"
        );
        let q = format!("SELECT count(*) AS n FROM {table}");
        let as_owner = diesel::sql_query(&q)
            .get_result::<Count>(&mut owner)
            .await
            .unwrap()
            .n;
        let as_app = diesel::sql_query(&q)
            .get_result::<Count>(&mut conn)
            .await
            .unwrap()
            .n;
        if [
            "streets",
            "communities",
            "grids",
            "users",
            "residents",
            "ledger_types",
        ]
        .contains(&table.as_str())
        {
            assert!(as_owner > 0, "{table} should have fixture rows");
        }
        assert_eq!(as_app, 0, "{table} is readable without a scope");
    }
    // Writes into a street the scope does not include are refused by the database.
    let insert = format!(
        "INSERT INTO communities (street_id, id, code, name) VALUES ('{}', gen_random_uuid(), '150203001077', 'x')",
        w.street_a
    );
    assert!(diesel::sql_query(&insert).execute(&mut conn).await.is_err());
    // With street B's scope, street A stays invisible and unwritable.
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        diesel::sql_query("SELECT set_config('app.street_ids', $1, true)")
            .bind::<Text, _>(w.street_b.to_string())
            .execute(c)
            .await?;
        let n = diesel::sql_query("SELECT count(*) AS n FROM communities")
            .get_result::<Count>(c)
            .await?
            .n;
        assert_eq!(n, 1);
        let a = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM grids WHERE street_id = '{}'",
            w.street_a
        ))
        .get_result::<Count>(c)
        .await?
        .n;
        assert_eq!(a, 0);
        Ok(())
    })
    .await
    .unwrap();
    assert!(diesel::sql_query(&insert).execute(&mut conn).await.is_err());
    let role: Role = diesel::sql_query(
        "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'onegrid_app'",
    )
    .get_result(&mut owner)
    .await
    .unwrap();
    assert!(!role.rolbypassrls && !role.rolsuper);
    let owned =
        diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE tableowner = 'onegrid_app'")
            .get_result::<Count>(&mut owner)
            .await
            .unwrap()
            .n;
    assert_eq!(owned, 0);
}

#[tokio::test]
async fn scope_never_leaks_to_the_next_user_of_a_pooled_connection() {
    #[derive(diesel::QueryableByName)]
    struct Leftover {
        #[diesel(sql_type = Nullable<Text>)]
        streets: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        user_id: Option<String>,
        #[diesel(sql_type = BigInt)]
        grids: i64,
    }
    let app = TestApp::start_with(&[("ONEGRID_POOL_SIZE", "1")]).await;
    let w = World::build(&app).await;
    let t = app.token("a-admin").await;
    app.get_as(&t, &format!("/api/v1/communities/{}/grids", w.community_a1))
        .await
        .ok(200);
    // A failing request too: its transaction is rolled back.
    app.get_as(&t, &format!("/api/v1/grids/{}", uuid::Uuid::now_v7()))
        .await
        .problem(404, "not_found");
    let left: Leftover = app
        .state
        .db
        .acting(Acting::Nobody, |c| {
            Box::pin(async move {
                diesel::sql_query(
                    "SELECT current_setting('app.street_ids', true) AS streets, current_setting('app.user_id', true) AS user_id, \
                     (SELECT count(*) FROM grids) AS grids",
                )
                .get_result::<Leftover>(c)
                .await
                .map_err(onegrid_store::StoreError::from)
            })
        })
        .await
        .unwrap();
    assert!(left.streets.unwrap_or_default().is_empty());
    assert!(left.user_id.unwrap_or_default().is_empty());
    assert_eq!(left.grids, 0);
}

/// A body naming a place or row of another street is the body's bad
/// reference: 422 naming the very field that named it (never a 404, never
/// another field), for places proven by the call and rows loaded by it alike;
/// nothing is written.
#[tokio::test]
async fn a_body_naming_another_streets_row_names_that_field() {
    let (app, w) = TestApp::with_world().await;
    let (a_worker, a_admin) = (app.token("a1-worker").await, app.token("a-admin").await);
    let (b_worker, b_admin) = (app.token("b1-worker").await, app.token("b-admin").await);
    let b1_admin = app.token("b1-admin").await;
    let dispute = app.street_dispute(&w, &a_worker, &a_admin).await;
    let noise = app.case_category(&a_worker, "03.02").await;
    let case = app
        .file_case(
            &a_worker,
            &json!({"channel": "hotline", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "夜间施工", "description": "工地夜间施工扰民"}),
        )
        .await;
    let police = app
        .panel(&b_admin)
        .await
        .into_iter()
        .find(|(code, _)| code == "police")
        .unwrap()
        .1;
    let parties =
        json!([{"role": "applicant", "name": "张三"}, {"role": "respondent", "name": "李四"}]);
    let before = snapshot(&app).await;
    let refused = [
        (
            &b_worker,
            "/api/v1/patrol-logs".to_owned(),
            json!({"grid_id": w.grid_a1_1, "notes": "日巡"}),
            "grid_id",
        ),
        (
            &b_worker,
            "/api/v1/disputes".to_owned(),
            json!({"grid_id": w.grid_a1_1, "kind": "property", "summary": "邻里纠纷", "parties": parties}),
            "grid_id",
        ),
        (
            &b_admin,
            "/api/v1/disputes".to_owned(),
            json!({"community_id": w.community_a1, "kind": "property", "summary": "邻里纠纷", "parties": parties}),
            "community_id",
        ),
        (
            &b_admin,
            "/api/v1/whistles".to_owned(),
            json!({"dispute_id": dispute["id"], "reason": "pressing", "summary": "请到场", "department_ids": [police]}),
            "dispute_id",
        ),
        (
            &b_admin,
            "/api/v1/whistles".to_owned(),
            json!({"case_id": case["id"], "reason": "pressing", "summary": "请到场", "department_ids": [police]}),
            "case_id",
        ),
        (
            &b_admin,
            "/api/v1/webhook-endpoints".to_owned(),
            json!({"url": "https://hooks.example.cn/b", "street_id": w.street_a}),
            "street_id",
        ),
        (
            &b1_admin,
            format!("/api/v1/communities/{}/appointment-slots", w.community_b1),
            json!({"starts_at": "2026-12-09T02:00:00Z", "ends_at": "2026-12-09T03:00:00Z", "capacity": 1, "grid_id": w.grid_a1_1}),
            "grid_id",
        ),
    ];
    for (token, path, body, field) in refused {
        let r = app.post_as(token, &path, &body).await;
        let problem = r.problem(422, "invalid_reference");
        assert_eq!(
            problem["errors"][0]["field"], field,
            "{path} naming {field}: {problem}"
        );
        assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{path}");
    }
    assert_eq!(snapshot(&app).await, before);
}
