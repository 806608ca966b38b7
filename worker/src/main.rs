//! `onegrid-worker`: the background worker. It connects to PostgreSQL (its
//! own pool) and Redis, reports liveness, readiness and Prometheus metrics on
//! its own port, and runs the deadline queue: reminders at 50 % and 75 % of
//! every case clock and the escalation at 100 %. Several may run at once; on
//! SIGTERM it stops claiming, hands back what it claimed but did not start,
//! and exits 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::web::Data;
use actix_web::{App, HttpResponse, HttpServer, web};
use onegrid_config::{Config, postgres_hint, redis_hint};
use onegrid_domain::clock::SystemClock;
use onegrid_store::{Db, PoolSettings};
use onegrid_worker::runner::{Runner, Webhooks};

/// What the health endpoints read.
struct Health {
    db: Db,
    redis: redis::Client,
    stopping: AtomicBool,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// Jobs run at once; the pool has one connection more, for claims and stats.
const WORKER_POOL: usize = 4;

/// How often queue depth and age are published.
const STATS_EVERY: Duration = Duration::from_secs(5);

async fn metrics_page(health: Data<Arc<Health>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(health.metrics.render())
}

async fn redis_up(client: &redis::Client) -> bool {
    let attempt = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Ok(_))
    )
}

async fn readyz(health: Data<Arc<Health>>) -> HttpResponse {
    let pg = health.db.ping().await.is_ok();
    let redis = redis_up(&health.redis).await;
    let stopping = health.stopping.load(Ordering::SeqCst);
    let body = serde_json::json!({
        "status": if pg && !stopping { "ready" } else { "unready" },
        "postgres": if pg { "up" } else { "down" },
        "redis": if redis { "up" } else { "down" },
    });
    if pg && !stopping {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .try_init();
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let db = Db::new(
        &config.app_database_url,
        &PoolSettings::new("onegrid-worker", WORKER_POOL + 1).for_worker(),
        Arc::new(SystemClock),
    )
    .map_err(|e| e.to_string())?;
    db.ping()
        .await
        .map_err(|e| postgres_hint(&config.app_database_url, &e.to_string()))?;
    let redis =
        redis::Client::open(config.redis_url.as_str()).map_err(|e| format!("REDIS_URL: {e}"))?;
    if !redis_up(&redis).await {
        tracing::warn!(
            "{}",
            redis_hint(&config.redis_url, "no answer within 500 ms")
        );
    }
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _ = metrics::set_global_recorder(recorder);
    let runner = Runner {
        db: db.clone(),
        worker_id: format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into()),
            std::process::id()
        ),
        clock: Arc::new(SystemClock),
        lease: chrono::Duration::from_std(config.worker_lease)
            .map_err(|e| format!("ONEGRID_WORKER_LEASE_SECS: {e}"))?,
        batch: config.worker_batch,
        concurrency: WORKER_POOL,
        webhooks: Webhooks::from_config(&config)?,
    };
    let health = Arc::new(Health {
        db,
        redis,
        stopping: AtomicBool::new(false),
        metrics: handle,
    });
    let data = Data::new(health.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics_page))
    })
    .disable_signals()
    .workers(1)
    .bind(config.worker_bind)
    .map_err(|e| format!("ONEGRID_WORKER_BIND={}: {e}", config.worker_bind))?
    .run();
    let handle = server.handle();
    let served = tokio::spawn(server);
    tracing::info!(bind = %config.worker_bind, "onegrid worker ready");

    let wake = Arc::new(tokio::sync::Notify::new());
    let listening = tokio::spawn(onegrid_worker::wake::listen(
        config.app_database_url.clone(),
        wake.clone(),
    ));
    let looping = {
        let health = health.clone();
        let poll = config.worker_poll;
        tokio::spawn(async move { work(runner, &health.stopping, poll, &wake).await })
    };
    wait_for_stop().await;
    health.stopping.store(true, Ordering::SeqCst);
    tracing::info!("stopping: no new jobs are claimed");
    // The pass in flight finishes (its jobs run, or go back unstarted).
    if tokio::time::timeout(Duration::from_secs(25), looping)
        .await
        .is_err()
    {
        tracing::warn!("the last pass outlived 25 s; its leases will be rescued");
    }
    listening.abort();
    handle.stop(true).await;
    let _ = served.await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Runs passes until stopped: at once while there is work; when idle, at
/// the next job notice or after `poll`, whichever comes first.
async fn work(runner: Runner, stopping: &AtomicBool, poll: Duration, wake: &tokio::sync::Notify) {
    let mut last_stats = std::time::Instant::now() - STATS_EVERY;
    while !stopping.load(Ordering::SeqCst) {
        if last_stats.elapsed() >= STATS_EVERY {
            if let Err(e) = runner.record_queue_stats().await {
                tracing::warn!(error = %e, "queue stats unavailable");
            }
            // New districts get their built-in schedules within one interval.
            if let Err(e) = runner.ensure_schedules().await {
                tracing::warn!(error = %e, "built-in schedules not ensured");
            }
            last_stats = std::time::Instant::now();
        }
        match runner.tick(stopping).await {
            Ok(pass) if pass.ran() > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pass failed; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = wake.notified() => {}
        }
    }
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("onegrid-worker: {message}");
            ExitCode::FAILURE
        }
    }
}
