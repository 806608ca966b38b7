//! The job queue's mechanics against the real database: unique keys, claims
//! that never overlap, completion fenced on the lease, heartbeats, rescue of
//! expired leases, retries to a terminal state, replay, and the tenant wall.

use chrono::{Duration, Utc};
use onegrid_domain::jobs::JobState;
use onegrid_store::Acting;
use onegrid_store::StoreError;
use onegrid_store::integrations::jobs::{self, Job, NewJob};
use onegrid_tests::TestApp;
use serde_json::json;

fn job(key: Option<&str>, run_at: chrono::DateTime<Utc>, max_attempts: i32) -> NewJob {
    NewJob {
        queue: "test",
        kind: "test.noop",
        unique_key: key.map(str::to_owned),
        district_id: None,
        street_id: None,
        payload: json!({"n": 1}),
        run_at,
        max_attempts,
    }
}

/// A job of `kind` on `queue`, due a second before `now`.
fn due(
    key: &str,
    (queue, kind): (&'static str, &'static str),
    now: chrono::DateTime<Utc>,
    max_attempts: i32,
) -> NewJob {
    NewJob {
        queue,
        kind,
        ..job(Some(key), now - Duration::seconds(1), max_attempts)
    }
}

/// The test's worker: ten jobs a pass under a 30-second lease.
fn runner(app: &TestApp) -> onegrid_worker::runner::Runner {
    onegrid_worker::runner::Runner {
        worker_id: "t".into(),
        lease: Duration::seconds(30),
        batch: 10,
        ..app.runner()
    }
}

/// A job as the table holds it.
#[derive(diesel::QueryableByName)]
struct JobRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    last_error: Option<String>,
}

/// Every job, by kind, read as the owner.
async fn job_rows(app: &TestApp) -> Vec<JobRow> {
    use diesel_async::RunQueryDsl;
    let mut owner = app.db.owner().await;
    diesel::sql_query("SELECT kind, state, last_error FROM jobs ORDER BY kind")
        .load(&mut owner)
        .await
        .unwrap()
}

async fn enqueue(app: &TestApp, j: NewJob) -> bool {
    app.worker_db()
        .acting::<_, StoreError, _>(Acting::Nobody, move |c| {
            Box::pin(async move { jobs::enqueue(c, j).await })
        })
        .await
        .unwrap()
}

async fn claim(
    app: &TestApp,
    worker: &str,
    n: i32,
    lease_secs: i64,
    now: chrono::DateTime<Utc>,
) -> Vec<Job> {
    let worker = worker.to_owned();
    app.worker_db()
        .acting::<_, StoreError, _>(Acting::Nobody, move |c| {
            Box::pin(async move {
                jobs::claim(c, &["test"], n, &worker, Duration::seconds(lease_secs), now).await
            })
        })
        .await
        .unwrap()
}

async fn with<T: Send + 'static>(
    app: &TestApp,
    f: impl for<'c> FnOnce(
        &'c mut onegrid_store::Conn,
    ) -> futures_util::future::BoxFuture<'c, Result<T, StoreError>>
    + Send,
) -> T {
    app.worker_db().acting(Acting::Nobody, f).await.unwrap()
}

/// What the rescuer hands back at `at`.
async fn rescue_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> Vec<jobs::Job> {
    with(app, move |c| {
        Box::pin(async move { jobs::rescue(c, at, onegrid_worker::runner::BACKOFF).await })
    })
    .await
}

#[tokio::test]
async fn unique_keys_disjoint_claims_and_future_jobs() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    assert!(enqueue(&app, job(Some("k1"), now, 5)).await);
    assert!(
        !enqueue(&app, job(Some("k1"), now, 5)).await,
        "same logical job, queued once"
    );
    for _ in 0..9 {
        enqueue(&app, job(None, now - Duration::seconds(1), 5)).await;
    }
    enqueue(&app, job(Some("later"), now + Duration::hours(1), 5)).await;
    assert_eq!(app.db.count("jobs").await, 11);
    // Two workers claiming at once never get the same job; the future one waits.
    let (a, b) = tokio::join!(claim(&app, "w1", 6, 30, now), claim(&app, "w2", 6, 30, now));
    let mut ids: Vec<_> = a.iter().chain(&b).map(|j| j.id).collect();
    assert_eq!(ids.len(), 10);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "no job claimed twice");
    assert!(a.iter().chain(&b).all(|j| j.state.as_str() == "running"
        && j.attempt == 1
        && j.unique_key.as_deref() != Some("later")));
    assert!(claim(&app, "w3", 10, 30, now).await.is_empty());
    // Moving a waiting job: it becomes due.
    let moved = with(&app, |c| {
        Box::pin(async move { jobs::reschedule(c, "later", now - Duration::seconds(1)).await })
    })
    .await;
    assert!(moved);
    assert_eq!(claim(&app, "w3", 10, 30, now).await.len(), 1);
}

#[tokio::test]
async fn completion_is_fenced_on_the_lease_and_expired_leases_are_rescued() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    enqueue(&app, job(Some("fenced"), now, 5)).await;
    let first = claim(&app, "w1", 1, 30, now).await.remove(0);
    let token1 = first.lease_token.unwrap();
    // A heartbeat keeps the lease; the rescuer leaves it alone.
    let later = now + Duration::seconds(20);
    assert!(
        with(&app, move |c| Box::pin(async move {
            jobs::heartbeat_all(c, &[token1], Duration::seconds(30), later)
                .await
                .map(|kept| kept == 1)
        }))
        .await
    );
    let rescued = rescue_at(&app, now + Duration::seconds(40)).await;
    assert!(
        rescued.is_empty(),
        "the heartbeat extended the lease to +50 s"
    );
    // Past the lease: the rescuer hands it back; the old holder can no longer finish it.
    let rescued = rescue_at(&app, now + Duration::seconds(60)).await;
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].state.as_str(), "available");
    // It waits its backoff (2 s ± 25 % after a first attempt), as a retry does.
    let wait = rescued[0].run_at - (now + Duration::seconds(60));
    assert!(
        (Duration::milliseconds(1500)..=Duration::milliseconds(2500)).contains(&wait),
        "{wait}"
    );
    assert!(
        claim(&app, "w2", 1, 30, now + Duration::seconds(61))
            .await
            .is_empty()
    );
    let second = claim(&app, "w2", 1, 30, now + Duration::seconds(63))
        .await
        .remove(0);
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempt, 2);
    let token2 = second.lease_token.unwrap();
    assert_ne!(token1, token2);
    let at = now + Duration::seconds(64);
    assert!(
        !with(&app, move |c| Box::pin(async move {
            jobs::complete(c, first.id, token1, at).await
        }))
        .await,
        "a lost lease applies nothing"
    );
    assert!(
        !with(&app, move |c| Box::pin(async move {
            jobs::heartbeat_all(c, &[token1], Duration::seconds(30), at)
                .await
                .map(|kept| kept == 1)
        }))
        .await
    );
    assert!(
        with(&app, move |c| Box::pin(async move {
            jobs::complete(c, second.id, token2, at).await
        }))
        .await
    );
    let done = with(&app, move |c| {
        Box::pin(async move { jobs::get(c, second.id).await })
    })
    .await;
    assert_eq!((done.state.as_str(), done.lease_token), ("completed", None));
    assert!(
        !with(&app, move |c| Box::pin(async move {
            jobs::complete(c, second.id, token2, at).await
        }))
        .await,
        "completes once"
    );
}

#[tokio::test]
async fn retries_with_backoff_end_in_a_terminal_state_an_admin_can_replay() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    enqueue(&app, job(Some("flaky"), now, 2)).await;
    let j = claim(&app, "w1", 1, 30, now).await.remove(0);
    let retry_at = now + Duration::seconds(10);
    let state = with(&app, move |c| {
        Box::pin(
            async move { jobs::fail(c, j.id, j.lease_token.unwrap(), "boom", retry_at, now).await },
        )
    })
    .await;
    assert_eq!(state.map(JobState::as_str), Some("available"));
    assert!(
        claim(&app, "w1", 1, 30, now + Duration::seconds(5))
            .await
            .is_empty(),
        "backing off"
    );
    let j = claim(&app, "w1", 1, 30, now + Duration::seconds(11))
        .await
        .remove(0);
    assert_eq!(j.attempt, 2);
    // A snooze (the watched deadline moved) does not count as an attempt.
    let token = j.lease_token.unwrap();
    assert!(
        with(&app, move |c| Box::pin(async move {
            jobs::snooze(c, j.id, token, now + Duration::seconds(12)).await
        }))
        .await
    );
    let j = claim(&app, "w1", 1, 30, now + Duration::seconds(13))
        .await
        .remove(0);
    assert_eq!(j.attempt, 2);
    let state = with(&app, move |c| {
        Box::pin(async move {
            jobs::fail(c, j.id, j.lease_token.unwrap(), "boom again", retry_at, now).await
        })
    })
    .await;
    assert_eq!(
        state.map(JobState::as_str),
        Some("failed"),
        "the last attempt is terminal"
    );
    assert!(
        claim(&app, "w1", 1, 30, now + Duration::hours(1))
            .await
            .is_empty()
    );
    let stats = with(&app, move |c| {
        Box::pin(async move { jobs::stats(c, now).await })
    })
    .await;
    assert_eq!(
        (stats[0].queue.as_str(), stats[0].failed, stats[0].depth),
        ("test", 1, 0)
    );
    let failed = with(&app, move |c| {
        Box::pin(async move { jobs::get(c, j.id).await })
    })
    .await;
    assert_eq!(failed.last_error.as_deref(), Some("boom again"));
    assert!(
        with(&app, move |c| Box::pin(async move {
            jobs::replay(c, j.id, now).await
        }))
        .await
    );
    let again = claim(&app, "w1", 1, 30, now + Duration::seconds(1))
        .await
        .remove(0);
    assert_eq!((again.id, again.attempt), (j.id, 1));
}

#[tokio::test]
async fn jobs_stay_behind_the_tenant_wall() {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let (app, w) = TestApp::with_world().await;
    let now = app.clock.now();
    let mut a = job(Some("street-a"), now, 5);
    a.district_id = Some(w.district);
    a.street_id = Some(w.street_a);
    enqueue(&app, a).await;
    // As the app role with street B's scope: nothing; without scope: nothing.
    let mut conn = app.db.app().await;
    let (district, street_b) = (w.district.to_string(), w.street_b.to_string());
    let seen: i64 = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            diesel::sql_query("SELECT set_config('app.district_id', $1, true), set_config('app.street_ids', $2, true)")
                .bind::<diesel::sql_types::Text, _>(&district)
                .bind::<diesel::sql_types::Text, _>(&street_b)
                .execute(c)
                .await?;
            Ok(diesel::sql_query("SELECT count(*) AS n FROM jobs").get_result::<N>(c).await?.n)
        })
        .await
        .unwrap();
    assert_eq!(seen, 0);
    let unscoped = app
        .state
        .db
        .acting::<_, StoreError, _>(Acting::Nobody, |c| {
            Box::pin(async move {
                use diesel::QueryDsl;
                Ok(onegrid_store::schema::jobs::table
                    .count()
                    .get_result::<i64>(c)
                    .await?)
            })
        })
        .await
        .unwrap();
    assert_eq!(unscoped, 0, "only the worker sees every street's jobs");
    let mut b = job(None, now, 5);
    b.district_id = Some(w.district);
    b.street_id = Some(w.street_b);
    let refused = app
        .state
        .db
        .acting::<_, StoreError, _>(Acting::Nobody, move |c| {
            Box::pin(async move { jobs::enqueue(c, b).await })
        })
        .await;
    assert!(
        refused.is_err(),
        "a tenant cannot queue work in a street it does not see"
    );
}

#[tokio::test]
async fn the_runner_completes_noops_and_fails_unknown_kinds_for_good() {
    use std::sync::atomic::AtomicBool;
    let app = TestApp::start().await;
    let now = app.clock.now();
    enqueue(&app, due("noop-1", ("noop", "noop"), now, 3)).await;
    enqueue(&app, due("bogus-1", ("noop", "bogus.kind"), now, 1)).await;
    let runner = runner(&app);
    let pass = runner.tick(&AtomicBool::new(false)).await.unwrap();
    assert_eq!((pass.completed, pass.failed), (1, 1));
    // A stopping worker claims nothing more.
    let stopped = runner.tick(&AtomicBool::new(true)).await.unwrap();
    assert_eq!(stopped.ran(), 0);
    let rows = job_rows(&app).await;
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].state.as_str()),
        ("bogus.kind", "failed")
    );
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no runner for job kind bogus.kind")
    );
    assert_eq!(
        (rows[1].kind.as_str(), rows[1].state.as_str()),
        ("noop", "completed")
    );
}

#[tokio::test]
async fn a_payload_that_does_not_fit_its_kind_fails_naming_the_kind_not_the_value() {
    use std::sync::atomic::AtomicBool;
    let app = TestApp::start().await;
    let mut deadline = due("ill-typed-1", ("sla", "sla.deadline"), app.clock.now(), 1);
    deadline.payload = json!({"clock_id": "not-a-uuid-4711", "stage": "due"});
    enqueue(&app, deadline).await;
    let runner = runner(&app);
    let pass = runner.tick(&AtomicBool::new(false)).await.unwrap();
    assert_eq!((pass.completed, pass.failed), (0, 1));
    let rows = job_rows(&app).await;
    let [row] = rows.as_slice() else {
        panic!("one job")
    };
    let error = row.last_error.clone().unwrap();
    assert_eq!(row.state, "failed");
    assert!(
        error.contains("the payload of sla.deadline does not parse"),
        "{error}"
    );
    assert!(
        !error.contains("4711"),
        "the error echoes the payload: {error}"
    );
}

#[tokio::test]
async fn district_admins_see_failed_jobs_and_replay_them() {
    use std::sync::atomic::AtomicBool;
    let (app, w) = TestApp::with_world().await;
    let d_admin = app.token("d-admin").await;
    let a_admin = app.token("a-admin").await;
    let now = app.clock.now();
    let mut broken = due("broken-1", ("noop", "no.such.kind"), now, 1);
    broken.district_id = Some(w.district);
    broken.street_id = Some(w.street_a);
    enqueue(&app, broken).await;
    let runner = runner(&app);
    assert_eq!(
        runner.tick(&AtomicBool::new(false)).await.unwrap().failed,
        1
    );
    let failed = app.get_as(&d_admin, "/api/v1/jobs?state=failed").await;
    let items = failed.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "no.such.kind");
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("no runner")
    );
    let id = items[0]["id"].as_str().unwrap().to_owned();
    app.get_as(&a_admin, "/api/v1/jobs")
        .await
        .problem(403, "forbidden");
    app.get_as(&d_admin, "/api/v1/jobs?state=lost")
        .await
        .problem(400, "invalid_parameter");
    let replayed = app
        .post(&format!("/api/v1/jobs/{id}/replay"))
        .bearer(&d_admin)
        .send()
        .await;
    let body = replayed.ok(200).clone();
    assert_eq!(
        (body["state"].as_str(), body["attempt"].as_i64()),
        (Some("available"), Some(0))
    );
    let again = app
        .post(&format!("/api/v1/jobs/{id}/replay"))
        .bearer(&d_admin)
        .send()
        .await;
    assert!(
        again.problem(409, "conflict")["detail"]
            .as_str()
            .unwrap()
            .contains("available")
    );
    let one = app.get_as(&d_admin, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(one.ok(200)["state"], "available");
}

#[tokio::test]
async fn a_committed_job_wakes_a_listening_worker() {
    let app = TestApp::start().await;
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let listener = tokio::spawn(onegrid_worker::wake::listen(app.db.app_url(), wake.clone()));
    let wait = std::time::Duration::from_secs(20);
    // The session announces itself once it listens (a pass then catches up).
    tokio::time::timeout(wait, wake.notified())
        .await
        .expect("listening");
    // A job rolled back wakes nobody; a committed one does.
    let now = app.clock.now();
    let rolled_back = app
        .state
        .db
        .acting::<(), StoreError, _>(Acting::Nobody, |c| {
            Box::pin(async move {
                jobs::enqueue(c, job(Some("rolled-back"), now, 3)).await?;
                Err(StoreError::Check("roll back".into()))
            })
        })
        .await;
    assert!(rolled_back.is_err());
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified())
            .await
            .is_err(),
        "a rolled-back insert notifies nobody"
    );
    assert!(enqueue(&app, job(Some("committed"), now, 3)).await);
    tokio::time::timeout(wait, wake.notified())
        .await
        .expect("woken by the committed job");
    assert_eq!(app.db.count("jobs").await, 1);
    listener.abort();
}
