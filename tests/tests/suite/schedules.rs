//! Recurring work: the built-in stale-ledger digest planned, fired on working
//! days across a holiday and an adjusted Saturday, a worker outage handled by
//! the misfire policy (run once, then skip), two workers firing at once with
//! one fire between them, the admin's view and changes, and the digest itself
//! (one per grid worker and day, only stale records, verification clears it).

use onegrid_store::Acting;
use std::sync::atomic::AtomicBool;

use onegrid_store::ledgers::digests;
use onegrid_tests::TestApp;
use serde_json::{Value, json};

async fn the_digest_schedule(app: &TestApp, d_admin: &str) -> Value {
    let list = app.get_as(d_admin, "/api/v1/schedules").await;
    let items = list.ok(200)["items"].as_array().unwrap().clone();
    let keys: Vec<&str> = items.iter().map(|s| s["key"].as_str().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "calendar.next_year_check",
            "ledger.stale_digest",
            "patrol.missing_logs"
        ],
        "the built-in schedules of a district"
    );
    items
        .iter()
        .find(|s| s["key"] == "ledger.stale_digest")
        .unwrap()
        .clone()
}

async fn schedule(app: &TestApp, d_admin: &str, id: &str) -> Value {
    app.get_as(d_admin, &format!("/api/v1/schedules/{id}"))
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn the_stale_ledger_digest_follows_the_working_calendar_and_its_misfire_policy() {
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let a1_admin = app.token("a1-admin").await;
    let worker = app.token("a1-worker").await;
    let b_worker = app.token("b1-worker").await;
    app.load_test_calendar(&d_admin).await;
    let record = app.short_lived_record(&w, &a1_admin, &worker).await;

    // The worker gives the district its built-in schedule, once.
    let runner = app.runner();
    assert_eq!(runner.ensure_schedules().await.unwrap(), 3);
    assert_eq!(runner.ensure_schedules().await.unwrap(), 0);
    let s = the_digest_schedule(&app, &d_admin).await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s["rule"],
        json!({"days": {"kind": "working_days"}, "hour": 8, "minute": 30, "holidays": "skip"})
    );
    assert!(
        s["next_run_at"].is_null(),
        "not planned before a worker pass"
    );

    // Thursday 3 December, evening: the first pass plans the three schedules
    // (the digest for Friday 08:30) and fires nothing.
    assert_eq!(app.settle_at("2026-12-03T20:00:00+08:00").await, 3);
    let s = schedule(&app, &d_admin, &id).await;
    assert_eq!(s["next_run_at"], "2026-12-04T00:30:00Z");
    assert_eq!(app.db.count("schedule_fires").await, 0);

    // Friday 08:30: the fire, its fan-out to both streets, one digest for a1-worker.
    app.settle_at("2026-12-04T08:30:05+08:00").await;
    let digests = app
        .notifications_of_kind(&worker, "ledger.stale_digest")
        .await;
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0]["body"]["stale"], 1);
    assert_eq!(digests[0]["body"]["day"], "2026-12-04");
    let item = &digests[0]["body"]["items"][0];
    assert_eq!(
        (
            item["ledger"].as_str(),
            item["grid_id"].as_str(),
            item["stale"].as_i64()
        ),
        (
            Some("fire_checks"),
            Some(w.grid_a1_1.to_string().as_str()),
            Some(1)
        )
    );
    assert!(
        app.notifications_of_kind(&b_worker, "ledger.stale_digest")
            .await
            .is_empty(),
        "street B has nothing stale"
    );
    // The adjusted Saturday is a working day: next fire 5 December.
    let s = schedule(&app, &d_admin, &id).await;
    assert_eq!(s["next_run_at"], "2026-12-05T00:30:00Z");
    assert_eq!(
        (s["fires"].as_i64(), s["misfires"].as_i64()),
        (Some(1), Some(0))
    );

    // Passes in between change nothing; the day's digest is never written twice.
    assert_eq!(app.settle_at("2026-12-04T08:45:00+08:00").await, 0);
    let (district, street, now) = (w.district, w.street_a, app.clock.now());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let again = app
        .worker_db()
        .acting::<_, onegrid_store::StoreError, _>(Acting::Street { district, street }, move |c| {
            Box::pin(async move { digests::street_digest(c, district, street, day, now).await })
        })
        .await
        .unwrap();
    assert_eq!(again, 0, "the day's digest is written once");
    assert_eq!(
        app.notifications_of_kind(&worker, "ledger.stale_digest")
            .await
            .len(),
        1
    );

    // Saturday 5 December fires; Monday 7 December is a holiday: next is Tuesday.
    app.settle_at("2026-12-05T08:30:05+08:00").await;
    assert_eq!(
        app.notifications_of_kind(&worker, "ledger.stale_digest")
            .await
            .len(),
        2
    );
    let s = schedule(&app, &d_admin, &id).await;
    assert_eq!(s["next_run_at"], "2026-12-08T00:30:00Z");

    // The worker is down from Tuesday to Thursday 10:00; a1-worker verified
    // the record at 09:00. The missed fires run once, late, for Tuesday's
    // instant - and nothing is stale any more.
    app.clock.set(Some(
        chrono::DateTime::parse_from_rfc3339("2026-12-10T09:00:00+08:00")
            .unwrap()
            .to_utc(),
    ));
    let rec_path = format!("/api/v1/ledger-records/{}", record["id"].as_str().unwrap());
    app.post(&format!("{rec_path}/verify"))
        .bearer(&worker)
        .header("if-match", "\"1\"")
        .send()
        .await
        .ok(200);
    app.settle_at("2026-12-10T10:00:00+08:00").await;
    let s = schedule(&app, &d_admin, &id).await;
    assert_eq!(s["next_run_at"], "2026-12-11T00:30:00Z");
    assert_eq!(
        (s["fires"].as_i64(), s["misfires"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        app.notifications_of_kind(&worker, "ledger.stale_digest")
            .await
            .len(),
        2,
        "verified: no digest"
    );
    let fires = app
        .get_as(&d_admin, &format!("/api/v1/schedules/{id}/fires"))
        .await;
    let fires = fires.ok(200)["items"].as_array().unwrap().clone();
    let summary: Vec<(&str, &str)> = fires
        .iter()
        .map(|f| {
            (
                f["fire_for"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2026-12-08T00:30:00Z", "late"),
            ("2026-12-05T00:30:00Z", "on_time"),
            ("2026-12-04T00:30:00Z", "on_time")
        ]
    );
    assert!(fires.iter().all(|f| f["job_id"].is_string()));

    // The admin switches to skipping missed fires; the next outage fires nothing.
    let version = s["version"].as_i64().unwrap();
    let changed = app
        .patch_at(
            &d_admin,
            &format!("/api/v1/schedules/{id}"),
            &format!("\"{version}\""),
            &json!({"misfire": "skip"}),
        )
        .await;
    assert_eq!(changed.ok(200)["misfire"], "skip");
    let digest_jobs = "SELECT count(*) FROM jobs WHERE kind LIKE 'ledger.stale_digest%'";
    let jobs_before = app.db.scalar(digest_jobs).await;
    app.settle_at("2026-12-14T10:00:00+08:00").await;
    let s = schedule(&app, &d_admin, &id).await;
    assert_eq!(s["next_run_at"], "2026-12-15T00:30:00Z");
    assert_eq!(
        (s["fires"].as_i64(), s["misfires"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        app.db.scalar(digest_jobs).await,
        jobs_before,
        "a skipped fire queues no job"
    );
    let fires = app
        .get_as(&d_admin, &format!("/api/v1/schedules/{id}/fires?limit=1"))
        .await;
    let latest = &fires.ok(200)["items"][0];
    assert_eq!(
        (
            latest["fire_for"].as_str(),
            latest["outcome"].as_str(),
            latest["job_id"].is_null()
        ),
        (Some("2026-12-11T00:30:00Z"), Some("skipped"), true)
    );
}

#[tokio::test]
async fn two_workers_at_the_same_instant_fire_once() {
    let (app, _w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let (one, two) = (app.runner(), app.runner());
    one.ensure_schedules().await.unwrap();
    app.settle_at("2026-12-07T20:00:00+08:00").await;
    for round in 0..3 {
        let when = format!("2026-12-{:02}T08:30:01+08:00", 8 + round);
        app.clock.set(Some(
            chrono::DateTime::parse_from_rfc3339(&when)
                .unwrap()
                .to_utc(),
        ));
        let stop = AtomicBool::new(false);
        let (a, b) = tokio::join!(one.tick(&stop), two.tick(&stop));
        let digest = |p: onegrid_worker::runner::Pass| {
            p.fired
                .iter()
                .filter(|f| f.key == "ledger.stale_digest")
                .count()
        };
        let fired = digest(a.unwrap()) + digest(b.unwrap());
        assert!(fired <= 1, "round {round}: {fired} fires");
        app.settle_at(&when).await;
    }
    let s = the_digest_schedule(&app, &d_admin).await;
    assert_eq!(s["fires"], 3);
    let fires: i64 = app
        .db
        .scalar("SELECT count(*) FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id WHERE s.key = 'ledger.stale_digest'")
        .await;
    assert_eq!(fires, 3);
    let fan_outs: i64 = app
        .db
        .scalar(
            "SELECT count(*) FROM jobs WHERE kind = 'ledger.stale_digest' AND state = 'completed'",
        )
        .await;
    assert_eq!(fan_outs, 3);
}

#[tokio::test]
async fn schedule_changes_are_validated_versioned_and_district_only() {
    let (app, _w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    app.runner().ensure_schedules().await.unwrap();
    let s = the_digest_schedule(&app, &d_admin).await;
    let path = format!("/api/v1/schedules/{}", s["id"].as_str().unwrap());

    app.get_as(&a_admin, "/api/v1/schedules")
        .await
        .problem(403, "forbidden");
    app.patch(&path)
        .bearer(&d_admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .problem(428, "precondition_required");
    app.patch_at(&d_admin, &path, "\"7\"", &json!({"enabled": false}))
        .await
        .problem(412, "version_mismatch");
    let bad = app.patch_at(&d_admin, &path, "\"1\"", &json!({"rule": {"days": {"kind": "month_days", "days": [0, 16]}, "hour": 25, "minute": 0, "holidays": "run"}})).await;
    assert_eq!(
        bad.problem(422, "validation_failed")["errors"][0]["field"],
        "rule"
    );
    app.patch_at(
        &d_admin,
        &path,
        "\"1\"",
        &json!({"enabled": false, "when": "now"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        schedule(&app, &d_admin, s["id"].as_str().unwrap()).await["version"],
        1
    );

    // A half-monthly rule with the holiday moved to the next working day.
    app.clock.set(Some(
        chrono::DateTime::parse_from_rfc3339("2026-12-03T12:00:00+08:00")
            .unwrap()
            .to_utc(),
    ));
    let changed = app.patch_at(&d_admin, &path, "\"1\"", &json!({"rule": {"days": {"kind": "month_days", "days": [7, 16]}, "hour": 9, "minute": 0, "holidays": "next_working_day"}})).await;
    let changed = changed.ok(200);
    assert_eq!(changed["version"], 2);
    assert_eq!(
        changed["next_run_at"], "2026-12-07T01:00:00Z",
        "the official calendar has no holiday on 7 December"
    );
}
