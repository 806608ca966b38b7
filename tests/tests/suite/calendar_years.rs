//! Next year's working calendar: from 1 December a district without it is
//! told once (each district admin), readiness lists it while staying ready,
//! and a metric counts such districts; loading the year clears both.

use onegrid_tests::{TestApp, World};
use serde_json::{Value, json};

async fn notices(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app
        .get_as(token, "/api/v1/me/notifications?limit=200")
        .await;
    reply.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "calendar.next_year_missing")
        .cloned()
        .collect()
}

async fn missing_gauge(app: &TestApp) -> String {
    let text = app.get("/metrics").send().await.text;
    text.lines()
        .find(|l| l.starts_with("onegrid_calendar_next_year_missing_districts"))
        .unwrap_or_else(|| panic!("no calendar gauge in {text}"))
        .to_owned()
}

#[tokio::test]
async fn a_missing_next_year_is_reported_from_december_once() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    app.runner().ensure_schedules().await.unwrap();

    // 30 November, 09:00 China time: nothing is due yet.
    app.settle_at("2026-11-30T01:00:00Z").await;
    let ready = app.get("/readyz").send().await;
    let body = ready.ok(200);
    assert_eq!(
        body["calendar"],
        json!({"next_year": 2027, "due": false, "missing_districts": []})
    );
    assert!(notices(&app, &d_admin).await.is_empty());
    assert_eq!(
        missing_gauge(&app).await,
        "onegrid_calendar_next_year_missing_districts 0"
    );

    // 1 December: the district admin is told, readiness names the district.
    app.settle_at("2026-12-01T01:00:00Z").await;
    let told = notices(&app, &d_admin).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["body"]["year"], 2027);
    assert!(told[0]["title"].as_str().unwrap().contains("2027"));
    assert!(
        notices(&app, &a_admin).await.is_empty(),
        "street admins are not district admins"
    );
    let ready = app.get("/readyz").send().await;
    let body = ready.ok(200);
    assert_eq!(
        body["status"], "ready",
        "a missing year does not make us unready"
    );
    assert_eq!(
        body["calendar"],
        json!({"next_year": 2027, "due": true, "missing_districts": ["150203"]})
    );
    assert_eq!(
        missing_gauge(&app).await,
        "onegrid_calendar_next_year_missing_districts 1"
    );
    assert_eq!(app.db.count("calendar_warnings").await, 1);

    // The next days: still one notice.
    app.settle_at("2026-12-02T01:00:00Z").await;
    app.settle_at("2026-12-03T01:00:00Z").await;
    assert_eq!(notices(&app, &d_admin).await.len(), 1);

    // The district loads its 2027 days (a test list, not the official one).
    app.call(reqwest::Method::PUT, "/api/v1/calendar/2027")
        .bearer(&d_admin)
        .json(&json!({"days": [{"day": "2027-01-01", "kind": "holiday", "name": "测试元旦"}]}))
        .send()
        .await
        .ok(200);
    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.ok(200)["calendar"]["missing_districts"], json!([]));
    assert_eq!(
        missing_gauge(&app).await,
        "onegrid_calendar_next_year_missing_districts 0"
    );
    app.settle_at("2026-12-04T01:00:00Z").await;
    assert_eq!(notices(&app, &d_admin).await.len(), 1);
}
