//! The half-monthly needs meeting over two cycles with an injected clock:
//! the schedule moves a holiday meeting to the next working day, the worker
//! creates each meeting once with its agenda (needs nobody owns, untracked
//! patrol findings, cases open too long, the last meeting's items) three days
//! ahead and reminds the invited staff; a decision becomes a service item;
//! the next meeting reports back exactly those items.

use onegrid_tests::{TestApp, at};
use serde_json::{Value, json};

async fn meetings(app: &TestApp, token: &str, community: &str) -> Vec<Value> {
    let r = app
        .get_as(
            token,
            &format!("/api/v1/needs-meetings?community_id={community}"),
        )
        .await;
    r.ok(200).as_array().unwrap().clone()
}

fn agenda(m: &Value) -> Vec<(String, String)> {
    m["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["case_id"]
                    .as_str()
                    .or(a["finding_id"].as_str())
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn two_half_month_cycles_close_the_loop() {
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let admin = app.token("a1-admin").await;
    let worker = app.token("a1-worker").await;
    let chief = app.token("a1-chief").await;
    app.load_test_calendar(&d_admin).await;
    let community = w.community_a1.to_string();
    let noise = app.case_category(&worker, "03.02").await;

    // 30 November: a case dispatched (it will be open too long by mid-December).
    app.clock.set(Some(at("2026-11-30T10:00:00+08:00")));
    let old = app
        .file_case(
            &worker,
            &json!({"channel": "hotline", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "广场舞噪声", "description": "晚间广场舞扰民"}),
        )
        .await;
    let old = app
        .case_step_ok(&worker, &old, &json!({"step": "accept"}))
        .await;
    app.case_step_ok(
        &worker,
        &old,
        &json!({"step": "dispatch", "assignee_user_id": w.user("a1-worker")}),
    )
    .await;

    // 1 December: the community meets on the 7th and 16th at 09:30, the
    // agenda three days ahead. The 7th is a holiday: the 8th.
    app.clock.set(Some(at("2026-12-01T10:00:00+08:00")));
    let path = format!("/api/v1/communities/{community}/needs-meeting-schedule");
    let bad = app
        .call(reqwest::Method::PUT, &path)
        .bearer(&admin)
        .json(&json!({"days": [0], "hour": 9, "minute": 30, "agenda_days_before": 30}))
        .send()
        .await;
    assert_eq!(
        bad.problem(422, "validation_failed")["errors"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.call(reqwest::Method::PUT, &path)
        .bearer(&worker)
        .json(&json!({"days": [7, 16], "hour": 9, "minute": 30}))
        .send()
        .await
        .problem(403, "forbidden");
    let schedule = app
        .call(reqwest::Method::PUT, &path)
        .bearer(&admin)
        .json(&json!({"days": [7, 16], "hour": 9, "minute": 30, "agenda_days_before": 3}))
        .send()
        .await;
    let schedule = schedule.ok(200).clone();
    assert_eq!(
        (
            schedule["next_run_at"].as_str(),
            schedule["lead_minutes"].as_i64()
        ),
        (Some("2026-12-08T01:30:00Z"), Some(3 * 24 * 60))
    );

    // Before the first meeting: a need nobody owns and an untracked finding.
    let unowned = app
        .file_case(
            &worker,
            &json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
            "title": "楼道堆物", "description": "3单元楼道堆放杂物"}),
        )
        .await;
    let log = app
        .post_as(
            &worker,
            "/api/v1/patrol-logs",
            &json!({"grid_id": w.grid_a1_1}),
        )
        .await;
    let log_id = log.created_id();
    let finding = app
        .post_as(
            &worker,
            &format!("/api/v1/patrol-logs/{log_id}/findings"),
            &json!({"description": "健身器材松动"}),
        )
        .await;
    let finding_id = finding.created_id();

    // Friday 4 December: not yet. Saturday 5 December 09:30 (three days
    // before the 8th): the meeting, its agenda, the reminders - once.
    app.settle_at("2026-12-04T10:00:00+08:00").await;
    assert!(meetings(&app, &admin, &community).await.is_empty());
    app.settle_at("2026-12-05T09:30:05+08:00").await;
    app.settle_at("2026-12-05T12:00:00+08:00").await;
    let list = meetings(&app, &admin, &community).await;
    assert_eq!(list.len(), 1, "created once");
    let first = list[0].clone();
    assert_eq!(first["scheduled_for"], "2026-12-08T01:30:00Z");
    assert_eq!(
        agenda(&first),
        [
            (
                "unowned_need".to_owned(),
                unowned["id"].as_str().unwrap().to_owned()
            ),
            ("untracked_finding".to_owned(), finding_id.clone()),
        ],
        "the dispatched case is owned and not yet open too long"
    );
    for token in [&admin, &worker, &chief] {
        let r = app
            .get_as(token, "/api/v1/me/notifications?limit=200")
            .await;
        let invited = r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "meeting.invited")
            .count();
        assert_eq!(invited, 1);
    }

    // Tuesday 8 December, the meeting: one decision, then closed.
    app.clock.set(Some(at("2026-12-08T09:40:00+08:00")));
    let meeting_path = format!("/api/v1/needs-meetings/{}", first["id"].as_str().unwrap());
    let decided = app.post_as(&admin, &format!("{meeting_path}/decisions"), &json!({"grid_id": w.grid_a1_1, "category_id": noise, "title": "更换楼道照明",
            "description": "3号楼楼道灯损坏，由物业更换", "owner_user_id": w.user("a1-worker"), "due_on": "2026-12-15"})).await;
    decided.ok(201);
    // The patrol finding on the agenda becomes a service item too, linked to it.
    let decided = app
        .post_as(
            &admin,
            &format!("{meeting_path}/decisions"),
            &json!({"grid_id": w.grid_a1_1, "category_id": noise, "title": "健身器材维修",
            "description": "健身器材松动，由社区维修", "owner_user_id": w.user("a1-worker"),
            "due_on": "2026-12-15", "finding_id": finding_id}),
        )
        .await;
    let decided = decided.ok(201).clone();
    let made: Vec<String> = decided["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(made.len(), 2);
    let item = made[0].clone();
    let finding_item = made[1].clone();
    // The owner, a grid worker, opens the meeting of their grid's community
    // and finds it in the list (meeting.read reaches the enclosing community);
    // a grid worker of the street's other community does not.
    let opened = app.get_as(&worker, &meeting_path).await;
    let owned: Vec<&str> = opened.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["owner_id"] == w.user("a1-worker").to_string())
        .map(|i| i["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(owned, [item.as_str(), finding_item.as_str()]);
    let listed = meetings(&app, &worker, &community).await;
    assert!(listed.iter().any(|m| m["id"] == first["id"]));
    let elsewhere = app
        .staff(
            &d_admin,
            "a2-worker",
            "grid_worker",
            &json!({"grid_id": w.grid_a2_1}),
        )
        .await;
    app.get_as(&elsewhere, &meeting_path)
        .await
        .problem(403, "forbidden");
    app.get_as(
        &elsewhere,
        &format!("/api/v1/needs-meetings?community_id={community}"),
    )
    .await
    .problem(403, "forbidden");
    let tracked = app
        .get_as(&worker, &format!("/api/v1/patrol-logs/{log_id}"))
        .await;
    assert_eq!(
        tracked.ok(200)["findings"][0]["case_id"].as_str(),
        Some(finding_item.as_str())
    );
    let item_case = app.get_as(&admin, &format!("/api/v1/cases/{item}")).await;
    assert_eq!(item_case.ok(200)["channel"], "meeting");
    app.post_as(
        &admin,
        &format!("{meeting_path}/decisions"),
        &json!({"grid_id": w.grid_a2_1, "category_id": noise, "title": "x", "description": "x",
            "owner_user_id": w.user("a1-worker"), "due_on": "2026-12-15"}),
    )
    .await
    .problem(422, "invalid_reference");
    let units = format!("/api/v1/communities/{community}/member-units");
    let unit = app
        .post_as(
            &admin,
            &units,
            &json!({"name": "鑫源物业公司", "kind": "enterprise", "contact_name": "王经理"}),
        )
        .await;
    let unit_id = unit.ok(201)["id"].clone();
    app.post_as(
        &admin,
        &units,
        &json!({"name": "鑫源物业公司", "kind": "enterprise"}),
    )
    .await
    .problem(409, "conflict");
    let listed = app.get_as(&chief, &units).await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 1);
    let closed = app
        .post_at(
            &admin,
            &format!("{meeting_path}/close"),
            &format!("\"{}\"", decided["version"]),
            &json!({"minutes": "议定更换楼道照明", "attendees": [
            {"kind": "member_unit", "name": "鑫源物业公司", "member_unit_id": unit_id},
            {"kind": "volunteer", "name": "张志愿"}]}),
        )
        .await;
    assert_eq!(
        (
            closed.ok(200)["status"].as_str(),
            closed.body["attendees"].as_array().unwrap().len()
        ),
        (Some("closed"), 2)
    );
    // Tracked by the meeting's item, the finding cannot be filed again.
    app.post_as(
        &worker,
        &format!("/api/v1/patrol-findings/{finding_id}/case"),
        &json!({"category_id": noise}),
    )
    .await
    .problem(409, "conflict");

    // Sunday 13 December 09:30: the second meeting (the 16th) reports back
    // exactly the first meeting's item; the old case is now open too long.
    app.settle_at("2026-12-13T09:30:05+08:00").await;
    let list = meetings(&app, &admin, &community).await;
    assert_eq!(list.len(), 2);
    let second = list[0].clone();
    assert_eq!(
        (
            second["scheduled_for"].as_str(),
            second["previous_id"].as_str()
        ),
        (Some("2026-12-16T01:30:00Z"), first["id"].as_str())
    );
    let items = agenda(&second);
    let mut report_back: Vec<&String> = items
        .iter()
        .filter(|(k, _)| k == "report_back")
        .map(|(_, id)| id)
        .collect();
    report_back.sort();
    let mut expected = vec![&item, &finding_item];
    expected.sort();
    assert_eq!(report_back, expected, "exactly the first meeting's items");
    assert!(items.contains(&(
        "overdue_case".to_owned(),
        old["id"].as_str().unwrap().to_owned()
    )));
    assert!(
        !items.iter().any(|(k, _)| k == "untracked_finding"),
        "the finding is tracked"
    );
    // The loop: the item, its progress, and the meeting that reported it back.
    let first_now = app.get_as(&chief, &meeting_path).await;
    for loop_item in first_now.ok(200)["items"].as_array().unwrap() {
        assert_eq!(
            (
                loop_item["status"].as_str(),
                loop_item["reported_back_in"].as_str()
            ),
            (Some("received"), second["id"].as_str())
        );
    }
    // Attendees rate the reported-back item, each once.
    let second_path = format!("/api/v1/needs-meetings/{}", second["id"].as_str().unwrap());
    let rate = |rater: &str, score: i64, case: &str| {
        app.post(&format!("{second_path}/report-back/{case}/rating"))
            .bearer(&admin)
            .json(&json!({"rater": rater, "score": score}))
            .send()
    };
    rate("鑫源物业公司", 10, &item).await.ok(200);
    let rated = rate("张志愿", 8, &item).await;
    assert_eq!(
        rated.ok(200)["report_back_ratings"],
        json!([{"case_id": item, "ratings": 2, "average": 9.0}])
    );
    rate("张志愿", 6, &item).await.problem(409, "conflict");
    rate("张志愿", 6, old["id"].as_str().unwrap())
        .await
        .problem(404, "not_found");
    rate("张志愿", 7, &item)
        .await
        .problem(422, "validation_failed");
    let fires: i64 = app
        .db
        .scalar("SELECT count(*) FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id WHERE s.key LIKE 'needs_meeting:%'")
        .await;
    assert_eq!(fires, 2, "one fire per meeting");
}
