//! The test harness: a fresh database per test cloned from a migrated
//! template, the real API served on a loopback port, real Redis, and fixture
//! builders that go through the store functions the handlers call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

pub mod builders;
pub mod db;
pub mod fixture;
pub mod receiver;
pub mod source;

use std::sync::{Arc, Mutex};

use actix_web::HttpServer;
use actix_web::web::Data;
use chrono::{DateTime, Utc};
use onegrid_api::state::AppState;
use onegrid_config::Config;
use onegrid_domain::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use db::TestDb;
pub use fixture::World;

/// The password of every fixture account.
pub const PASSWORD: &str = "correct-horse-battery";

/// An RFC 3339 instant (tests write times as China time strings).
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The day fixture roles start: long before any instant a test pins, so
/// pinning the clock into the past or the future keeps every role valid.
pub fn roles_since() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
}

/// Where every test's clock starts: Monday 2026-11-30, 10:00 in China (a
/// working day of a loaded calendar), whatever day the suite runs on.
pub const CLOCK_START: &str = "2026-11-30T02:00:00Z";

/// A clock tests can move. Unpinned, it runs from [`CLOCK_START`] at the pace
/// of real time, so no test depends on the day it runs.
#[derive(Debug)]
pub struct ManualClock {
    pinned: Mutex<Option<DateTime<Utc>>>,
    started: std::time::Instant,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock {
            pinned: Mutex::new(None),
            started: std::time::Instant::now(),
        }
    }

    /// The clock's "now" (as [`Clock::now`], without importing the trait).
    pub fn now(&self) -> DateTime<Utc> {
        Clock::now(self)
    }

    /// Pins "now" (`None` lets it run again from [`CLOCK_START`]).
    pub fn set(&self, at: Option<DateTime<Utc>>) {
        *self.pinned.lock().unwrap() = at;
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.pinned.lock().unwrap().unwrap_or_else(|| {
            let start = DateTime::parse_from_rfc3339(CLOCK_START).unwrap().to_utc();
            start + chrono::Duration::from_std(self.started.elapsed()).unwrap()
        })
    }
}

/// A running API over its own database.
pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub base: String,
    pub client: reqwest::Client,
    server: actix_web::dev::ServerHandle,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with `status` and `code`, and returns it.
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status} {code}, got {}: {}",
            self.status,
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("/problems/{code}"));
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(self.body["detail"].as_str().is_some());
        let rid = self.body["request_id"].as_str().unwrap();
        assert!(!rid.is_empty());
        assert_eq!(self.header("x-request-id"), Some(rid));
        &self.body
    }

    /// Asserts `status` and returns the JSON body.
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        &self.body
    }

    /// The id of what a 201 created.
    pub fn created_id(&self) -> String {
        self.ok(201)["id"].as_str().unwrap().to_owned()
    }

    /// The rows of a 200 list: a page's `items`, or a bare array.
    pub fn rows(&self) -> Vec<Value> {
        let body = self.ok(200);
        body.get("items")
            .unwrap_or(body)
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A request being built.
pub struct Call<'a> {
    app: &'a TestApp,
    builder: reqwest::RequestBuilder,
}

impl Call<'_> {
    /// Sends the session of `token` as a user's front-end would: with an
    /// access token fresh on the test's clock (the front-end refreshes it), so
    /// a test can move the clock by days and keep its logins. The session
    /// itself is still checked (revoked, expired, user disabled). A token this
    /// platform did not sign goes as it is; [`Call::raw_bearer`] always does.
    pub fn bearer(self, token: &str) -> Self {
        let fresh = self.app.fresh_token(token);
        self.raw_bearer(fresh.as_deref().unwrap_or(token))
    }
    /// Sends exactly `token`.
    pub fn raw_bearer(mut self, token: &str) -> Self {
        self.builder = self.builder.bearer_auth(token);
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.json(body);
        self
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }
    pub async fn send(self) -> Reply {
        let _ = self.app;
        let res = self.builder.send().await.expect("request failed");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }
}

/// Configuration of a test app: the test database, a Redis prefix of its own.
pub fn test_config(db: &TestDb, overrides: &[(&str, &str)]) -> Config {
    let owner = db.url();
    let prefix = format!("onegrid-test:{}", db.name);
    let db_name = db.name.clone();
    let overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_vars(move |name| {
        if let Some((_, v)) = overrides.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        match name {
            "ONEGRID_ENV" => Some("test".into()),
            "DATABASE_URL" => Some(owner.clone()),
            "REDIS_URL" => {
                Some(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            }
            "REDIS_PREFIX" => Some(prefix.clone()),
            "ONEGRID_POOL_SIZE" => Some("4".into()),
            "ONEGRID_ATTACHMENT_DIR" => Some(
                std::env::temp_dir()
                    .join(format!("onegrid-test-blobs/{db_name}"))
                    .to_string_lossy()
                    .into_owned(),
            ),
            _ => None,
        }
    })
    .unwrap()
}

impl TestApp {
    /// A fresh database and a server on a free loopback port.
    pub async fn start() -> TestApp {
        TestApp::start_with(&[]).await
    }

    /// A fresh API with the standard two-street [`World`] built in it.
    pub async fn with_world() -> (TestApp, World) {
        let app = TestApp::start().await;
        let w = World::build(&app).await;
        (app, w)
    }

    /// As [`TestApp::start`], with configuration overrides.
    pub async fn start_with(overrides: &[(&str, &str)]) -> TestApp {
        TestApp::serve(TestDb::create().await, overrides).await
    }

    /// Stops this server and serves the same database with another configuration
    /// (as an operator restarting the API after changing its environment).
    pub async fn restart_with(self, overrides: &[(&str, &str)]) -> TestApp {
        self.stop().await;
        TestApp::serve(self.db, overrides).await
    }

    async fn serve(db: TestDb, overrides: &[(&str, &str)]) -> TestApp {
        // Server errors are logged; nextest shows the output of failing tests.
        onegrid_api::server::init_logging();
        let config = test_config(&db, overrides);
        let clock = Arc::new(ManualClock::new());
        let state = onegrid_api::server::state(config, clock.clone())
            .await
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let data = Data::new(state.clone());
        let server = HttpServer::new(move || onegrid_api::app::build(data.clone()))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        // Idle connections are dropped well before the server's 5 s
        // keep-alive ends them: a request sent on a connection the server is
        // closing fails (hyper IncompleteMessage), as after a slow fixture.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(1))
            .build()
            .unwrap();
        TestApp {
            db,
            state,
            clock,
            base,
            client,
            server: handle,
        }
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            builder: self.client.request(method, format!("{}{path}", self.base)),
        }
    }
    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// GET `path` as the holder of `token`.
    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.get(path).bearer(token).send().await
    }

    /// POST `body` to `path` as the holder of `token`.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.post(path).bearer(token).json(body).send().await
    }

    /// POST `body` to `path` as the holder of `token`, with `Idempotency-Key: key`.
    pub async fn post_keyed(&self, token: &str, path: &str, key: &str, body: &Value) -> Reply {
        let call = self.post(path).bearer(token).header("idempotency-key", key);
        call.json(body).send().await
    }

    /// POST `body` to `path` as the holder of `token`, `If-Match: etag`.
    pub async fn post_at(&self, token: &str, path: &str, etag: &str, body: &Value) -> Reply {
        let call = self.post(path).bearer(token).header("if-match", etag);
        call.json(body).send().await
    }

    /// PATCH `path` with `body` as the holder of `token`, `If-Match: etag`.
    pub async fn patch_at(&self, token: &str, path: &str, etag: &str, body: &Value) -> Reply {
        let call = self.patch(path).bearer(token).header("if-match", etag);
        call.json(body).send().await
    }

    /// `token` re-signed for its session at the clock's now, if this platform
    /// signed it (its signature and claims hold at the instant it was issued).
    fn fresh_token(&self, token: &str) -> Option<String> {
        use base64::Engine;
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        let iat = serde_json::from_slice::<Value>(&bytes).ok()?["iat"].as_i64()?;
        let claims = self.state.tokens.verify(token, iat).ok()?;
        let ttl = i64::try_from(self.state.config.access_ttl.as_secs()).ok()?;
        self.state
            .tokens
            .issue(
                claims.sub,
                claims.sid,
                claims.dst,
                self.clock.now().timestamp(),
                ttl,
            )
            .ok()
    }

    /// Logs in and returns the whole token response.
    pub async fn login_reply(&self, username: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
    }

    /// Logs in with the fixture password and returns the access token.
    pub async fn token(&self, username: &str) -> String {
        let reply = self.login_reply(username, PASSWORD).await;
        reply.ok(200)["access_token"].as_str().unwrap().to_owned()
    }

    /// A community ledger type `fire_checks` of 明日星城社区 whose records go
    /// stale after one day, created by `admin`, with one record in grid a1-1
    /// created by `worker`; returns the record.
    pub async fn short_lived_record(&self, w: &World, admin: &str, worker: &str) -> Value {
        let t = self
            .post("/api/v1/ledger-types")
            .bearer(admin)
            .json(&serde_json::json!({
                "code": "fire_checks", "name": "消防巡查", "subject": "none", "sensitivity": "open",
                "verify_period_days": 1,
                "fields": [{"key": "spot", "label": "点位", "type": "text", "required": true}],
                "scope": {"community_id": w.community_a1}
            }))
            .send()
            .await;
        let t = t.ok(201)["id"].as_str().unwrap().to_owned();
        self.post(&format!("/api/v1/ledger-types/{t}/records"))
            .bearer(worker)
            .json(&serde_json::json!({"grid_id": w.grid_a1_1, "data": {"spot": "3号楼消防通道"}}))
            .send()
            .await
            .ok(201)
            .clone()
    }

    /// The id of the ledger type with `code` visible to the token's holder.
    pub async fn ledger_type_id(&self, token: &str, code: &str) -> String {
        let list = self
            .get("/api/v1/ledger-types?limit=200")
            .bearer(token)
            .send()
            .await;
        let items = list.ok(200)["items"].as_array().unwrap().clone();
        items
            .iter()
            .find(|t| t["code"] == code)
            .unwrap_or_else(|| panic!("no ledger type {code}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A pool like the worker's: the app role, every session marked as the
    /// worker's (it sees and works the jobs of every street).
    pub fn worker_db(&self) -> onegrid_store::Db {
        let settings = onegrid_store::PoolSettings::new("test-worker", 5).for_worker();
        onegrid_store::Db::new(&self.db.app_url(), &settings, self.clock.clone()).unwrap()
    }

    /// The system's door on this test's database (the owner), on the test's clock.
    pub async fn system(&self) -> onegrid_store::System {
        onegrid_store::System::connect(&self.db.url(), self.clock.clone())
            .await
            .unwrap()
    }

    /// An in-process worker on [`TestApp::worker_db`] and the test's clock.
    pub fn runner(&self) -> onegrid_worker::runner::Runner {
        onegrid_worker::runner::Runner {
            db: self.worker_db(),
            worker_id: "test-worker".into(),
            clock: self.clock.clone(),
            lease: chrono::Duration::seconds(60),
            batch: 100,
            concurrency: 4,
            webhooks: onegrid_worker::runner::Webhooks::from_config(&self.state.config).unwrap(),
        }
    }

    /// Runs worker passes at `when` until nothing is left to do; the number
    /// of jobs and fires they ran.
    pub async fn settle_at(&self, when: &str) -> usize {
        let mut ran = 0;
        loop {
            let pass = self.tick_at(when).await;
            if pass.ran() == 0 {
                return ran;
            }
            ran += pass.ran();
        }
    }

    /// Moves the clock to `when` (RFC 3339) and runs one worker pass.
    pub async fn tick_at(&self, when: &str) -> onegrid_worker::runner::Pass {
        self.clock
            .set(Some(DateTime::parse_from_rfc3339(when).unwrap().to_utc()));
        self.runner()
            .tick(&std::sync::atomic::AtomicBool::new(false))
            .await
            .unwrap()
    }

    /// A department staff account for the department `department_id`,
    /// created and granted through the API by the district admin; logged in.
    pub async fn department_staff(
        &self,
        d_admin: &str,
        username: &str,
        department_id: &str,
    ) -> String {
        let scope = serde_json::json!({"department_id": department_id});
        self.staff(d_admin, username, "department_staff", &scope)
            .await
    }

    /// A staff account holding `role` in `scope`, created and granted through
    /// the API by `admin`; logged in.
    pub async fn staff(&self, admin: &str, username: &str, role: &str, scope: &Value) -> String {
        let user = self
            .post("/api/v1/users")
            .bearer(admin)
            .json(&serde_json::json!({"username": username, "display_name": format!("{username} 测试"),
                "password": PASSWORD}))
            .send()
            .await;
        let user_id = user.ok(201)["id"].as_str().unwrap().to_owned();
        self.post(&format!("/api/v1/users/{user_id}/roles"))
            .bearer(admin)
            .json(&serde_json::json!({"role": role, "scope": scope}))
            .send()
            .await
            .ok(201);
        self.token(username).await
    }

    /// Loads the test calendar through the API as the district admin: the
    /// official 2026 days plus an adjusted working Saturday (5 December) and
    /// a holiday Monday (7 December).
    pub async fn load_test_calendar(&self, d_admin: &str) {
        let current = self
            .get("/api/v1/calendar?year=2026")
            .bearer(d_admin)
            .send()
            .await;
        let mut days = current.ok(200)["days"].as_array().unwrap().clone();
        assert_eq!(
            days.len(),
            39,
            "the official 2026 calendar ships with the district"
        );
        days.push(serde_json::json!({"day": "2026-12-05", "kind": "workday", "name": "测试调休"}));
        days.push(serde_json::json!({"day": "2026-12-07", "kind": "holiday", "name": "测试假日"}));
        let put = self
            .call(Method::PUT, "/api/v1/calendar/2026")
            .bearer(d_admin)
            .json(&serde_json::json!({"days": days}))
            .send()
            .await;
        assert_eq!(put.ok(200)["days"].as_array().unwrap().len(), 41);
    }

    /// The id of the case category with `code` (e.g. `03.02`).
    pub async fn case_category(&self, token: &str, code: &str) -> String {
        let list = self
            .get("/api/v1/case-categories")
            .bearer(token)
            .send()
            .await;
        list.ok(200)
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap_or_else(|| panic!("no category {code}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Files a case that must be accepted (201); returns it.
    pub async fn file_case(&self, token: &str, body: &Value) -> Value {
        let reply = self
            .post("/api/v1/cases")
            .bearer(token)
            .json(body)
            .send()
            .await;
        reply.ok(201).clone()
    }

    /// Takes a lifecycle step on the case as last read (its version is the If-Match).
    pub async fn case_step(&self, token: &str, case: &Value, body: &Value) -> Reply {
        self.post(&format!(
            "/api/v1/cases/{}/steps",
            case["id"].as_str().unwrap()
        ))
        .bearer(token)
        .header("if-match", &format!("\"{}\"", case["version"]))
        .json(body)
        .send()
        .await
    }

    /// A step that must succeed (201); returns the case after it.
    pub async fn case_step_ok(&self, token: &str, case: &Value, body: &Value) -> Value {
        let reply = self.case_step(token, case, body).await;
        assert_eq!(reply.status.as_u16(), 201, "{body}: {}", reply.text);
        reply.body
    }

    /// Stops the server (in-flight requests finish first).
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}
