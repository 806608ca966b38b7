//! Database creation and embedded migrations, run as the owner role.

use diesel::sql_types::Text;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{StoreError, StoreResult};

/// The SQL migrations of `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

use onegrid_config::APP_ROLE;

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

/// Splits `postgres://…/name?…` into the URL of the `postgres` maintenance
/// database and the database name.
pub fn maintenance_url(url: &str) -> StoreResult<(String, String)> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (server, name) = base
        .rsplit_once('/')
        .filter(|(server, name)| {
            server.contains("//") && !name.is_empty() && !server.ends_with('/')
        })
        .ok_or_else(|| {
            StoreError::Unavailable(format!("DATABASE_URL has no database name: {url}"))
        })?;
    let maintenance = match query {
        Some(q) => format!("{server}/postgres?{q}"),
        None => format!("{server}/postgres"),
    };
    Ok((maintenance, name.to_owned()))
}

/// Creates the database named in `url` if it does not exist; returns whether it did.
pub async fn create_database_if_missing(url: &str) -> StoreResult<bool> {
    let (maintenance, name) = maintenance_url(url)?;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Unavailable(format!(
            "unsupported database name {name:?}"
        )));
    }
    let mut conn = AsyncPgConnection::establish(&maintenance)
        .await
        .map_err(|e| StoreError::Unavailable(format!("{maintenance}: {e}")))?;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&name)
            .get_result(&mut conn)
            .await?;
    if found.exists {
        return Ok(false);
    }
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await?;
    Ok(true)
}

/// Applies pending migrations; returns the versions applied.
pub async fn run_migrations(url: &str) -> StoreResult<Vec<String>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|e| StoreError::Unavailable(e.to_string()))?
}

/// Sets the application role's password (deployments without trust auth).
pub async fn set_app_password(url: &str, password: &str) -> StoreResult<()> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
    let escaped = password.replace('\'', "''");
    diesel::sql_query(format!(
        "ALTER ROLE {APP_ROLE} WITH LOGIN PASSWORD '{escaped}'"
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}
