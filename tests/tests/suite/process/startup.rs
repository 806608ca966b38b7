//! Start, readiness, a clean stop on SIGTERM, one clear line when
//! PostgreSQL is missing, production refusals, the demo.

use std::process::Command;

use super::{command, free_port, terminate_and_wait, wait_ready};
use onegrid_domain::clock::Clock;
use onegrid_tests::{TestApp, TestDb};

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
    let streets = app.get_as(&t, "/api/v1/streets").await;
    let street = streets.ok(200)["items"][0].clone();
    assert_eq!(street["name"], "团结街道");
    let communities = app
        .get_as(
            &t,
            &format!(
                "/api/v1/streets/{}/communities",
                street["id"].as_str().unwrap()
            ),
        )
        .await;
    let community = communities.ok(200)["items"][0].clone();
    assert_eq!(community["name"], "明日星城社区");
    let coverage = app
        .get_as(
            &t,
            &format!(
                "/api/v1/communities/{}/coverage",
                community["id"].as_str().unwrap()
            ),
        )
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
            .get_as(
                &t,
                &format!(
                    "/api/v1/communities/{}/grids",
                    community["id"].as_str().unwrap()
                ),
            )
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
    app.get_as(
        &o,
        &format!("/api/v1/communities/{}", community["id"].as_str().unwrap()),
    )
    .await
    .problem(404, "not_found");
}
