//! Webhooks end to end against a real receiver on 127.0.0.2 (opened with
//! ONEGRID_WEBHOOK_ALLOW_CIDRS): registration and its SSRF checks, signed
//! deliveries of only the subscribed events of only the endpoint's street,
//! payloads without personal fields, retries on the schedule honouring
//! Retry-After, the delivery log, replays, secret rotation with two
//! signatures, redirects not followed, endpoints disabled after failing,
//! and an address refused at send time once the allow list is gone.

use onegrid_domain::webhooks::sign;
use onegrid_tests::receiver::{Received, Receiver};
use onegrid_tests::{TestApp, World, at};
use serde_json::{Value, json};

const ALLOW: (&str, &str) = ("ONEGRID_WEBHOOK_ALLOW_CIDRS", "127.0.0.2/32");

async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    app.post_as(token, "/api/v1/webhook-endpoints", &body)
        .await
        .ok(201)
        .clone()
}

fn verifies(r: &Received, secret: &str) -> bool {
    let ts: i64 = r.timestamp.parse().unwrap();
    let expected = sign(secret, &r.id, ts, r.body.as_bytes()).unwrap();
    r.signature.split(' ').any(|s| s == expected)
}

async fn gas_case(app: &TestApp, w: &World, token: &str) -> Value {
    let gas = app.case_category(token, "02.04").await;
    app.file_case(
        token,
        &json!({"channel": "face_to_face", "category_id": gas, "grid_id": w.grid_a1_1,
            "title": "王芳家燃气味", "description": "13900001234 王芳 反映楼道有燃气味",
            "resident_id": w.resident_a,
            "reporter": {"name": "王芳", "phone": "13900001234"}}),
    )
    .await
}

#[tokio::test]
async fn registration_refuses_inward_urls_foreign_streets_and_bad_filters() {
    let app = TestApp::start_with(&[ALLOW]).await;
    let w = World::build(&app).await;
    let a_admin = app.token("a-admin").await;
    let a1_worker = app.token("a1-worker").await;
    let refused = |url: &str| json!({"url": url, "street_id": w.street_a});
    for url in [
        "http://hooks.example.cn/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/latest/meta-data/",
        "https://10.0.0.8/x",
        "https://[::1]/x",
        "https://user:pw@hooks.example.cn/x",
        "http://127.0.0.1:9/x",
        "not a url",
    ] {
        let r = app
            .post_as(&a_admin, "/api/v1/webhook-endpoints", &refused(url))
            .await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            "url",
            "{url}"
        );
    }
    let bad_types = app
        .post_as(
            &a_admin,
            "/api/v1/webhook-endpoints",
            &json!({"url": "https://hooks.example.cn/x", "street_id": w.street_a,
            "event_types": ["case.created", "case.deleted", "case.created"]}),
        )
        .await;
    let fields: Vec<&str> = bad_types.problem(422, "validation_failed")["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["event_types[1]", "event_types[2]"]);
    app.post_as(
        &a_admin,
        "/api/v1/webhook-endpoints",
        &json!({"url": "https://hooks.example.cn/x", "street_id": w.street_a, "secret": "mine"}),
    )
    .await
    .problem(422, "validation_failed");
    // A street admin registers for their street only; grid workers not at all.
    app.post_as(
        &a_admin,
        "/api/v1/webhook-endpoints",
        &json!({"url": "https://hooks.example.cn/x"}),
    )
    .await
    .problem(403, "forbidden");
    app.post_as(
        &a_admin,
        "/api/v1/webhook-endpoints",
        &json!({"url": "https://hooks.example.cn/x", "street_id": w.street_b}),
    )
    .await
    .problem(422, "invalid_reference");
    app.post_as(
        &a1_worker,
        "/api/v1/webhook-endpoints",
        &json!({"url": "https://hooks.example.cn/x", "street_id": w.street_a}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(app.db.count("webhook_endpoints").await, 0);

    // A good one: the secret is shown once, never read back.
    let e = register(
        &app,
        &a_admin,
        json!({"url": "https://hooks.example.cn/onegrid", "street_id": w.street_a, "description": "区指挥中心"}),
    )
    .await;
    assert!(e["secret"].as_str().unwrap().starts_with("whsec_"));
    let read = app
        .get_as(
            &a_admin,
            &format!("/api/v1/webhook-endpoints/{}", e["id"].as_str().unwrap()),
        )
        .await;
    assert!(read.ok(200).get("secret").is_none());
    assert!(!read.text.contains(e["secret"].as_str().unwrap()));
    assert_eq!(read.body["event_types"], json!([]));
    let sealed: i64 = app
        .db
        .scalar(&format!(
            "SELECT count(*) FROM webhook_endpoints WHERE position('{}'::bytea IN secret_sealed) > 0",
            e["secret"].as_str().unwrap()
        ))
        .await;
    assert_eq!(sealed, 0, "the secret is stored sealed");
}

#[tokio::test]
async fn events_are_signed_filtered_retried_logged_replayed_and_rotated() {
    let app = TestApp::start_with(&[ALLOW]).await;
    let w = World::build(&app).await;
    let (a_admin, b_admin, d_admin) = (
        app.token("a-admin").await,
        app.token("b-admin").await,
        app.token("d-admin").await,
    );
    let worker = app.token("a1-worker").await;
    let rx = Receiver::start();
    // Street A's endpoint wants creations and escalations; street B's wants
    // everything of B; the district's wants creations anywhere.
    let a = register(
        &app,
        &a_admin,
        json!({"url": format!("{}/a", rx.base), "street_id": w.street_a,
            "event_types": ["case.created", "case.escalated"]}),
    )
    .await;
    register(
        &app,
        &b_admin,
        json!({"url": format!("{}/b", rx.base), "street_id": w.street_b}),
    )
    .await;
    let d = register(
        &app,
        &d_admin,
        json!({"url": format!("{}/d", rx.base), "event_types": ["case.created"]}),
    )
    .await;
    assert!(d["street_id"].is_null());
    // The street admin sees their street's endpoint only; the district admin all three.
    let listed = |token: String| {
        let app = &app;
        async move {
            app.get_as(&token, "/api/v1/webhook-endpoints")
                .await
                .ok(200)["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(listed(a_admin.clone()).await, 1);
    assert_eq!(listed(d_admin.clone()).await, 3);

    rx.answer("/a", vec![(503, Some("120"), None), (500, None, None)]);
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let case = gas_case(&app, &w, &worker).await;
    app.case_step_ok(&worker, &case, &json!({"step": "accept"}))
        .await;

    // 10:00: first attempt, 503 asking for two minutes.
    app.settle_at("2026-12-02T10:00:00+08:00").await;
    let got = rx.got("/a");
    assert_eq!(got.len(), 1, "the accept (case.updated) is not subscribed");
    let first = &got[0];
    assert!(verifies(first, a["secret"].as_str().unwrap()));
    assert_eq!(
        first.timestamp,
        at("2026-12-02T10:00:00+08:00").timestamp().to_string()
    );
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["type"], "case.created");
    assert_eq!(body["data"]["case"]["id"], case["id"]);
    assert_eq!(body["data"]["case"]["street_id"], w.street_a.to_string());
    for private in [
        "王芳",
        "13900001234",
        "燃气味",
        "resident",
        &w.resident_a.to_string(),
    ] {
        assert!(!first.body.contains(private), "payload carries {private}");
    }
    // The district endpoint got the creation; street B's endpoint nothing.
    assert_eq!(rx.got("/d").len(), 1);
    assert!(rx.got("/b").is_empty());

    // Retry-After is honoured: nothing at 10:01 (the schedule alone says 5 s).
    app.settle_at("2026-12-02T10:01:00+08:00").await;
    assert_eq!(rx.got("/a").len(), 1);
    app.settle_at("2026-12-02T10:02:01+08:00").await;
    assert_eq!(rx.got("/a").len(), 2, "500: next in five minutes");
    app.settle_at("2026-12-02T10:05:00+08:00").await;
    assert_eq!(rx.got("/a").len(), 2);
    app.settle_at("2026-12-02T10:07:02+08:00").await;
    let got = rx.got("/a");
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.id == first.id && r.body == first.body),
        "same message every attempt"
    );

    // The log: three attempts with their statuses, delivered.
    let a_id = a["id"].as_str().unwrap();
    let log = app
        .get_as(
            &a_admin,
            &format!("/api/v1/webhook-endpoints/{a_id}/deliveries"),
        )
        .await;
    let deliveries = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["event_type"], "case.created");
    assert_eq!(deliveries[0]["event_id"].as_str(), Some(first.id.as_str()));
    let delivery_path = format!(
        "/api/v1/webhook-deliveries/{}",
        deliveries[0]["id"].as_str().unwrap()
    );
    let detail = app.get_as(&a_admin, &delivery_path).await;
    let detail = detail.ok(200).clone();
    let statuses: Vec<i64> = detail["attempts_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [503, 500, 204]);
    assert_eq!(detail["attempts_log"][0]["response"], "answer 503");
    assert_eq!(detail["body"]["type"], "case.created");
    // Street B's admin cannot read it.
    app.get_as(&b_admin, &delivery_path)
        .await
        .problem(404, "not_found");

    // Replay: the same message once more; a second replay while pending is 409.
    let replay = format!("{delivery_path}/replay");
    let replayed = app.post(&replay).bearer(&a_admin).send().await;
    assert_eq!(replayed.ok(200)["state"], "pending");
    app.post(&replay)
        .bearer(&a_admin)
        .send()
        .await
        .problem(409, "conflict");
    app.settle_at("2026-12-02T10:08:00+08:00").await;
    let got = rx.got("/a");
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].id, first.id);
    let detail = app.get_as(&a_admin, &delivery_path).await;
    assert_eq!(
        (
            detail.ok(200)["state"].as_str(),
            detail.body["replays"].as_i64()
        ),
        (Some("delivered"), Some(1))
    );

    // Rotation: for a day both secrets sign; the new one is not the old one.
    let rotated = app
        .post(&format!("/api/v1/webhook-endpoints/{a_id}/rotate-secret"))
        .bearer(&a_admin)
        .send()
        .await;
    let new_secret = rotated.ok(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, a["secret"].as_str().unwrap());
    gas_case(&app, &w, &worker).await;
    app.settle_at("2026-12-02T10:09:00+08:00").await;
    let last = rx.got("/a").pop().unwrap();
    assert_eq!(last.signature.split(' ').count(), 2);
    assert!(verifies(&last, &new_secret));
    assert!(verifies(&last, a["secret"].as_str().unwrap()));
    // A day later only the new one signs.
    app.clock.set(Some(at("2026-12-03T10:10:00+08:00")));
    gas_case(&app, &w, &worker).await;
    app.settle_at("2026-12-03T10:10:00+08:00").await;
    let last = rx.got("/a").pop().unwrap();
    assert_eq!(last.signature.split(' ').count(), 1);
    assert!(verifies(&last, &new_secret));
    assert!(!verifies(&last, a["secret"].as_str().unwrap()));
}

#[tokio::test]
async fn redirects_are_not_followed_failing_endpoints_are_disabled_and_inward_sends_refused() {
    let app = TestApp::start_with(&[ALLOW, ("ONEGRID_WEBHOOK_DISABLE_AFTER_HOURS", "1")]).await;
    let w = World::build(&app).await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let rx = Receiver::start();
    let e = register(
        &app,
        &a_admin,
        json!({"url": format!("{}/a", rx.base), "street_id": w.street_a, "event_types": ["case.created"]}),
    )
    .await;
    let e_path = format!("/api/v1/webhook-endpoints/{}", e["id"].as_str().unwrap());
    rx.answer(
        "/a",
        vec![
            (302, None, Some(format!("{}/elsewhere", rx.base))),
            (500, None, None),
            (500, None, None),
            (500, None, None),
            (500, None, None),
        ],
    );
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    gas_case(&app, &w, &worker).await;
    for when in [
        "2026-12-02T10:00:00+08:00",
        "2026-12-02T10:00:06+08:00",
        "2026-12-02T10:05:07+08:00",
        "2026-12-02T10:35:08+08:00",
    ] {
        app.settle_at(when).await;
    }
    assert_eq!(rx.got("/a").len(), 4);
    assert!(
        rx.got("/elsewhere").is_empty(),
        "the redirect was not followed"
    );
    let endpoint = app.get_as(&a_admin, &e_path).await;
    assert_eq!(
        endpoint.ok(200)["enabled"],
        true,
        "failing for 35 minutes only"
    );
    assert_eq!(endpoint.body["failing_since"], "2026-12-02T02:00:00Z");
    // Failing for over an hour: the fifth attempt disables the endpoint.
    app.settle_at("2026-12-02T12:35:09+08:00").await;
    assert_eq!(rx.got("/a").len(), 5);
    let endpoint = app.get_as(&a_admin, &e_path).await;
    assert_eq!(endpoint.ok(200)["enabled"], false);
    assert!(
        endpoint.body["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed since")
    );
    let deliveries = app
        .get_as(&a_admin, &format!("{e_path}/deliveries?state=failed"))
        .await;
    let failed = deliveries.ok(200)["items"][0].clone();
    assert_eq!(failed["attempts"], 5);
    let detail = app
        .get_as(
            &a_admin,
            &format!(
                "/api/v1/webhook-deliveries/{}",
                failed["id"].as_str().unwrap()
            ),
        )
        .await;
    assert!(
        detail.ok(200)["attempts_log"][0]["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    // Disabled: new events make no delivery; a replay is refused until it is switched on.
    gas_case(&app, &w, &worker).await;
    app.settle_at("2026-12-02T12:40:00+08:00").await;
    assert_eq!(rx.got("/a").len(), 5);
    assert_eq!(app.db.count("webhook_deliveries").await, 1);
    app.post(&format!(
        "/api/v1/webhook-deliveries/{}/replay",
        failed["id"].as_str().unwrap()
    ))
    .bearer(&a_admin)
    .send()
    .await
    .problem(409, "conflict");
    let version = endpoint.body["version"].as_i64().unwrap();
    let on = app
        .patch_at(
            &a_admin,
            &e_path,
            &format!("\"{version}\""),
            &json!({"enabled": true}),
        )
        .await;
    assert_eq!(
        (
            on.ok(200)["enabled"].as_bool(),
            on.body["failing_since"].is_null()
        ),
        (Some(true), true)
    );

    // The operator removes the allow list: the stored URL is refused at send
    // time and the receiver hears nothing more.
    let app = app.restart_with(&[]).await;
    app.clock.set(Some(at("2026-12-02T13:00:00+08:00")));
    gas_case(&app, &w, &worker).await;
    app.settle_at("2026-12-02T13:00:00+08:00").await;
    assert_eq!(rx.got("/a").len(), 5);
    let refused = app
        .get_as(&a_admin, &format!("{e_path}/deliveries?limit=1"))
        .await;
    let latest = refused.ok(200)["items"][0].clone();
    assert_eq!(
        (latest["state"].as_str(), latest["attempts"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(
        latest["last_error"]
            .as_str()
            .unwrap()
            .starts_with("refused")
    );
}

/// Counts the delivery jobs waiting.
async fn deliveries_waiting(app: &TestApp) -> i64 {
    app.db
        .scalar("SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver' AND state = 'available'")
        .await
}

/// A live worker keeps its leases while a slow receiver holds up its batch,
/// so a second worker ticking all the while runs none of its jobs again; a
/// dead worker's claimed jobs are rescued after their backoff and delivered once.
#[tokio::test]
async fn a_live_workers_deliveries_run_once_and_a_dead_workers_are_rescued() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = TestApp::start_with(&[ALLOW]).await;
    let w = World::build(&app).await;
    let a_admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let rx = Receiver::start();
    register(
        &app,
        &a_admin,
        json!({"url": format!("{}/slow", rx.base), "street_id": w.street_a,
            "event_types": ["case.created"]}),
    )
    .await;
    let runner = |id: &str| {
        let mut r = app.runner();
        r.worker_id = id.into();
        r.lease = chrono::Duration::seconds(2);
        r.concurrency = 2;
        r
    };
    let (live, rival) = (runner("live"), runner("rival"));
    let running = AtomicBool::new(false);
    for _ in 0..6 {
        gas_case(&app, &w, &worker).await;
    }
    // The fan-out pass queues six deliveries.
    live.tick(&running).await.unwrap();
    assert_eq!(deliveries_waiting(&app).await, 6);

    // Each answer takes a second: two at a time, the batch outlives its 2 s lease.
    rx.delay(std::time::Duration::from_secs(1));
    let done = AtomicBool::new(false);
    let (first, rivals) = tokio::join!(
        async {
            let pass = live.tick(&running).await.unwrap();
            done.store(true, Ordering::SeqCst);
            pass
        },
        async {
            // The rival starts once the live worker holds the six leases.
            while app
                .db
                .scalar("SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver' AND state = 'running'")
                .await
                < 6
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let mut passes = Vec::new();
            while !done.load(Ordering::SeqCst) {
                passes.push(rival.tick(&running).await.unwrap());
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            passes
        }
    );
    assert_eq!(first.completed, 6, "{first:?}");
    assert!(rivals.len() > 10, "the rival ticked throughout");
    assert!(
        rivals.iter().all(|p| p.rescued == 0 && p.ran() == 0),
        "{rivals:?}"
    );
    let mut ids: Vec<String> = rx.got("/slow").into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 6, "each delivery sent once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);

    // A worker claims two deliveries and dies (it never beats nor sends).
    rx.delay(std::time::Duration::ZERO);
    for _ in 0..2 {
        gas_case(&app, &w, &worker).await;
    }
    live.tick(&running).await.unwrap();
    let now = app.clock.now();
    let claimed = app
        .worker_db()
        .on_queue(|c| {
            Box::pin(onegrid_store::integrations::jobs::claim(
                c,
                &[onegrid_store::integrations::job_kinds::WEBHOOK_QUEUE],
                10,
                "dead",
                chrono::Duration::seconds(2),
                now,
            ))
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        rival.tick(&running).await.unwrap().rescued,
        0,
        "lease still live"
    );
    // Past its lease the rival rescues them; they wait their backoff, then go once.
    app.clock.set(Some(now + chrono::Duration::seconds(3)));
    let rescue = rival.tick(&running).await.unwrap();
    assert_eq!((rescue.rescued, rescue.completed), (2, 0));
    app.clock.set(Some(now + chrono::Duration::seconds(6)));
    assert_eq!(rival.tick(&running).await.unwrap().completed, 2);
    let mut ids: Vec<String> = rx.got("/slow").into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 8);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "the rescued deliveries went once each");
}
