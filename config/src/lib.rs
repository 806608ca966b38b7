//! OneGrid configuration, shared by the API and the worker: environment variables, with local defaults that work on
//! a developer machine and are refused in production.

#![warn(clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The role the API and worker connect as; it owns no table and cannot bypass RLS.
pub const APP_ROLE: &str = "onegrid_app";

/// Where the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

/// The committed demo signing keys (see `config/keys/README.md`).
pub const DEMO_JWT_PRIVATE_PEM: &str = include_str!("../keys/demo-jwt-private.pem");
pub const DEMO_JWT_PUBLIC_PEM: &str = include_str!("../keys/demo-jwt-public.pem");
/// The demo field-encryption key (32 zero-to-31 bytes), never valid in production.
pub const DEMO_FIELD_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Everything the API and its commands read from the environment.
#[derive(Clone)]
pub struct Config {
    pub env: Environment,
    /// Owner connection: creates the database and runs migrations.
    pub database_url: String,
    /// Application-role connection used to serve requests (RLS applies).
    pub app_database_url: String,
    pub app_db_password: Option<String>,
    pub redis_url: String,
    /// Prefix of every Redis key, so deployments (and tests) can share a server.
    pub redis_prefix: String,
    pub bind: SocketAddr,
    pub worker_bind: SocketAddr,
    pub pool_size: usize,
    pub jwt_private_pem: String,
    pub jwt_public_pem: String,
    pub jwt_kid: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_ttl: Duration,
    pub session_ttl: Duration,
    /// Field-encryption key for sensitive personal data (base64, 32 bytes) and its id.
    pub field_key: [u8; 32],
    pub field_key_id: String,
    /// Retired field keys (id and key) that still decrypt until `onegrid rekey-fields` has run.
    pub previous_field_keys: Vec<(String, [u8; 32])>,
    pub body_limit: usize,
    /// Directory of the local blob store (case attachments).
    pub attachment_dir: std::path::PathBuf,
    /// Largest accepted attachment in bytes.
    pub attachment_max_bytes: usize,
    /// The worker's lease on a claimed job; an expired lease is rescued.
    pub worker_lease: Duration,
    /// How often an idle worker looks for due jobs.
    pub worker_poll: Duration,
    /// Jobs a worker claims per pass.
    pub worker_batch: i32,
    /// The score an unrated case counts as, 7 days after resolution (10/8/6/3/0).
    pub unrated_score: i16,
    /// Address ranges webhooks may reach despite the SSRF rules (e.g. an
    /// integration network); plain http only to these.
    pub webhook_allow: Vec<ipnet::IpNet>,
    /// An endpoint failing this long without a success is disabled.
    pub webhook_disable_after: Duration,
    /// The longest a webhook attempt may take.
    pub webhook_timeout: Duration,
    pub login_max_failures: u32,
    pub login_window: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("database_url", &redact(&self.database_url))
            .field("app_database_url", &redact(&self.app_database_url))
            .field("redis_url", &redact(&self.redis_url))
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

/// Hides the password of a connection URL.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The table of variables, as printed in the README.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "ONEGRID_ENV",
        "development",
        "`development`, `test` or `production` (refuses demo keys and demo data)",
    ),
    (
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/onegrid",
        "owner connection: creates the database, runs migrations",
    ),
    (
        "APP_DATABASE_URL",
        "DATABASE_URL with user `onegrid_app`",
        "connection the API and worker serve with (no table ownership, RLS applies)",
    ),
    (
        "ONEGRID_APP_DB_PASSWORD",
        "(none)",
        "password `migrate` sets on `onegrid_app` and the app connects with",
    ),
    (
        "REDIS_URL",
        "redis://127.0.0.1:6379",
        "short-lived shared state; the platform keeps working without it",
    ),
    ("REDIS_PREFIX", "onegrid", "prefix of every Redis key"),
    ("ONEGRID_BIND", "127.0.0.1:8080", "API listen address"),
    (
        "ONEGRID_WORKER_BIND",
        "127.0.0.1:8081",
        "worker health/metrics listen address",
    ),
    (
        "ONEGRID_POOL_SIZE",
        "16",
        "PostgreSQL connections per process",
    ),
    (
        "ONEGRID_JWT_PRIVATE_KEY_FILE",
        "config/keys/demo-jwt-private.pem (embedded)",
        "Ed25519 PEM signing access tokens",
    ),
    (
        "ONEGRID_JWT_PUBLIC_KEY_FILE",
        "config/keys/demo-jwt-public.pem (embedded)",
        "Ed25519 PEM verifying access tokens",
    ),
    ("ONEGRID_JWT_KID", "demo", "key id in the token header"),
    (
        "ONEGRID_JWT_ISSUER",
        "onegrid",
        "`iss` of issued tokens, required on verification",
    ),
    (
        "ONEGRID_JWT_AUDIENCE",
        "onegrid-api",
        "`aud` of issued tokens, required on verification",
    ),
    (
        "ONEGRID_ACCESS_TTL_SECS",
        "600",
        "access token lifetime (60-3600)",
    ),
    (
        "ONEGRID_SESSION_TTL_SECS",
        "2592000",
        "refresh session lifetime",
    ),
    (
        "ONEGRID_FIELD_KEY",
        "demo key",
        "base64 32-byte key encrypting ID numbers and phones",
    ),
    (
        "ONEGRID_FIELD_KEY_ID",
        "demo",
        "id of the field key, stored with each ciphertext",
    ),
    (
        "ONEGRID_PREVIOUS_FIELD_KEYS",
        "none",
        "retired field keys as `id:base64,...`; they decrypt and match lookups until `onegrid rekey-fields` re-seals every value",
    ),
    (
        "ONEGRID_BODY_LIMIT",
        "65536",
        "largest accepted JSON body in bytes (413 above)",
    ),
    (
        "ONEGRID_ATTACHMENT_DIR",
        "data/attachments",
        "directory where case attachments are stored (outside the database)",
    ),
    (
        "ONEGRID_ATTACHMENT_MAX_BYTES",
        "10485760",
        "largest accepted case attachment in bytes (413 above)",
    ),
    (
        "ONEGRID_WORKER_LEASE_SECS",
        "60",
        "how long a worker holds a claimed job before another may rescue it (5-3600)",
    ),
    (
        "ONEGRID_WORKER_POLL_MS",
        "1000",
        "how often an idle worker looks for due jobs (50-60000)",
    ),
    (
        "ONEGRID_WORKER_BATCH",
        "100",
        "jobs a worker claims per pass (1-1000)",
    ),
    (
        "ONEGRID_UNRATED_SCORE",
        "10",
        "score (10, 8, 6, 3 or 0) a resolved case counts as in the KPIs when unrated after 7 days",
    ),
    (
        "ONEGRID_WEBHOOK_ALLOW_CIDRS",
        "",
        "comma-separated address ranges webhooks may reach despite the SSRF rules (plain http only to these)",
    ),
    (
        "ONEGRID_WEBHOOK_DISABLE_AFTER_HOURS",
        "120",
        "a webhook endpoint failing this many hours without a success is disabled (1-720)",
    ),
    (
        "ONEGRID_WEBHOOK_TIMEOUT_SECS",
        "15",
        "the longest one webhook attempt may take (1-60)",
    ),
    (
        "RUST_LOG",
        "info",
        "log filter; logs are JSON lines on stdout",
    ),
];

/// A base64 32-byte key.
fn decode_key(b64: &str) -> Option<[u8; 32]> {
    STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
}

/// Parses `id:base64,id:base64` (empty: none). Key ids are 1-64 characters
/// of letters, digits, `-` and `_`, each used once.
fn previous_keys(list: &str) -> Result<Vec<(String, [u8; 32])>, String> {
    let mut keys: Vec<(String, [u8; 32])> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || {
            "ONEGRID_PREVIOUS_FIELD_KEYS must be `id:base64,...` with ids of letters, digits, - or _ and 32-byte keys".to_owned()
        };
        let (id, key) = entry.split_once(':').ok_or_else(bad)?;
        let valid_id = (1..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let key = decode_key(key).filter(|_| valid_id).ok_or_else(bad)?;
        if keys.iter().any(|(seen, _)| seen == id) {
            return Err(format!("ONEGRID_PREVIOUS_FIELD_KEYS names key {id} twice"));
        }
        keys.push((id.to_owned(), key));
    }
    Ok(keys)
}

/// Reads variables through a lookup function (the environment, or a test's map).
struct Vars<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{name}={v:?} is not valid")),
        }
    }

    fn pem(&self, file_var: &str, demo: &str) -> Result<String, String> {
        match self.get(file_var) {
            None => Ok(demo.to_owned()),
            Some(path) => {
                std::fs::read_to_string(&path).map_err(|e| format!("{file_var}={path}: {e}"))
            }
        }
    }
}

/// The one line printed when PostgreSQL cannot be reached.
pub fn postgres_hint(url: &str, cause: &str) -> String {
    format!(
        "PostgreSQL is not reachable at {} ({cause}). Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        redact(url)
    )
}

/// The one line printed when Redis cannot be reached (the platform carries on).
pub fn redis_hint(url: &str, cause: &str) -> String {
    format!(
        "Redis is not reachable at {} ({cause}); continuing without it. Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no",
        redact(url)
    )
}

/// Replaces the user (and password) of a PostgreSQL URL.
pub fn with_user(url: &str, user: &str, password: Option<&str>) -> Result<String, String> {
    let mut u = url::Url::parse(url).map_err(|e| format!("DATABASE_URL is not a URL: {e}"))?;
    u.set_username(user)
        .map_err(|_| "DATABASE_URL cannot carry a user".to_owned())?;
    u.set_password(password)
        .map_err(|_| "DATABASE_URL cannot carry a password".to_owned())?;
    Ok(u.to_string())
}

impl Config {
    /// Reads the environment; an error names the variable at fault.
    pub fn from_env() -> Result<Config, String> {
        Config::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the variables from `lookup` (unset and empty mean "use the default").
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let v = Vars(lookup);
        let env = match v.get("ONEGRID_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("test") => Environment::Test,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(format!(
                    "ONEGRID_ENV={other:?}: use development, test or production"
                ));
            }
        };
        let database_url = v
            .get("DATABASE_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/onegrid".into());
        let app_db_password = v.get("ONEGRID_APP_DB_PASSWORD");
        let app_database_url = match v.get("APP_DATABASE_URL") {
            Some(url) => url,
            None => with_user(&database_url, APP_ROLE, app_db_password.as_deref())?,
        };
        let field_key_b64 = v
            .get("ONEGRID_FIELD_KEY")
            .unwrap_or_else(|| DEMO_FIELD_KEY.into());
        let field_key = decode_key(&field_key_b64)
            .ok_or("ONEGRID_FIELD_KEY must be base64 of exactly 32 bytes")?;
        let field_key_id = v
            .get("ONEGRID_FIELD_KEY_ID")
            .unwrap_or_else(|| "demo".into());
        let previous_field_keys =
            previous_keys(&v.get("ONEGRID_PREVIOUS_FIELD_KEYS").unwrap_or_default())?;
        if previous_field_keys
            .iter()
            .any(|(id, _)| *id == field_key_id)
        {
            return Err("ONEGRID_PREVIOUS_FIELD_KEYS must not repeat ONEGRID_FIELD_KEY_ID".into());
        }
        let access_secs: u64 = v.parsed("ONEGRID_ACCESS_TTL_SECS", 600)?;
        if !(60..=3600).contains(&access_secs) {
            return Err("ONEGRID_ACCESS_TTL_SECS must be between 60 and 3600".into());
        }
        let config = Config {
            env,
            database_url,
            app_database_url,
            app_db_password,
            redis_url: v
                .get("REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            redis_prefix: v.get("REDIS_PREFIX").unwrap_or_else(|| "onegrid".into()),
            bind: v.parsed("ONEGRID_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            worker_bind: v.parsed(
                "ONEGRID_WORKER_BIND",
                SocketAddr::from(([127, 0, 0, 1], 8081)),
            )?,
            pool_size: v.parsed("ONEGRID_POOL_SIZE", 16)?,
            jwt_private_pem: v.pem("ONEGRID_JWT_PRIVATE_KEY_FILE", DEMO_JWT_PRIVATE_PEM)?,
            jwt_public_pem: v.pem("ONEGRID_JWT_PUBLIC_KEY_FILE", DEMO_JWT_PUBLIC_PEM)?,
            jwt_kid: v.get("ONEGRID_JWT_KID").unwrap_or_else(|| "demo".into()),
            jwt_issuer: v
                .get("ONEGRID_JWT_ISSUER")
                .unwrap_or_else(|| "onegrid".into()),
            jwt_audience: v
                .get("ONEGRID_JWT_AUDIENCE")
                .unwrap_or_else(|| "onegrid-api".into()),
            access_ttl: Duration::from_secs(access_secs),
            session_ttl: Duration::from_secs(v.parsed("ONEGRID_SESSION_TTL_SECS", 30 * 24 * 3600)?),
            field_key,
            field_key_id,
            previous_field_keys,
            body_limit: v.parsed("ONEGRID_BODY_LIMIT", 64 * 1024)?,
            attachment_dir: v
                .get("ONEGRID_ATTACHMENT_DIR")
                .unwrap_or_else(|| "data/attachments".into())
                .into(),
            attachment_max_bytes: v.parsed("ONEGRID_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)?,
            worker_lease: Duration::from_secs(
                match v.parsed("ONEGRID_WORKER_LEASE_SECS", 60u64)? {
                    s @ 5..=3600 => s,
                    _ => return Err("ONEGRID_WORKER_LEASE_SECS must be between 5 and 3600".into()),
                },
            ),
            worker_poll: Duration::from_millis(
                match v.parsed("ONEGRID_WORKER_POLL_MS", 1000u64)? {
                    s @ 50..=60_000 => s,
                    _ => return Err("ONEGRID_WORKER_POLL_MS must be between 50 and 60000".into()),
                },
            ),
            worker_batch: match v.parsed("ONEGRID_WORKER_BATCH", 100i32)? {
                s @ 1..=1000 => s,
                _ => return Err("ONEGRID_WORKER_BATCH must be between 1 and 1000".into()),
            },
            unrated_score: match v.parsed("ONEGRID_UNRATED_SCORE", 10i16)? {
                s @ (10 | 8 | 6 | 3 | 0) => s,
                _ => return Err("ONEGRID_UNRATED_SCORE must be 10, 8, 6, 3 or 0".into()),
            },
            webhook_allow: v
                .get("ONEGRID_WEBHOOK_ALLOW_CIDRS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<ipnet::IpNet>()
                        .map_err(|e| format!("ONEGRID_WEBHOOK_ALLOW_CIDRS: {s}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            webhook_disable_after: Duration::from_secs(
                3600 * match v.parsed("ONEGRID_WEBHOOK_DISABLE_AFTER_HOURS", 120u64)? {
                    h @ 1..=720 => h,
                    _ => {
                        return Err(
                            "ONEGRID_WEBHOOK_DISABLE_AFTER_HOURS must be between 1 and 720".into(),
                        );
                    }
                },
            ),
            webhook_timeout: Duration::from_secs(
                match v.parsed("ONEGRID_WEBHOOK_TIMEOUT_SECS", 15u64)? {
                    s @ 1..=60 => s,
                    _ => return Err("ONEGRID_WEBHOOK_TIMEOUT_SECS must be between 1 and 60".into()),
                },
            ),
            login_max_failures: 10,
            login_window: Duration::from_secs(300),
        };
        config.check_production()?;
        Ok(config)
    }

    /// Production refuses everything that is public in this repository.
    pub fn check_production(&self) -> Result<(), String> {
        if self.env != Environment::Production {
            return Ok(());
        }
        if self.jwt_private_pem.trim() == DEMO_JWT_PRIVATE_PEM.trim()
            || self.jwt_public_pem.trim() == DEMO_JWT_PUBLIC_PEM.trim()
        {
            return Err("ONEGRID_ENV=production refuses the demo JWT keys: set ONEGRID_JWT_PRIVATE_KEY_FILE and ONEGRID_JWT_PUBLIC_KEY_FILE".into());
        }
        if STANDARD.encode(self.field_key) == DEMO_FIELD_KEY {
            return Err(
                "ONEGRID_ENV=production refuses the demo field key: set ONEGRID_FIELD_KEY".into(),
            );
        }
        Ok(())
    }

    /// Whether demo data may be loaded.
    pub fn allows_demo_data(&self) -> bool {
        self.env != Environment::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn local_defaults_work() {
        let c = config(&[]).unwrap();
        assert_eq!(c.env, Environment::Development);
        assert_eq!(
            c.app_database_url,
            "postgres://onegrid_app@127.0.0.1:5432/onegrid"
        );
        assert!(c.allows_demo_data());
    }

    #[test]
    fn app_url_carries_the_app_password() {
        let c = config(&[
            ("DATABASE_URL", "postgres://postgres:secret@db:5432/og"),
            ("ONEGRID_APP_DB_PASSWORD", "p w"),
        ])
        .unwrap();
        assert_eq!(
            c.app_database_url,
            "postgres://onegrid_app:p%20w@db:5432/og"
        );
        assert_eq!(
            redact(&c.app_database_url),
            "postgres://onegrid_app:***@db:5432/og"
        );
    }

    #[test]
    fn production_refuses_demo_keys_and_demo_data() {
        let err = config(&[("ONEGRID_ENV", "production")]).unwrap_err();
        assert!(err.contains("demo JWT keys"), "{err}");
        let dir = std::env::temp_dir().join(format!("onegrid-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (private, public) = (dir.join("k.pem"), dir.join("k.pub.pem"));
        std::fs::write(
            &private,
            "-----BEGIN PRIVATE KEY-----\nnot the demo\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        std::fs::write(
            &public,
            "-----BEGIN PUBLIC KEY-----\nnot the demo\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        let keys = [
            ("ONEGRID_ENV", "production"),
            ("ONEGRID_JWT_PRIVATE_KEY_FILE", private.to_str().unwrap()),
            ("ONEGRID_JWT_PUBLIC_KEY_FILE", public.to_str().unwrap()),
        ];
        let err = config(&keys).unwrap_err();
        assert!(err.contains("demo field key"), "{err}");
        let mut all = keys.to_vec();
        all.push((
            "ONEGRID_FIELD_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ));
        let c = config(&all).unwrap();
        assert!(!c.allows_demo_data());
    }

    #[test]
    fn previous_field_keys_are_parsed_and_checked() {
        let k1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let c = config(&[
            ("ONEGRID_FIELD_KEY_ID", "k3"),
            (
                "ONEGRID_PREVIOUS_FIELD_KEYS",
                &format!("k2:{k1}, k1:{DEMO_FIELD_KEY}"),
            ),
        ])
        .unwrap();
        let ids: Vec<&str> = c
            .previous_field_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(ids, ["k2", "k1"]);
        assert_eq!(
            &c.previous_field_keys[0].1,
            b"0123456789abcdef0123456789abcdef"
        );
        assert!(!format!("{c:?}").contains(k1), "keys never in Debug output");
        for bad in [
            format!("k2{k1}"),
            "k2:c2hvcnQ=".to_owned(),
            format!("k 2:{k1}"),
            format!(":{k1}"),
        ] {
            let err = config(&[("ONEGRID_PREVIOUS_FIELD_KEYS", &bad)]).unwrap_err();
            assert!(err.contains("ONEGRID_PREVIOUS_FIELD_KEYS"), "{bad}: {err}");
            assert!(!err.contains(k1), "the key is not echoed: {err}");
        }
        let twice = config(&[("ONEGRID_PREVIOUS_FIELD_KEYS", &format!("a:{k1},a:{k1}"))]);
        assert!(twice.unwrap_err().contains("twice"));
        let current = config(&[("ONEGRID_PREVIOUS_FIELD_KEYS", &format!("demo:{k1}"))]);
        assert!(current.unwrap_err().contains("must not repeat"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert!(
            config(&[("ONEGRID_ENV", "staging")])
                .unwrap_err()
                .contains("ONEGRID_ENV")
        );
        assert!(
            config(&[("ONEGRID_BIND", "nope")])
                .unwrap_err()
                .contains("ONEGRID_BIND")
        );
        assert!(
            config(&[("ONEGRID_FIELD_KEY", "c2hvcnQ=")])
                .unwrap_err()
                .contains("ONEGRID_FIELD_KEY")
        );
        assert!(
            config(&[("ONEGRID_ACCESS_TTL_SECS", "5")])
                .unwrap_err()
                .contains("ONEGRID_ACCESS_TTL_SECS")
        );
    }
}
