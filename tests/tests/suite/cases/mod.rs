//! Cases end to end: filing through the channels with grid routing, clocks on
//! the district's working calendar (holidays and adjusted workdays loaded
//! through the API), the whole loop with pauses, extensions, ratings and
//! rework, illegal and concurrent steps, permissions per step, the sealed
//! reporter, work lists and counts.

mod filing;
mod lifecycle;
mod services;
mod setup;
mod work_lists;

use chrono::DateTime;
use onegrid_tests::{Reply, TestApp, at};
use serde_json::Value;

fn same_instant(v: &Value, s: &str) -> bool {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t.to_utc() == at(s))
}

async fn category(app: &TestApp, token: &str, code: &str) -> String {
    app.case_category(token, code).await
}

async fn file(app: &TestApp, token: &str, body: Value) -> Value {
    app.file_case(token, &body).await
}

async fn step(app: &TestApp, token: &str, case: &Value, body: Value) -> Reply {
    app.case_step(token, case, &body).await
}

async fn ok_step(app: &TestApp, token: &str, case: &Value, body: Value) -> Value {
    app.case_step_ok(token, case, &body).await
}

fn clock<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {case}"))
}

async fn events(app: &TestApp, token: &str, case: &Value) -> Vec<Value> {
    let reply = app
        .get_as(
            token,
            &format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap()),
        )
        .await;
    reply.ok(200).as_array().unwrap().clone()
}
