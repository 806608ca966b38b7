//! Idempotency-Key, problem+json on bad input, request ids.

use onegrid_tests::{TestApp, World};
use serde_json::json;

#[tokio::test]
async fn idempotency_key_replays_the_stored_response() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let t = app.token("a-admin").await;
    let path = format!("/api/v1/streets/{}/communities", w.street_a);
    let body = json!({"code": "150203001005", "name": "重试社区"});
    let first = app
        .post(&path)
        .bearer(&t)
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await;
    let first_body = first.ok(201).clone();
    let again = app
        .post(&path)
        .bearer(&t)
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await;
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
        .post(&path)
        .bearer(&t)
        .header("idempotency-key", "k-1")
        .json(&json!({"code": "150203001006", "name": "别的"}))
        .send()
        .await;
    other.problem(422, "idempotency_key_reused");
    // Keys are per caller: another user's identical key is independent.
    let t2 = app.token("d-admin").await;
    let theirs = app
        .post(&path)
        .bearer(&t2)
        .header("idempotency-key", "k-1")
        .json(&json!({"code": "150203001007", "name": "他的"}))
        .send()
        .await;
    theirs.ok(201);
    assert_eq!(app.db.count("communities").await, 5);
    // A failed create leaves the key unused.
    let failing = app
        .post(&path)
        .bearer(&t)
        .header("idempotency-key", "k-2")
        .json(&json!({"code": "150203001005", "name": "重复"}))
        .send()
        .await;
    failing.problem(409, "conflict");
    let fixed = app
        .post(&path)
        .bearer(&t)
        .header("idempotency-key", "k-2")
        .json(&json!({"code": "150203001008", "name": "修正"}))
        .send()
        .await;
    fixed.ok(201);
    app.post(&path)
        .bearer(&t)
        .header("idempotency-key", "bad key with spaces")
        .json(&body)
        .send()
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_once() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
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
    let app = TestApp::start().await;
    let w = World::build(&app).await;
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
        .post(&path)
        .bearer(&t)
        .json(&json!({"code": "150203001010", "name": "a", "extra": 1}))
        .send()
        .await;
    assert!(
        r.problem(422, "validation_failed")["detail"]
            .as_str()
            .unwrap()
            .contains("extra")
    );
    let r = app
        .post(&path)
        .bearer(&t)
        .json(&json!({"code": 150203001010u64, "name": "a"}))
        .send()
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post(&path)
        .bearer(&t)
        .json(&json!({"name": "missing code"}))
        .send()
        .await;
    r.problem(422, "validation_failed");
    let r = app
        .post(&path)
        .bearer(&t)
        .json(&json!({"code": "150203001010", "name": "nul\u{0}byte"}))
        .send()
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "name"
    );
    let r = app
        .post(&path)
        .bearer(&t)
        .json(&json!({"code": "150203001010", "name": ""}))
        .send()
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

    app.get("/api/v1/streets/not-a-uuid")
        .bearer(&t)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/grids/123")
        .bearer(&t)
        .send()
        .await
        .problem(400, "invalid_parameter");
    app.get("/api/v1/no-such-thing")
        .bearer(&t)
        .send()
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/grids/{}", uuid::Uuid::now_v7()))
        .bearer(&t)
        .send()
        .await
        .problem(404, "not_found");
    let r = app
        .get(&format!(
            "/api/v1/communities/{}/coverage?on=yesterday",
            w.community_a1
        ))
        .bearer(&t)
        .send()
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
