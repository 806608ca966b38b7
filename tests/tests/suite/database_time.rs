//! The database's time is the platform's clock: a row written through the
//! API or the worker carries the injected clock's time in every timestamp
//! column, defaults included, never the day the process happens to run.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::sql_types::{Text, Timestamptz};
use diesel_async::RunQueryDsl;
use onegrid_domain::clock::{Clock, SystemClock};
use onegrid_tests::TestApp;
use serde_json::json;

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(diesel::QueryableByName)]
struct Hits {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Every timestamp column holding an instant between `from` and `to`, with
/// how many rows do.
async fn columns_holding(app: &TestApp, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut owner = app.db.owner().await;
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type = 'timestamp with time zone' \
           AND table_name IN (SELECT table_name FROM information_schema.tables \
                              WHERE table_schema = 'public' AND table_type = 'BASE TABLE')",
    )
    .load(&mut owner)
    .await
    .unwrap();
    assert!(
        columns.len() > 40,
        "only {} timestamp columns",
        columns.len()
    );
    let mut found = Vec::new();
    for c in columns {
        let hits: Hits = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM \"{}\" WHERE \"{}\" BETWEEN $1 AND $2",
            c.table_name, c.column_name
        ))
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .get_result(&mut owner)
        .await
        .unwrap();
        if hits.n > 0 {
            found.push(format!(
                "{}.{} ({} rows)",
                c.table_name, c.column_name, hits.n
            ));
        }
    }
    found
}

#[tokio::test]
async fn rows_carry_the_clocks_time_never_the_servers() {
    let (app, w) = TestApp::with_world().await;
    // The clock, ten years from the wall: any instant of the wall clock in a
    // row written from here on came from the database's own now(). (The
    // district was bootstrapped before, by the operator's command, on the
    // wall clock.)
    let wall_from = SystemClock.now();
    let pinned = (wall_from + Duration::days(3653)).trunc_subsecs(0);
    app.clock.set(Some(pinned));

    let admin = app.token("a1-admin").await;
    let worker = app.token("a1-worker").await;
    let record = app.short_lived_record(&w, &admin, &worker).await;
    let resident = app
        .post_keyed(
            &worker,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            "resident-once",
            &json!({"name": "宋金伟", "id_number": "150203196503151231", "relation": "head"}),
        )
        .await;
    let resident = resident.created_id();
    app.post_as(
        &worker,
        &format!("/api/v1/residents/{resident}/reveal"),
        &json!({"field": "id_number", "purpose": "低保复核入户核对"}),
    )
    .await
    .ok(200);
    let noise = app.case_category(&worker, "03.02").await;
    let case = app
        .file_case(
            &worker,
            &json!({"channel": "face_to_face", "category_id": noise, "grid_id": w.grid_a1_1,
                    "title": "夜间噪声", "description": "楼下商铺夜间施工"}),
        )
        .await;
    app.case_step_ok(&worker, &case, &json!({"step": "accept"}))
        .await;
    let runner = app.runner();
    runner.ensure_schedules().await.unwrap();
    let later = (pinned + Duration::days(2)).to_rfc3339();
    while app.tick_at(&later).await.ran() > 0 {}
    let wall_to = SystemClock.now() + Duration::minutes(1);

    assert!(app.db.count("audit_log").await > 0);
    let worked = "SELECT count(*) FROM jobs WHERE state = 'completed'";
    assert!(app.db.scalar(worked).await > 0, "the worker did some work");
    let stamped = |v: &serde_json::Value| {
        DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    assert_eq!(stamped(&record["verified_at"]), pinned);
    assert_eq!(
        columns_holding(&app, wall_from, wall_to).await,
        Vec::<String>::new(),
        "columns holding the server's wall-clock time"
    );
    assert!(
        !columns_holding(&app, pinned, pinned + Duration::days(3))
            .await
            .is_empty()
    );
}
