//! Killed workers and a restarted Redis: no deadline lost, no escalation
//! doubled, limits kept.

use onegrid_store::Acting;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{command, free_port, terminate_and_wait, wait_ready};
use onegrid_domain::clock::Clock;
use onegrid_tests::TestApp;

/// Waits (5 s at most) until the worker `child` holds a running job's
/// lease, so that killing it catches work mid-run whatever the load.
async fn until_holding(app: &TestApp, child: &std::process::Child) {
    let held = format!(
        "SELECT count(*) AS n FROM jobs WHERE state = 'running' AND leased_by LIKE '%:{}'",
        child.id()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while count_where(app, &held).await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn kill9(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count_where(app: &TestApp, sql: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    let mut owner = app.db.owner().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut owner)
        .await
        .unwrap()
        .n
}

/// A private Redis the fault suite stops and starts (the shared one stays up
/// for the other tests).
fn redis_server(port: u16) -> std::process::Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (scripts/services.sh)")
}

/// Fault suite: workers killed with SIGKILL mid-pass and restarted, and
/// Redis stopped and started, while hundreds of deadlines, schedule fires and
/// webhook deliveries are due. Afterwards nothing is lost, nothing doubled.
#[tokio::test]
async fn killed_workers_lose_no_deadline_and_double_no_escalation() {
    // Schedules coming due every 20 ms over the first seconds, once each.
    const SCHEDULES: i64 = 100;
    const CASES: i64 = 150;
    use diesel_async::RunQueryDsl;
    use onegrid_domain::recurrence::{Days, HolidayPolicy, Misfire, Recurrence};
    use onegrid_store::integrations::schedules::{self, NewSchedule};
    use onegrid_tests::World;
    use onegrid_tests::receiver::Receiver;
    let app = TestApp::start_with(&[("ONEGRID_WEBHOOK_ALLOW_CIDRS", "127.0.0.2/32")]).await;
    let w = World::build(&app).await;
    let token = app.token("a1-worker").await;
    let a_admin = app.token("a-admin").await;
    let gas = app.case_category(&token, "02.04").await;
    for i in 0..CASES {
        app.post_as(
            &token,
            "/api/v1/cases",
            &serde_json::json!({"channel": "hotline", "category_id": gas, "grid_id": w.grid_a1_1,
                "title": format!("燃气味 {i}"), "description": "楼道有燃气味"}),
        )
        .await
        .ok(201);
    }
    // Every deadline is already three hours past.
    let mut owner = app.db.owner().await;
    for sql in [
        "UPDATE case_clocks SET started_at = started_at - interval '3 hours', warn_50_at = warn_50_at - interval '3 hours', warn_75_at = warn_75_at - interval '3 hours', due_at = due_at - interval '3 hours'",
        "UPDATE jobs SET run_at = run_at - interval '3 hours' WHERE queue = 'sla'",
    ] {
        diesel::sql_query(sql).execute(&mut owner).await.unwrap();
    }
    let jobs = CASES * 2 * 3;
    assert_eq!(
        count_where(&app, "SELECT count(*) AS n FROM jobs WHERE queue = 'sla'").await,
        jobs
    );
    // An integrator listens for every escalation of street A.
    let rx = Receiver::start();
    app.post_as(
        &a_admin,
        "/api/v1/webhook-endpoints",
        &serde_json::json!({"url": format!("{}/hook", rx.base), "street_id": w.street_a,
            "event_types": ["case.escalated"]}),
    )
    .await
    .ok(201);
    // The worker process runs on the real clock.
    let first = onegrid_domain::clock::SystemClock.now() + chrono::Duration::milliseconds(500);
    let district = w.district;
    app.worker_db()
        .acting::<_, onegrid_store::StoreError, _>(Acting::Nobody, move |c| {
            Box::pin(async move {
                for i in 0..SCHEDULES {
                    schedules::ensure(
                        c,
                        NewSchedule {
                            district_id: district,
                            street_id: None,
                            community_id: None,
                            key: format!("fault.{i}"),
                            kind: "noop",
                            name: format!("fault {i}"),
                            rule: Recurrence {
                                days: Days::Daily,
                                hour: 3,
                                minute: 0,
                                holidays: HolidayPolicy::Run,
                            },
                            misfire: Misfire::RunOnce,
                            payload: serde_json::json!({}),
                            first_due: Some(first + chrono::Duration::milliseconds(20 * i)),
                            lead_minutes: 0,
                        },
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();

    let redis_port = free_port();
    let mut redis = redis_server(redis_port);
    let spawn = || {
        let port = free_port();
        let mut cmd = command("onegrid-worker", &app.db);
        cmd.env("ONEGRID_WORKER_BIND", format!("127.0.0.1:{port}"))
            .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
            .env("ONEGRID_WEBHOOK_ALLOW_CIDRS", "127.0.0.2/32")
            .env("ONEGRID_WORKER_LEASE_SECS", "5")
            .env("ONEGRID_WORKER_POLL_MS", "100")
            .env("ONEGRID_WORKER_BATCH", "10")
            .stderr(Stdio::null());
        (cmd.spawn().unwrap(), port)
    };
    let (mut a, _) = spawn();
    let (mut b, _) = spawn();
    let started = Instant::now();
    let mut redis_down_ready = None;
    for round in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        match round {
            // Redis goes away mid-run ...
            0 => kill9(&mut redis),
            // ... and comes back.
            2 => redis = redis_server(redis_port),
            _ => {}
        }
        if round % 2 == 0 {
            until_holding(&app, &a).await;
            kill9(&mut a);
            a = spawn().0;
        } else {
            until_holding(&app, &b).await;
            kill9(&mut b);
            let b_port;
            (b, b_port) = spawn();
            if round == 1 {
                // Without Redis a worker starts and reports itself ready.
                wait_ready(&format!("http://127.0.0.1:{b_port}/readyz")).await;
                let ready: serde_json::Value =
                    reqwest::get(format!("http://127.0.0.1:{b_port}/readyz"))
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                redis_down_ready = Some(ready);
            }
        }
    }
    let ready = redis_down_ready.unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["redis"].as_str()),
        (Some("ready"), Some("down"))
    );
    let open = "SELECT count(*) AS n FROM jobs WHERE state IN ('available', 'running')";
    while count_where(&app, open).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "jobs left: {}",
            count_where(&app, open).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(terminate_and_wait(&mut a).success());
    assert!(terminate_and_wait(&mut b).success());
    kill9(&mut redis);

    // 0 lost, 0 failed: every job completed, every stage of every clock acted once.
    assert_eq!(
        count_where(
            &app,
            "SELECT count(*) AS n FROM jobs WHERE queue = 'sla' AND state = 'completed'"
        )
        .await,
        jobs
    );
    assert_eq!(
        count_where(&app, "SELECT count(*) AS n FROM case_clock_alerts").await,
        jobs
    );
    // 0 duplicate escalations: one per clock, every case two levels up.
    let escalations = "SELECT count(*) AS n FROM case_events WHERE step = 'escalate'";
    assert_eq!(count_where(&app, escalations).await, CASES * 2);
    let distinct = "SELECT count(DISTINCT (case_id, data->>'clock_id')) AS n FROM case_events WHERE step = 'escalate'";
    assert_eq!(count_where(&app, distinct).await, CASES * 2);
    assert_eq!(
        count_where(
            &app,
            "SELECT count(*) AS n FROM cases WHERE escalation_level <> 2"
        )
        .await,
        0
    );
    // The kills happened mid-work: some jobs were rescued from a dead worker's lease.
    let rescued =
        "SELECT count(*) AS n FROM jobs WHERE attempt > 1 OR last_error LIKE 'lease expired%'";
    let rescued = count_where(&app, rescued).await;
    eprintln!("RESCUED {rescued} in {:?}", started.elapsed());
    assert!(
        rescued > 0,
        "no job was caught by a kill; the test proved nothing"
    );
    // The grid chief got exactly one 75 % warning per clock.
    let warned = "SELECT count(*) AS n FROM notifications WHERE kind = 'case.warn_75'";
    assert_eq!(count_where(&app, warned).await, CASES * 2);
    // Every schedule fired exactly once, and its job ran.
    let fires = "SELECT count(*) AS n FROM schedule_fires f JOIN jobs j ON j.id = f.job_id WHERE j.state = 'completed'";
    assert_eq!(count_where(&app, fires).await, SCHEDULES);
    assert_eq!(
        count_where(&app, "SELECT count(*) AS n FROM schedule_fires").await,
        SCHEDULES
    );
    let once = "SELECT count(*) AS n FROM schedules WHERE key LIKE 'fault.%' AND fires = 1";
    assert_eq!(count_where(&app, once).await, SCHEDULES);
    // Every escalation was delivered to the integrator: one delivery each,
    // all delivered; the receiver saw every message (at least once).
    let delivered = "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'delivered'";
    assert_eq!(count_where(&app, delivered).await, CASES * 2);
    assert_eq!(
        count_where(&app, "SELECT count(*) AS n FROM webhook_deliveries").await,
        CASES * 2
    );
    let got = rx.got("/hook");
    let distinct: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(i64::try_from(distinct.len()).unwrap(), CASES * 2);
    eprintln!(
        "WEBHOOKS {} requests for {} messages (repeats are sends whose worker was killed before logging them)",
        got.len(),
        distinct.len()
    );
}

/// Security limits count durable records: a Redis restart (it keeps nothing
/// on disk) resets neither the reveal quota nor a login lockout, and with
/// Redis gone both still hold.
#[tokio::test]
async fn reveal_quota_and_login_lockout_survive_a_redis_restart() {
    use onegrid_tests::World;
    let redis_port = free_port();
    let mut redis = redis_server(redis_port);
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let app = TestApp::start_with(&[("REDIS_URL", redis_url.as_str())]).await;
    let w = World::build(&app).await;
    let worker = app.token("a1-worker").await;
    let path = format!("/api/v1/residents/{}/reveal", w.resident_a);
    let reveal = || {
        app.post(&path)
            .bearer(&worker)
            .json(&serde_json::json!({"field": "phone", "purpose": "入户回访核对"}))
            .send()
    };
    for _ in 0..30 {
        reveal().await.ok(200);
    }
    reveal().await.problem(429, "too_many_requests");
    for _ in 0..10 {
        app.login_reply("a2-admin", "wrong-password!")
            .await
            .problem(401, "invalid_credentials");
    }
    app.login_reply("a2-admin", onegrid_tests::PASSWORD)
        .await
        .problem(429, "too_many_requests");

    redis.kill().unwrap();
    redis.wait().unwrap();
    redis = redis_server(redis_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let limited = reveal().await;
    limited.problem(429, "too_many_requests");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    app.login_reply("a2-admin", onegrid_tests::PASSWORD)
        .await
        .problem(429, "too_many_requests");

    redis.kill().unwrap();
    redis.wait().unwrap();
    reveal().await.problem(429, "too_many_requests");
    app.login_reply("a2-admin", onegrid_tests::PASSWORD)
        .await
        .problem(429, "too_many_requests");
    // Other work goes on without Redis.
    app.get_as(&worker, "/api/v1/me").await.ok(200);
    assert_eq!(
        app.db
            .count("audit_log WHERE action = 'resident.reveal'")
            .await,
        30
    );
}
