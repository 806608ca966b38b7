//! Idempotency-Key, problem+json on bad input, request ids.

use onegrid_tests::{TestApp, World};
use serde_json::json;

#[tokio::test]
async fn idempotency_key_replays_the_stored_response() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    let path = format!("/api/v1/streets/{}/communities", w.street_a);
    let body = json!({"code": "150203001005", "name": "重试社区"});
    let first = app.post_keyed(&t, &path, "k-1", &body).await;
    let first_body = first.ok(201).clone();
    let again = app.post_keyed(&t, &path, "k-1", &body).await;
    assert_eq!(again.ok(201), &first_body);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(
        app.db.count("communities").await,
        4,
        "one community created, not two"
    );

    // Same key, different request.
    let other = app
        .post_keyed(
            &t,
            &path,
            "k-1",
            &json!({"code": "150203001006", "name": "别的"}),
        )
        .await;
    other.problem(422, "idempotency_key_reused");
    // Keys are per caller: another user's identical key is independent.
    let t2 = app.token("d-admin").await;
    let theirs = app
        .post_keyed(
            &t2,
            &path,
            "k-1",
            &json!({"code": "150203001007", "name": "他的"}),
        )
        .await;
    theirs.ok(201);
    assert_eq!(app.db.count("communities").await, 5);
    // A failed create leaves the key unused.
    let failing = app
        .post_keyed(
            &t,
            &path,
            "k-2",
            &json!({"code": "150203001005", "name": "重复"}),
        )
        .await;
    failing.problem(409, "conflict");
    let fixed = app
        .post_keyed(
            &t,
            &path,
            "k-2",
            &json!({"code": "150203001008", "name": "修正"}),
        )
        .await;
    fixed.ok(201);
    app.post_keyed(&t, &path, "bad key with spaces", &body)
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_once() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    let path = format!("/api/v1/streets/{}/communities", w.street_a);
    let body = json!({"code": "150203001009", "name": "并发社区"});
    let calls = (0..6).map(|_| {
        app.post(&path)
            .bearer(&t)
            .header("idempotency-key", "same")
            .json(&body)
            .send()
    });
    let replies = futures_util::future::join_all(calls).await;
    let ids: Vec<&str> = replies
        .iter()
        .map(|r| r.ok(201)["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every replay names the one community"
    );
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.header("idempotency-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(app.db.count("communities").await, 4);
}

#[tokio::test]
async fn bad_input_is_problem_json_and_never_writes() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    let path = format!("/api/v1/streets/{}/communities", w.street_a);

    let r = app
        .post(&path)
        .bearer(&t)
        .raw("application/json", "{\"code\": ")
        .send()
        .await;
    r.problem(400, "malformed_json");
    let r = app
        .post_as(
            &t,
            &path,
            &json!({"code": "150203001010", "name": "a", "extra": 1}),
        )
        .await;
    assert!(
        r.problem(422, "validation_failed")["detail"]
            .as_str()
            .unwrap()
            .contains("extra")
    );
    let r = app
        .post_as(&t, &path, &json!({"code": 150203001010u64, "name": "a"}))
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post_as(&t, &path, &json!({"name": "missing code"}))
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post_as(
            &t,
            &path,
            &json!({"code": "150203001010", "name": "nul\u{0}byte"}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "name"
    );
    let r = app
        .post_as(&t, &path, &json!({"code": "150203001010", "name": ""}))
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post(&path)
        .bearer(&t)
        .raw("text/plain", "code=1")
        .send()
        .await;
    r.problem(415, "unsupported_media_type");
    let huge = format!(
        "{{\"code\": \"150203001010\", \"name\": \"{}\"}}",
        "x".repeat(70_000)
    );
    let r = app
        .post(&path)
        .bearer(&t)
        .raw("application/json", huge)
        .send()
        .await;
    r.problem(413, "payload_too_large");
    assert_eq!(app.db.count("communities").await, 3, "nothing was written");

    app.get_as(&t, "/api/v1/streets/not-a-uuid")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&t, "/api/v1/grids/123")
        .await
        .problem(400, "invalid_parameter");
    app.get_as(&t, "/api/v1/no-such-thing")
        .await
        .problem(404, "not_found");
    app.get_as(&t, &format!("/api/v1/grids/{}", uuid::Uuid::now_v7()))
        .await
        .problem(404, "not_found");
    let r = app
        .get_as(
            &t,
            &format!(
                "/api/v1/communities/{}/coverage?on=yesterday",
                w.community_a1
            ),
        )
        .await;
    r.problem(400, "invalid_parameter");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let r = app
        .get("/api/v1/streets")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await;
    assert_eq!(
        r.problem(401, "unauthenticated")["request_id"],
        "trace-abc-123"
    );
    let r = app
        .get("/healthz")
        .header("x-request-id", "bad id with spaces")
        .send()
        .await;
    let id = r.header("x-request-id").unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

/// State filters take only their enum's values: anything else is 400 naming
/// the parameter without repeating the value, and a good value filters.
#[tokio::test]
async fn state_filters_refuse_unknown_values_without_echoing_them() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    let d_admin = app.token("d-admin").await;
    let records = app.ledger_type_id(&worker, "organisations").await;
    let endpoint = uuid::Uuid::now_v7();
    let refused = [
        (
            &worker,
            "/api/v1/cases?status=received,zzbogus".to_owned(),
            "status",
        ),
        (
            &worker,
            format!("/api/v1/ledger-types/{records}/records?status=zzbogus"),
            "status",
        ),
        (
            &worker,
            format!("/api/v1/ledger-types/{records}/export?status=zzbogus"),
            "status",
        ),
        (
            &worker,
            "/api/v1/disputes?status=zzbogus".to_owned(),
            "status",
        ),
        (
            &a_admin,
            "/api/v1/whistles?status=zzbogus".to_owned(),
            "status",
        ),
        (
            &a_admin,
            "/api/v1/summonses?state=zzbogus".to_owned(),
            "state",
        ),
        (&d_admin, "/api/v1/jobs?state=zzbogus".to_owned(), "state"),
        (
            &d_admin,
            format!("/api/v1/webhook-endpoints/{endpoint}/deliveries?state=zzbogus"),
            "state",
        ),
    ];
    for (token, path, parameter) in refused {
        let r = app.get_as(token, &path).await;
        let detail = r.problem(400, "invalid_parameter")["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(parameter), "{path}: {detail}");
        assert!(!r.text.contains("zzbogus"), "{path} echoes: {}", r.text);
    }
    let general = app.case_category(&worker, "03.02").await;
    let filed = app
        .file_case(
            &worker,
            &json!({"channel": "hotline", "category_id": general, "grid_id": w.grid_a1_1,
                "title": "楼道堆物", "description": "楼道堆放杂物"}),
        )
        .await;
    let ids = |r: &onegrid_tests::Reply| -> Vec<String> {
        r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let received = app
        .get_as(&worker, "/api/v1/cases?status=received,accepted")
        .await;
    assert!(ids(&received).contains(&filed["id"].as_str().unwrap().to_owned()));
    let closed = app.get_as(&worker, "/api/v1/cases?status=closed").await;
    assert!(!ids(&closed).contains(&filed["id"].as_str().unwrap().to_owned()));
}
