//! The binaries as a user runs them: start, readiness, clean stop on SIGTERM,
//! one clear line when PostgreSQL is missing, production refusals, the demo.

use onegrid_store::Acting;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use onegrid_domain::clock::Clock;
use onegrid_tests::{TestApp, TestDb};

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built (cargo build --workspace)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(name: &str, db: &TestDb) -> Command {
    let mut cmd = Command::new(binary(name));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("REDIS_PREFIX", format!("onegrid-test:{}", db.name))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

async fn wait_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(url).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

fn terminate_and_wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop within 40 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn api_and_worker_start_report_ready_and_stop_cleanly_on_sigterm() {
    let db = TestDb::create().await;
    let (api_port, worker_port) = (free_port(), free_port());
    let mut api = command("onegrid", &db)
        .arg("serve")
        .env("ONEGRID_BIND", format!("127.0.0.1:{api_port}"))
        .spawn()
        .unwrap();
    let mut worker = command("onegrid-worker", &db)
        .env("ONEGRID_WORKER_BIND", format!("127.0.0.1:{worker_port}"))
        .spawn()
        .unwrap();
    wait_ready(&format!("http://127.0.0.1:{api_port}/readyz")).await;
    wait_ready(&format!("http://127.0.0.1:{worker_port}/readyz")).await;
    let ready: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{worker_port}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["postgres"], "up");
    assert!(terminate_and_wait(&mut api).success(), "api exit status");
    assert!(
        terminate_and_wait(&mut worker).success(),
        "worker exit status"
    );
}

#[tokio::test]
async fn missing_postgres_is_one_clear_line() {
    let db = TestDb::create().await;
    for name in ["onegrid", "onegrid-worker"] {
        let mut cmd = command(name, &db);
        if name == "onegrid" {
            cmd.arg("serve");
        }
        let out = cmd
            .env(
                "APP_DATABASE_URL",
                "postgres://onegrid_app@127.0.0.1:1/onegrid",
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
        assert!(
            lines[0].contains("127.0.0.1:1") && lines[0].contains("pg_ctlcluster"),
            "{name}: {stderr}"
        );
    }
}

#[tokio::test]
async fn production_refuses_demo_keys_and_demo_data() {
    let db = TestDb::create().await;
    let out = command("onegrid", &db)
        .arg("serve")
        .env("ONEGRID_ENV", "production")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo JWT keys"));
    // With real keys configured, demo data is still refused.
    let dir = std::env::temp_dir().join(&db.name);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("jwt.pem");
    let public = dir.join("jwt.pub.pem");
    assert!(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public)
            .status()
            .unwrap()
            .success()
    );
    let out = command("onegrid", &db)
        .arg("seed-demo")
        .env("ONEGRID_ENV", "production")
        .env("ONEGRID_JWT_PRIVATE_KEY_FILE", &key)
        .env("ONEGRID_JWT_PUBLIC_KEY_FILE", &public)
        .env(
            "ONEGRID_FIELD_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refuses demo data"));
    assert_eq!(db.count("districts").await, 0);
}

#[tokio::test]
async fn demo_data_has_the_seed_community_with_its_staffing_gap() {
    let app = TestApp::start().await;
    // The seeding process runs on the real clock; the demo's roles start today.
    app.clock
        .set(Some(onegrid_domain::clock::SystemClock.now()));
    let out = command("onegrid", &app.db)
        .arg("seed-demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = command("onegrid", &app.db)
        .arg("seed-demo")
        .output()
        .unwrap();
    assert!(again.status.success(), "seeding twice is harmless");
    assert_eq!(app.db.count("districts").await, 1);
    assert_eq!(app.db.count("departments").await, 10);
    assert_eq!(app.db.count("streets").await, 2);

    let login = app
        .login_reply("chenlihua", onegrid_api::seed::DEMO_PASSWORD)
        .await;
    let t = login.ok(200)["access_token"].as_str().unwrap().to_owned();
    let streets = app.get("/api/v1/streets").bearer(&t).send().await;
    let street = streets.ok(200)["items"][0].clone();
    assert_eq!(street["name"], "团结街道");
    let communities = app
        .get(&format!(
            "/api/v1/streets/{}/communities",
            street["id"].as_str().unwrap()
        ))
        .bearer(&t)
        .send()
        .await;
    let community = communities.ok(200)["items"][0].clone();
    assert_eq!(community["name"], "明日星城社区");
    let coverage = app
        .get(&format!(
            "/api/v1/communities/{}/coverage",
            community["id"].as_str().unwrap()
        ))
        .bearer(&t)
        .send()
        .await;
    let c = coverage.ok(200);
    assert_eq!(c["summary"]["grids"], 7);
    assert_eq!(c["summary"]["fully_staffed"], 6);
    assert_eq!(c["summary"]["missing_department"], 1);
    let gap = c["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| !g["missing"].as_array().unwrap().is_empty())
        .unwrap();
    assert_eq!(gap["name"], "第七网格");
    let households: i64 = {
        let grids = app
            .get(&format!(
                "/api/v1/communities/{}/grids",
                community["id"].as_str().unwrap()
            ))
            .bearer(&t)
            .send()
            .await;
        grids.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["target_households"].as_i64().unwrap())
            .sum()
    };
    assert!(
        (3000..=3300).contains(&households),
        "7 grids of about 450: {households}"
    );
    // The second street exists and is walled off.
    let other = app
        .login_reply("linyin-admin", onegrid_api::seed::DEMO_PASSWORD)
        .await;
    let o = other.ok(200)["access_token"].as_str().unwrap().to_owned();
    app.get(&format!(
        "/api/v1/communities/{}",
        community["id"].as_str().unwrap()
    ))
    .bearer(&o)
    .send()
    .await
    .problem(404, "not_found");
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
        app.post("/api/v1/cases")
            .bearer(&token)
            .json(&serde_json::json!({"channel": "hotline", "category_id": gas, "grid_id": w.grid_a1_1,
                "title": format!("燃气味 {i}"), "description": "楼道有燃气味"}))
            .send()
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
    app.post("/api/v1/webhook-endpoints")
        .bearer(&a_admin)
        .json(
            &serde_json::json!({"url": format!("{}/hook", rx.base), "street_id": w.street_a,
            "event_types": ["case.escalated"]}),
        )
        .send()
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
            kill9(&mut a);
            a = spawn().0;
        } else {
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
    app.get("/api/v1/me").bearer(&worker).send().await.ok(200);
    assert_eq!(
        app.db
            .count("audit_log WHERE action = 'resident.reveal'")
            .await,
        30
    );
}

/// A valid ID number (GB 11643 check digit) made only of digits, so that it
/// also fits a JSON number.
const ID_NUMBER: &str = "150203196802193028";

/// Where in request bodies the spec puts an ID number or a phone, as paths
/// (`[0]` for an array's item), found by walking the committed document.
fn sensitive_fields() -> Vec<(String, String, Vec<String>)> {
    fn walk(
        schemas: &serde_json::Value,
        s: &serde_json::Value,
        path: &[String],
        depth: usize,
        out: &mut Vec<Vec<String>>,
    ) {
        if depth > 6 {
            return;
        }
        if let Some(r) = s["$ref"].as_str() {
            let name = r.rsplit('/').next().unwrap();
            return walk(schemas, &schemas[name], path, depth + 1, out);
        }
        for k in ["allOf", "oneOf", "anyOf"] {
            for x in s[k].as_array().into_iter().flatten() {
                walk(schemas, x, path, depth + 1, out);
            }
        }
        if s.get("items").is_some() {
            let mut p = path.to_vec();
            p.push("[0]".into());
            walk(schemas, &s["items"], &p, depth + 1, out);
        }
        for (name, p) in s["properties"].as_object().into_iter().flatten() {
            let mut here = path.to_vec();
            here.push(name.clone());
            if name == "id_number" || name == "phone" {
                out.push(here.clone());
            }
            walk(schemas, p, &here, depth + 1, out);
        }
    }
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("../openapi/openapi.json").unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut found = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            if body.is_null() {
                continue;
            }
            let mut fields = Vec::new();
            walk(schemas, body, &[], 0, &mut fields);
            for f in fields {
                found.push((method.to_uppercase(), path.clone(), f));
            }
        }
    }
    found
}

/// `value` placed at `path` in an otherwise empty body.
fn body_with(path: &[String], value: serde_json::Value) -> serde_json::Value {
    match path.split_first() {
        None => value,
        Some((head, rest)) if head == "[0]" => serde_json::json!([body_with(rest, value)]),
        Some((head, rest)) => serde_json::json!({ head.as_str(): body_with(rest, value) }),
    }
}

/// Nothing echoes: a valid ID number sent in every wrong shape, to every
/// operation whose body takes an ID number or a phone (from the spec), and in
/// query strings, paths and headers, is in no response and no log line of the
/// real `onegrid serve` process logging at debug level.
#[tokio::test]
async fn an_id_number_in_any_wrong_shape_is_in_no_response_and_no_log() {
    use onegrid_tests::World;
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let log_path = std::env::temp_dir().join(format!("onegrid-echo-{}.log", app.db.name));
    let port = free_port();
    let mut api = command("onegrid", &app.db)
        .arg("serve")
        .env("ONEGRID_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stdout(Stdio::from(
            std::fs::File::create(log_path.with_extension("out")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/readyz")).await;
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "a1-admin", "password": onegrid_tests::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let number: u64 = ID_NUMBER.parse().unwrap();
    let shapes = [
        serde_json::json!(number),
        serde_json::json!([ID_NUMBER]),
        serde_json::json!({ "value": ID_NUMBER }),
        serde_json::json!([number]),
        serde_json::json!(f64::from(u32::MAX) * 1e9 + number as f64),
    ];
    let fill = |path: &str| {
        path.replace("{grid_id}", &w.grid_a1_1.to_string())
            .replace("{resident_id}", &w.resident_a.to_string())
    };
    let fields = sensitive_fields();
    assert!(fields.len() >= 5, "{fields:?}");
    let mut answers = Vec::new();
    let mut send = async |req: reqwest::RequestBuilder| {
        let r = req.bearer_auth(&token).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = format!("{:?}", r.headers());
        let text = r.text().await.unwrap();
        answers.push((status, format!("{headers} {text}")));
    };
    for (method, path, field) in &fields {
        let url = format!("{base}{}", fill(path));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut bodies: Vec<serde_json::Value> =
            shapes.iter().map(|s| body_with(field, s.clone())).collect();
        // The number as a key where the field belongs.
        let mut parent = field.clone();
        parent.pop();
        bodies.push(body_with(&parent, serde_json::json!({ ID_NUMBER: 1 })));
        for body in bodies {
            send(
                client
                    .request(method.clone(), &url)
                    .header("if-match", "\"1\"")
                    .json(&body),
            )
            .await;
        }
    }
    let grid = w.grid_a1_1;
    for url in [
        format!("{base}/api/v1/grids/{grid}/residents?limit={ID_NUMBER}"),
        format!("{base}/api/v1/grids/{grid}/residents?cursor={ID_NUMBER}"),
        format!("{base}/api/v1/grids/{grid}/residents?{ID_NUMBER}=1"),
        format!("{base}/api/v1/residents/{ID_NUMBER}"),
        format!("{base}/api/v1/grids/{ID_NUMBER}/residents"),
        format!("{base}/api/v1/audit?actor_id={ID_NUMBER}"),
    ] {
        send(client.get(&url)).await;
    }
    send(
        client
            .patch(format!("{base}/api/v1/residents/{}", w.resident_a))
            .header("if-match", format!("\"{ID_NUMBER}\""))
            .json(&serde_json::json!({"name": "张三"})),
    )
    .await;
    send(
        client
            .post(format!("{base}/api/v1/residents/search"))
            .header("content-type", "text/plain")
            .body(ID_NUMBER),
    )
    .await;
    assert!(terminate_and_wait(&mut api).success());
    let log = std::fs::read_to_string(&log_path).unwrap()
        + &std::fs::read_to_string(log_path.with_extension("out")).unwrap();
    assert!(log.contains("\"route\""), "the process logged its requests");
    for (status, answer) in &answers {
        assert!((400..500).contains(status), "{status}: {answer}");
        assert!(!answer.contains(ID_NUMBER), "echoed: {answer}");
        assert!(
            !answer.contains(&ID_NUMBER[..17]),
            "echoed in part: {answer}"
        );
    }
    for line in log.lines() {
        assert!(!line.contains(&ID_NUMBER[..17]), "logged: {line}");
    }
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(log_path.with_extension("out"));
}
