//! The worker acting on case deadlines: reminders at 50 % and 75 %, one
//! escalation at 100 % recorded as a system event, nothing for stopped clocks
//! or closed cases, paused clocks waiting and firing after they resume.

use chrono::DateTime;
use onegrid_tests::{TestApp, World, at};
use onegrid_worker::runner::Pass;
use serde_json::{Value, json};

async fn inbox(app: &TestApp, user: &str) -> Vec<Value> {
    let token = app.token(user).await;
    let reply = app.get_as(&token, "/api/v1/me/notifications").await;
    reply.ok(200)["items"].as_array().unwrap().clone()
}

async fn step(app: &TestApp, token: &str, case: &Value, body: Value) -> Value {
    app.case_step_ok(token, case, &body).await
}

async fn gas_case(app: &TestApp, w: &World, token: &str) -> Value {
    let gas = app.case_category(token, "02.04").await;
    app.file_case(token, &json!({"channel": "hotline", "category_id": gas, "grid_id": w.grid_a1_1, "title": "燃气味", "description": "楼道有燃气味"}))
        .await
}

#[tokio::test]
async fn reminders_warnings_and_one_escalation_per_clock() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    // Log the others in before the clock moves (tokens are checked against real time).
    for user in ["a1-chief", "a1-admin"] {
        app.token(user).await;
    }
    // An emergency: response 60 min, resolution 120 min, round the clock.
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let case = gas_case(&app, &w, &worker).await;
    let case = step(&app, &worker, &case, json!({"step": "accept"})).await;
    app.clock.set(Some(at("2026-12-02T10:05:00+08:00")));
    step(
        &app,
        &worker,
        &case,
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
    )
    .await;
    assert_eq!(
        app.db
            .scalar("SELECT count(*) FROM jobs WHERE queue = 'sla'")
            .await,
        6,
        "three deadlines for each of the two clocks"
    );
    assert_eq!(
        app.db
            .scalar("SELECT count(*) FROM jobs WHERE queue = 'webhooks'")
            .await,
        3,
        "one webhook fan-out per case event (filed, accepted, dispatched)"
    );

    // 10:20: no deadline due; the three fan-outs find no endpoint and finish.
    let pass = app.tick_at("2026-12-02T10:20:00+08:00").await;
    assert_eq!(
        pass,
        Pass {
            completed: 3,
            ..Pass::default()
        }
    );
    assert_eq!(app.db.count("webhook_deliveries").await, 0);
    // 11:01: the stopped response clock's three deadlines complete silently;
    // the resolution clock's 50 % reminds the assignee.
    let pass = app.tick_at("2026-12-02T11:01:00+08:00").await;
    assert_eq!((pass.completed, pass.failed), (4, 0));
    let notes = inbox(&app, "a1-worker").await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["kind"], "case.warn_50");
    assert_eq!(notes[0]["body"]["case_id"], case["id"]);
    // 11:31: 75 % warns the assignee and the grid chief.
    app.tick_at("2026-12-02T11:31:00+08:00").await;
    assert_eq!(inbox(&app, "a1-worker").await.len(), 2);
    let chief = inbox(&app, "a1-chief").await;
    assert_eq!(
        (chief.len(), chief[0]["kind"].as_str()),
        (1, Some("case.warn_75"))
    );
    // 12:01: due - the case climbs one level, once, and the community admin is told.
    let pass = app.tick_at("2026-12-02T12:01:00+08:00").await;
    assert_eq!(pass.completed, 1);
    let now = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(now.ok(200)["escalation_level"], 1);
    let events = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap()),
        )
        .await;
    let escalations: Vec<Value> = events
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "escalate")
        .cloned()
        .collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        (
            escalations[0]["actor_kind"].as_str(),
            escalations[0]["data"]["level"].as_i64()
        ),
        (Some("system"), Some(1))
    );
    let admin = inbox(&app, "a1-admin").await;
    assert_eq!(
        (admin.len(), admin[0]["kind"].as_str()),
        (1, Some("case.due"))
    );
    // Later passes find only the escalation's webhook fan-out; acting on the
    // deadline again does nothing.
    assert_eq!(app.tick_at("2026-12-02T15:00:00+08:00").await.ran(), 1);
    assert_eq!(app.tick_at("2026-12-02T15:01:00+08:00").await.ran(), 0);
    assert_eq!(app.db.count("case_clock_alerts").await, 3);
    let clock_id = now.body["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "resolution")
        .unwrap()["id"]
        .clone();
    let _ = clock_id;
    assert_eq!(now.body["escalation_level"], 1);
    assert_eq!(
        inbox(&app, "a1-admin").await.len(),
        1,
        "escalated exactly once"
    );
}

#[tokio::test]
async fn paused_clocks_wait_and_closed_cases_stay_quiet() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let paused = gas_case(&app, &w, &worker).await;
    let closed = gas_case(&app, &w, &worker).await;
    let mut p = paused;
    for s in [
        json!({"step": "accept"}),
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
        json!({"step": "sign"}),
        json!({"step": "wait_for_resident"}),
    ] {
        p = step(&app, &worker, &p, s).await;
    }
    let mut c = closed;
    for s in [
        json!({"step": "accept"}),
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
        json!({"step": "sign"}),
        json!({"step": "submit_result"}),
        json!({"step": "verify"}),
        json!({"step": "resolve"}),
    ] {
        c = step(&app, &worker, &c, s).await;
    }
    // 11:01: the paused clock's 50 % waits; the resolved case's clocks are stopped.
    let pass = app.tick_at("2026-12-02T11:01:00+08:00").await;
    assert!(pass.snoozed >= 1, "{pass:?}");
    assert!(inbox(&app, "a1-worker").await.is_empty());
    // Resumed at 11:30 after 90 minutes of waiting: 50 % moves to 12:30.
    app.clock.set(Some(at("2026-12-02T11:30:00+08:00")));
    let p = step(&app, &worker, &p, json!({"step": "resume"})).await;
    let resolution = p["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "resolution")
        .unwrap()
        .clone();
    assert_eq!(resolution["paused_minutes"], 90);
    // 12:00: only the resolved case's remaining deadlines come due; they complete silently.
    let pass = app.tick_at("2026-12-02T12:00:00+08:00").await;
    assert_eq!(
        (pass.completed, pass.snoozed),
        (3, 0),
        "two deadlines and the resume's webhook fan-out"
    );
    assert!(inbox(&app, "a1-worker").await.is_empty(), "not yet");
    app.tick_at("2026-12-02T12:31:00+08:00").await;
    let notes = inbox(&app, "a1-worker").await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["body"]["case_id"], p["id"]);
    // Much later: the paused-then-resumed case escalates; the resolved one never did.
    app.tick_at("2026-12-02T18:00:00+08:00").await;
    let alerts_for_closed = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut owner = app.db.owner().await;
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM case_clock_alerts WHERE case_id = '{}'",
            c["id"].as_str().unwrap()
        ))
        .get_result::<N>(&mut owner)
        .await
        .unwrap()
        .n
    };
    assert_eq!(alerts_for_closed, 0);
    let after = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(after.ok(200)["escalation_level"], 1);
}

async fn escalations(app: &TestApp, token: &str, case: &Value) -> Vec<(i64, String)> {
    let events = app
        .get_as(
            token,
            &format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap()),
        )
        .await;
    events
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "escalate")
        .map(|e| {
            (
                e["data"]["level"].as_i64().unwrap(),
                e["data"]["clock"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn milestones_extensions_and_rework_clocks_reach_their_deadlines_too() {
    let (app, w) = TestApp::with_world().await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    for user in ["a1-admin", "a-admin"] {
        app.token(user).await;
    }
    let water = app.case_category(&worker, "02.01").await;
    app.clock.set(Some(at("2026-12-02T10:00:00+08:00")));
    let case = app
        .file_case(
            &worker,
            &json!({"channel": "face_to_face", "category_id": water, "grid_id": w.grid_a1_1,
                "title": "停水", "description": "3号楼停水"}),
        )
        .await;
    // Accepting starts the milestones: 控制 in 3 h, 抢修 in 8 h (calendar time).
    let case = step(&app, &worker, &case, json!({"step": "accept"})).await;
    let case = step(
        &app,
        &worker,
        &case,
        json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
    )
    .await;
    let case = step(&app, &worker, &case, json!({"step": "sign"})).await;
    // 控制 is reached in time; the resolution clock (24 h) gets 60 more minutes.
    app.clock.set(Some(at("2026-12-02T12:30:00+08:00")));
    let reached = app
        .post_at(
            &worker,
            &format!("/api/v1/cases/{}/milestones", case["id"].as_str().unwrap()),
            &format!("\"{}\"", case["version"]),
            &json!({"name": "控制"}),
        )
        .await;
    let case = reached.ok(201).clone();
    let case = step(
        &app,
        &worker,
        &case,
        json!({"step": "request_extension", "reason": "需更换主阀门", "extension_minutes": 60}),
    )
    .await;
    let case = step(
        &app,
        &chief,
        &case,
        json!({"step": "approve_extension", "extension_minutes": 60}),
    )
    .await;

    // 13:01: the met milestone's deadline does nothing.
    app.settle_at("2026-12-02T13:01:00+08:00").await;
    assert!(escalations(&app, &worker, &case).await.is_empty());
    // 18:01: 抢修 was not reached - one escalation, by the milestone clock.
    app.settle_at("2026-12-02T18:01:00+08:00").await;
    assert_eq!(
        escalations(&app, &worker, &case).await,
        [(1, "milestone".to_owned())]
    );
    // The resolution clock was due at 10:00 the next day before the
    // extension; nothing happens then, only at 11:00.
    app.settle_at("2026-12-03T10:30:00+08:00").await;
    assert_eq!(escalations(&app, &worker, &case).await.len(), 1);
    app.settle_at("2026-12-03T11:01:00+08:00").await;
    assert_eq!(
        escalations(&app, &worker, &case).await,
        [(1, "milestone".to_owned()), (2, "resolution".to_owned())]
    );

    // Resolved, rated 3: the rework clock runs, and escalates when it runs out.
    let case = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await
        .ok(200)
        .clone();
    let case = step(&app, &worker, &case, json!({"step": "submit_result"})).await;
    let case = step(&app, &worker, &case, json!({"step": "verify"})).await;
    let case = step(&app, &worker, &case, json!({"step": "resolve"})).await;
    let case = step(&app, &worker, &case, json!({"step": "rate", "score": 3})).await;
    let rework = case["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "rework")
        .unwrap()
        .clone();
    let due = DateTime::parse_from_rfc3339(rework["due_at"].as_str().unwrap()).unwrap();
    let before = (due - chrono::Duration::minutes(1)).to_rfc3339();
    app.settle_at(&before).await;
    assert_eq!(escalations(&app, &worker, &case).await.len(), 2);
    let after = (due + chrono::Duration::minutes(1)).to_rfc3339();
    app.settle_at(&after).await;
    assert_eq!(
        escalations(&app, &worker, &case).await,
        [
            (1, "milestone".to_owned()),
            (2, "resolution".to_owned()),
            (3, "rework".to_owned())
        ]
    );
    // Every stage of every clock acted at most once.
    let doubled: i64 = app
        .db
        .scalar("SELECT count(*) FROM (SELECT clock_id, stage FROM case_clock_alerts GROUP BY 1, 2 HAVING count(*) > 1) d")
        .await;
    assert_eq!(doubled, 0);
}
