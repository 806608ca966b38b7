//! `onegrid`: the API server and its operational commands.

use std::process::ExitCode;
use std::sync::Arc;

use onegrid_api::{openapi, seed, server};
use onegrid_config::{Config, VARIABLES};
use onegrid_domain::clock::{Clock, SystemClock};
use onegrid_store::{Db, PoolSettings, System, migrate};

const USAGE: &str = "usage: onegrid <command>

commands:
  up [--demo]     create and migrate the database, [load demo data], start the worker and serve
  serve           serve the API (the database must be migrated)
  migrate         create the database if missing and apply migrations
  seed-demo       load the demo data (refused in production)
  bootstrap <district-code> <district-name> <admin-username>
                  create a district, its ten departments and its admin
                  (password from ONEGRID_BOOTSTRAP_PASSWORD)
  rekey-fields    re-seal ID numbers and phones sealed under a retired field key
                  (ONEGRID_PREVIOUS_FIELD_KEYS) with the current one
  openapi         print the OpenAPI document
  permissions     print the permission matrix (Markdown)
  config          print the configuration variables (Markdown)";

#[tokio::main]
async fn main() -> ExitCode {
    server::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("openapi") => print(&openapi::document_json()),
        Some("permissions") => print(&onegrid_domain::permissions::render_markdown()),
        Some("config") => print(&config_table()),
        Some("migrate") => with_config(|c| async move { migrate_db(&c).await }).await,
        Some("seed-demo") => with_config(|c| async move { seed_demo(&c).await }).await,
        Some("rekey-fields") => with_config(|c| async move { rekey_fields(&c).await }).await,
        Some("serve") => with_config(|c| async move { serve(c).await }).await,
        Some("up") => {
            let demo = args.iter().any(|a| a == "--demo");
            with_config(move |c| async move { up(c, demo).await }).await
        }
        Some("bootstrap") if args.len() == 4 => {
            let (code, name, admin) = (args[1].clone(), args[2].clone(), args[3].clone());
            with_config(move |c| async move { bootstrap(&c, &code, &name, &admin).await }).await
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("onegrid: {message}");
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stdout, reason = "these commands print their output")]
fn print(text: &str) -> Result<(), String> {
    print!("{text}");
    Ok(())
}

fn config_table() -> String {
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for (name, default, meaning) in VARIABLES {
        out.push_str(&format!("| `{name}` | {default} | {meaning} |\n"));
    }
    out
}

async fn with_config<F, Fut>(f: F) -> Result<(), String>
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    f(Config::from_env()?).await
}

async fn migrate_db(config: &Config) -> Result<(), String> {
    let hint = |e: onegrid_store::StoreError| {
        onegrid_config::postgres_hint(&config.database_url, &e.to_string())
    };
    if migrate::create_database_if_missing(&config.database_url)
        .await
        .map_err(hint)?
    {
        tracing::info!("created database");
    }
    let applied = migrate::run_migrations(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(applied = applied.len(), "migrations applied");
    let mut system = System::connect(&config.database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let added = seed::ensure_reference_data(&mut system)
        .await
        .map_err(|e| e.to_string())?;
    if added > 0 {
        tracing::info!(added, "reference data added to existing districts");
    }
    if let Some(password) = &config.app_db_password {
        migrate::set_app_password(&config.database_url, password)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn seed_demo(config: &Config) -> Result<(), String> {
    if !config.allows_demo_data() {
        return Err("ONEGRID_ENV=production refuses demo data".into());
    }
    let db = Db::new(
        &config.app_database_url,
        &PoolSettings::new("onegrid-seed", 2),
        Arc::new(SystemClock),
    )
    .map_err(|e| e.to_string())?;
    let mut system = System::connect(&config.database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    if seed::demo(&mut system, &db, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(
            "demo data loaded; every demo account's password is {}",
            seed::DEMO_PASSWORD
        );
    } else {
        tracing::info!("demo data already present");
    }
    Ok(())
}

async fn rekey_fields(config: &Config) -> Result<(), String> {
    let keys = server::field_keys(config);
    let mut system = System::connect(&config.database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let resealed = onegrid_api::maintenance::rekey_fields(&mut system, &keys)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        resealed,
        key = keys.current_id(),
        "every sensitive field is sealed under the current key"
    );
    Ok(())
}

async fn bootstrap(config: &Config, code: &str, name: &str, admin: &str) -> Result<(), String> {
    let password = std::env::var("ONEGRID_BOOTSTRAP_PASSWORD")
        .map_err(|_| "set ONEGRID_BOOTSTRAP_PASSWORD (12+ characters)")?;
    if password.chars().count() < 12 {
        return Err("ONEGRID_BOOTSTRAP_PASSWORD must have at least 12 characters".into());
    }
    let mut system = System::connect(&config.database_url, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let done = seed::bootstrap(
        &mut system,
        code,
        name,
        admin,
        &password,
        SystemClock.today(),
    )
    .await
    .map_err(|e| e.to_string())?;
    if done.created {
        tracing::info!(district_id = %done.district_id, admin_id = %done.admin_id, "district created");
    } else {
        tracing::info!(district_id = %done.district_id, "district already exists; nothing changed");
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    let state = server::state(config, std::sync::Arc::new(SystemClock)).await?;
    server::serve(state).await.map_err(|e| e.to_string())
}

/// Migrates, optionally seeds, starts the worker beside the API and serves;
/// on shutdown stops the worker too.
async fn up(config: Config, demo: bool) -> Result<(), String> {
    migrate_db(&config).await?;
    if demo {
        seed_demo(&config).await?;
    }
    let worker_path = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("onegrid-worker");
    let mut worker = tokio::process::Command::new(&worker_path)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {}: {e} (build it with cargo build --workspace)",
                worker_path.display()
            )
        })?;
    let served = serve(config).await;
    if let Some(pid) = worker.id() {
        // SIGTERM lets the worker hand back its jobs and exit 0.
        let _ = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    let _ = worker.wait().await;
    served
}
