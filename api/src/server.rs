//! Starting the API: configuration, dependency checks with one clear line
//! each, the state, and the HTTP server with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::web::Data;
use onegrid_config::{Config, postgres_hint, redis_hint};
use onegrid_store::{Db, PoolSettings};

use crate::cache::Cache;
use crate::platform::auth::jwt::TokenKeys;
use crate::platform::auth::throttle::LoginThrottle;
use crate::state::AppState;

/// Builds the state from configuration; checks PostgreSQL (fatal) and Redis (warning).
pub async fn state(
    config: Config,
    clock: Arc<dyn onegrid_domain::clock::Clock>,
) -> Result<AppState, String> {
    let db = Db::new(
        &config.app_database_url,
        &PoolSettings::new("onegrid-api", config.pool_size),
        clock.clone(),
    )
    .map_err(|e| postgres_hint(&config.app_database_url, &e.to_string()))?;
    db.ping()
        .await
        .map_err(|e| postgres_hint(&config.app_database_url, &e.to_string()))?;
    let cache = Cache::new(&config.redis_url, &config.redis_prefix)?;
    if let Err(e) = cache.ping().await {
        tracing::warn!("{}", redis_hint(&config.redis_url, &e));
    }
    let tokens = TokenKeys::new(
        &config.jwt_private_pem,
        &config.jwt_public_pem,
        &config.jwt_kid,
        &config.jwt_issuer,
        &config.jwt_audience,
    )?;
    let throttle = Arc::new(LoginThrottle::new(
        db.clone(),
        clock.clone(),
        config.login_max_failures,
        config.login_window,
    ));
    let reveals = Arc::new(crate::platform::auth::throttle::RevealQuota::new(
        30,
        Duration::from_secs(3600),
    ));
    let keys = field_keys(&config);
    let blobs = Arc::new(onegrid_store::blobs::LocalDisk::new(&config.attachment_dir));
    Ok(AppState {
        config: Arc::new(config),
        db,
        cache,
        tokens,
        clock,
        throttle,
        reveals,
        keys,
        blobs,
        metrics: crate::metrics::handle(),
    })
}

/// The field keys the configuration names: the current one and the retired ones.
pub fn field_keys(config: &Config) -> onegrid_store::crypto::FieldKeys {
    onegrid_store::crypto::FieldKeys::new(
        (&config.field_key_id, &config.field_key),
        &config.previous_field_keys,
    )
}

/// Serves until SIGTERM/SIGINT: stops accepting, finishes in-flight requests
/// (up to 30 s), then returns.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let bind = state.config.bind;
    let data = Data::new(state);
    tracing::info!(%bind, "onegrid api listening");
    HttpServer::new(move || crate::app::build(data.clone()))
        .bind(bind)?
        .shutdown_timeout(30)
        .client_request_timeout(Duration::from_secs(10))
        .run()
        .await
}

/// JSON log lines on stdout, filtered by `RUST_LOG` (default `info`). The
/// framework's extractor debug lines quote the request path (which can carry
/// a value), so they stay off whatever `RUST_LOG` asks for.
pub fn init_logging() {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if let Ok(quiet) = "actix_web::types=info".parse() {
        filter = filter.add_directive(quiet);
    }
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .try_init();
}
