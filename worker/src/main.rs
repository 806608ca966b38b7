//! `onegrid-worker`: the background worker. This slice starts, connects to
//! PostgreSQL (its own pool) and Redis, reports liveness and readiness on its
//! own port, and stops cleanly on SIGTERM. Job runners (reminders, SLA
//! escalations, the mediation queue, webhooks) arrive with the queue.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::web::Data;
use actix_web::{App, HttpResponse, HttpServer, web};
use onegrid_config::{Config, postgres_hint, redis_hint};
use onegrid_store::{Db, PoolSettings};

/// What the health endpoints read.
struct Health {
    db: Db,
    redis: redis::Client,
    stopping: AtomicBool,
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
        &PoolSettings::new("onegrid-worker", 4),
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
    let health = Arc::new(Health {
        db,
        redis,
        stopping: AtomicBool::new(false),
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
    })
    .disable_signals()
    .workers(1)
    .bind(config.worker_bind)
    .map_err(|e| format!("ONEGRID_WORKER_BIND={}: {e}", config.worker_bind))?
    .run();
    let handle = server.handle();
    let served = tokio::spawn(server);
    tracing::info!(bind = %config.worker_bind, "onegrid worker ready");

    wait_for_stop().await;
    health.stopping.store(true, Ordering::SeqCst);
    tracing::info!("stopping: no new jobs are claimed");
    handle.stop(true).await;
    let _ = served.await;
    tracing::info!("worker stopped");
    Ok(())
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
