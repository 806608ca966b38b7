//! Operations and the OpenAPI document.

use onegrid_tests::{TestApp, World};
use serde_json::Value;

#[tokio::test]
async fn served_spec_equals_the_committed_file_and_documents_every_operation() {
    let app = TestApp::start().await;
    let served = app.get("/api-docs/openapi.json").send().await;
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        served.ok(200),
        &committed,
        "regenerate with: cargo run --bin onegrid -- openapi > openapi/openapi.json"
    );
    assert_eq!(
        onegrid_api::openapi::document_json(),
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/openapi.json"
        ))
        .unwrap()
    );

    let spec = &committed;
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let id = op["operationId"].as_str().unwrap();
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            assert!(
                op["description"].as_str().is_some_and(|s| s.len() > 20),
                "{id} has no description"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has no tag"
            );
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} has no security"));
            let public = onegrid_api::openapi::PUBLIC_OPERATIONS.contains(&id);
            assert_eq!(
                security.iter().any(|s| s.get("bearer").is_some()),
                !public,
                "{id} security"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{id}");
            if !public {
                for status in ["401", "403"] {
                    assert!(responses.contains_key(status), "{id} lacks {status}");
                }
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{id} lacks 404");
            }
            if method == "patch" {
                for status in ["412", "428", "422"] {
                    assert!(responses.contains_key(status), "{id} lacks {status}");
                }
            }
            let problem =
                &responses["500"]["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(problem, "#/components/schemas/Problem");
        }
    }
    assert!(operations >= 40, "{operations}");
}

#[tokio::test]
async fn swagger_ui_is_served_from_embedded_assets_only() {
    let app = TestApp::start().await;
    let redirect = app.get("/docs").send().await;
    assert_eq!(redirect.status.as_u16(), 308);
    let page = app.get("/docs/").send().await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.text.contains("swagger"),
        "{}",
        &page.text[..200.min(page.text.len())]
    );
    let init = app.get("/docs/swagger-initializer.js").send().await;
    assert_eq!(init.status.as_u16(), 200);
    assert!(init.text.contains("/api-docs/openapi.json"));
    assert!(
        init.text.contains("\"validatorUrl\": \"none\""),
        "the online validator must be off: {}",
        init.text
    );
    for asset in ["/docs/", "/docs/swagger-initializer.js", "/docs/index.css"] {
        let body = app.get(asset).send().await.text;
        for outside in ["https://", "http://"] {
            assert!(
                !body.contains(&format!("src=\"{outside}"))
                    && !body.contains(&format!("href=\"{outside}")),
                "{asset} loads from outside"
            );
        }
    }
    let bundle = app.get("/docs/swagger-ui-bundle.js").send().await;
    assert_eq!(bundle.status.as_u16(), 200);
    assert!(bundle.text.len() > 100_000, "the bundle is embedded");
}

#[tokio::test]
async fn health_readiness_metrics_and_error_catalogue() {
    let app = TestApp::start().await;
    World::build(&app).await;
    assert_eq!(app.get("/healthz").send().await.text, "ok");
    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.ok(200)["postgres"], "up");
    assert_eq!(ready.body["redis"], "up");
    app.get("/api/v1/streets")
        .send()
        .await
        .problem(401, "unauthenticated");
    let metrics = app.get("/metrics").send().await;
    assert!(
        metrics.text.contains("onegrid_http_requests_total"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("route=\"/api/v1/streets\""));
    assert!(metrics.text.contains("onegrid_db_pool_connections"));
    let catalogue = app.get("/problems").send().await;
    let codes: Vec<&str> = catalogue
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"version_mismatch") && codes.contains(&"invalid_reference"));
    let one = app.get("/problems/forbidden").send().await;
    assert_eq!(one.ok(200)["status"], 403);
}

#[tokio::test]
async fn without_redis_the_platform_keeps_working() {
    let app = TestApp::start_with(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    World::build(&app).await;
    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.ok(200)["redis"], "down");
    assert_eq!(ready.body["status"], "ready");
    let t = app.token("a-admin").await;
    app.get_as(&t, "/api/v1/streets").await.ok(200);
    // Throttling falls back to in-process counting.
    for _ in 0..10 {
        app.login_reply("b-admin", "wrong-password!")
            .await
            .problem(401, "invalid_credentials");
    }
    app.login_reply("b-admin", onegrid_tests::PASSWORD)
        .await
        .problem(429, "too_many_requests");
}

#[tokio::test]
async fn without_postgres_requests_get_a_generic_503() {
    // Drop the database under the running app.
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let app = TestApp::start().await;
    World::build(&app).await;
    let t = app.token("a-admin").await;
    // Point a second app at a dead database: its failure must be generic.
    let dead = onegrid_tests::test_config(
        &app.db,
        &[(
            "APP_DATABASE_URL",
            "postgres://onegrid_app@127.0.0.1:1/nothing",
        )],
    );
    let err = onegrid_api::server::state(
        dead,
        std::sync::Arc::new(onegrid_domain::clock::SystemClock),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("127.0.0.1:1") && err.contains("pg_ctlcluster"),
        "{err}"
    );
    assert!(!err.contains('\n'), "one line: {err}");

    let mut conn =
        AsyncPgConnection::establish(&format!("{}/postgres", onegrid_tests::db::server_url()))
            .await
            .unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
        app.db.name
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
        app.db.name
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let r = app.get_as(&t, "/api/v1/streets").await;
    let p = r.problem(503, "unavailable");
    assert_eq!(p["detail"], p["title"], "5xx bodies are generic");
    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.status.as_u16(), 503);
    assert_eq!(ready.body["postgres"], "down");
    diesel::sql_query(format!(
        "ALTER DATABASE {} WITH ALLOW_CONNECTIONS true",
        app.db.name
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

/// Connections cut under load (pg_terminate_backend on every API session,
/// again and again): every request answers 200 or 503 `unavailable` with
/// `Retry-After`, the HTTP status equals the problem's, and the pool heals.
#[tokio::test]
async fn cut_database_connections_answer_503_with_retry_after_and_never_500() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    use std::sync::atomic::{AtomicBool, Ordering};
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let path = format!("/api/v1/communities/{}/grids", w.community_a1);
    let done = AtomicBool::new(false);
    let mut admin =
        AsyncPgConnection::establish(&format!("{}/postgres", onegrid_tests::db::server_url()))
            .await
            .unwrap();
    let cut = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND usename = 'onegrid_app'",
        app.db.name
    );
    let cutter = async {
        // (diesel's RunQueryDsl::load shadows AtomicBool::load as a method)
        while !AtomicBool::load(&done, Ordering::SeqCst) {
            diesel::sql_query(&cut).execute(&mut admin).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
        }
    };
    let load = async {
        let one = || async {
            let mut seen = Vec::new();
            for _ in 0..60 {
                let r = app.get_as(&t, &path).await;
                seen.push((
                    r.status.as_u16(),
                    r.header("retry-after").map(str::to_owned),
                    r.body.clone(),
                ));
            }
            seen
        };
        let all = futures_util::future::join_all((0..6).map(|_| one())).await;
        done.store(true, Ordering::SeqCst);
        all.into_iter().flatten().collect::<Vec<_>>()
    };
    let ((), seen) = tokio::join!(cutter, load);
    let unavailable = seen.iter().filter(|(s, _, _)| *s == 503).count();
    for (status, retry_after, body) in &seen {
        match status {
            200 => assert!(body["items"].is_array()),
            503 => {
                assert_eq!(body["status"], 503, "{body}");
                assert_eq!(body["code"], "unavailable");
                assert_eq!(body["detail"], body["title"], "5xx bodies are generic");
                assert_eq!(retry_after.as_deref(), Some("5"));
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(unavailable > 0, "the cuts hit requests in flight");
    eprintln!("{} requests, {unavailable} answered 503", seen.len());
    // The pool heals: fresh connections serve the next request.
    app.get_as(&t, &path).await.ok(200);
    // The document says so: every 503 (and 429) problem names its Retry-After.
    let spec = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .ok(200)
        .clone();
    let mut documented = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for status in ["429", "503"] {
                // (/readyz's 503 is its readiness report, not a problem)
                let problem =
                    |r: &&serde_json::Value| r["content"].get("application/problem+json").is_some();
                if let Some(r) = op["responses"].get(status).filter(problem) {
                    let header = &r["headers"]["Retry-After"];
                    assert_eq!(header["schema"]["type"], "integer", "{status}: {r}");
                    documented += 1;
                }
            }
        }
    }
    assert!(documented > 150, "{documented} responses with Retry-After");
}
