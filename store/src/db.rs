//! The bounded connection pool and the one way to run work against it: a
//! transaction whose tenant scope is set before the first query.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::InstrumentationEvent;
use diesel_async::pooled_connection::ManagerConfig;

use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::future::BoxFuture;
use onegrid_domain::clock::Clock;

use crate::error::StoreError;
use crate::scope::{self, Acting, Principal, Session};

/// The connection type every query function takes.
pub type Conn = AsyncPgConnection;

/// Pool limits and per-session timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections the pool opens at most.
    pub max_size: usize,
    /// How long a caller waits for a free connection (and for a new one to open) before
    /// [`StoreError::Unavailable`].
    pub wait_timeout: Duration,
    /// The session's `statement_timeout`: a statement running longer is cancelled.
    pub statement_timeout: Duration,
    /// The session's `idle_in_transaction_session_timeout`: a transaction left idle longer is
    /// ended by the server.
    pub idle_in_transaction_timeout: Duration,
    /// The `application_name` the sessions report (seen in `pg_stat_activity`).
    pub application_name: String,
    /// Sessions are the worker's (see [`PoolSettings::for_worker`]).
    pub worker: bool,
}

impl PoolSettings {
    /// Sensible defaults for a process named `application_name`.
    pub fn new(application_name: &str, max_size: usize) -> Self {
        PoolSettings {
            max_size,
            wait_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            idle_in_transaction_timeout: Duration::from_secs(30),
            application_name: application_name.to_owned(),
            worker: false,
        }
    }

    /// Marks every session of the pool as the worker's: it sees and works
    /// the jobs of every street (the job queue's row-level security reads
    /// `app.worker`). Only the worker's pool is built so.
    pub fn for_worker(mut self) -> Self {
        self.worker = true;
        self
    }
}

/// A bounded pool of connections as the application role, and the clock
/// its transactions tell the database about.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    clock: Arc<dyn Clock>,
    /// Sessions are the worker's (`app.worker` for their whole session).
    worker: bool,
    /// Statements sent on the pool's connections since it was built.
    statements: Arc<AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("status", &self.pool.status())
            .finish()
    }
}

/// Adds the session options to a connection URL (tokio-postgres understands
/// `options` and `application_name`).
fn url_with_options(url: &str, s: &PoolSettings) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let worker = if s.worker {
        "%20-c%20app.worker%3Don"
    } else {
        ""
    };
    format!(
        "{url}{sep}application_name={}&options=-c%20statement_timeout%3D{}%20-c%20idle_in_transaction_session_timeout%3D{}{worker}",
        s.application_name,
        s.statement_timeout.as_millis(),
        s.idle_in_transaction_timeout.as_millis()
    )
}

impl Db {
    /// Builds the pool; connections are opened lazily. Every transaction it
    /// runs sets `app.now` from `clock`, so the columns' defaults (`og_now()`)
    /// read the platform's clock, not the database server's.
    pub fn new(
        url: &str,
        settings: &PoolSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Db, StoreError> {
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.custom_setup = Box::new(move |url| {
            let counter = counter.clone();
            Box::pin(async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                    if let InstrumentationEvent::StartQuery { .. } = event {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
                Ok(conn)
            })
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            url_with_options(url, settings),
            config,
        );
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.wait_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Db {
            pool,
            clock,
            worker: settings.worker,
            statements,
        })
    }

    /// A pooled connection, waiting at most the configured time.
    async fn conn(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// How many statements the pool's connections have sent (transaction
    /// control included): a round-trip count for metrics and for the tests
    /// that bound what a request costs.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Pool size and idle count, for metrics.
    pub fn status(&self) -> (usize, usize) {
        let s = self.pool.status();
        (s.size, s.available)
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        use diesel_async::RunQueryDsl;
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok(())
    }

    /// Runs `f` in one transaction acting for `acting`: the worker's door
    /// (a job's district or street) and the one for work before anyone is
    /// authenticated (login lookups, throttles: [`Acting::Nobody`]).
    pub async fn acting<T, E, F>(&self, acting: Acting, f: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, E>> + Send,
        E: From<StoreError> + From<diesel::result::Error> + Send,
        T: Send,
    {
        let mut conn = self.conn().await?;
        let now = self.clock.now();
        conn.transaction(async move |c| {
            scope::enter(c, now, acting).await?;
            f(c).await
        })
        .await
    }

    /// Runs the job queue's own statements (claim, heartbeat, complete,
    /// rescue) on one of the worker's sessions, each on its own: the queue
    /// has no tenant, and only the worker's pool may work it.
    pub async fn on_queue<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send,
        T: Send,
    {
        if !self.worker {
            return Err(StoreError::Unavailable(
                "the job queue is worked only from the worker's pool".into(),
            ));
        }
        let mut conn = self.conn().await?;
        f(&mut conn).await
    }

    /// Authenticates `session` and runs `f` in one transaction scoped to the
    /// resulting principal. A revoked session or a disabled user fails here,
    /// on every request, so revocation takes effect at once.
    pub async fn as_principal<T, E, F>(&self, session: Session, f: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal) -> BoxFuture<'c, Result<T, E>> + Send,
        E: From<StoreError> + From<diesel::result::Error> + Send,
        T: Send,
    {
        let mut conn = self.conn().await?;
        let now = self.clock.now();
        conn.transaction(async move |c| {
            let principal = scope::authenticate(c, session, now).await?;
            f(c, principal).await
        })
        .await
    }
}

/// The system's door: a connection as the tables' owner, for the seed and
/// maintenance, whose every transaction names what it acts for.
pub struct System {
    conn: AsyncPgConnection,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("System")
    }
}

impl System {
    /// Connects as the owner (`owner_url`).
    pub async fn connect(owner_url: &str, clock: Arc<dyn Clock>) -> Result<System, StoreError> {
        let conn = AsyncPgConnection::establish(owner_url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(System { conn, clock })
    }

    /// Runs `f` in one transaction acting for `acting`.
    pub async fn run<T, E, F>(&mut self, acting: Acting, f: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, E>> + Send,
        E: From<StoreError> + From<diesel::result::Error> + Send,
        T: Send,
    {
        let now = self.clock.now();
        self.conn
            .transaction(async move |c| {
                scope::enter(c, now, acting).await?;
                f(c).await
            })
            .await
    }
}

/// A session of its own for `LISTEN` (it reads no rows, so it has no scope).
pub async fn listening_session(url: &str) -> Result<AsyncPgConnection, StoreError> {
    AsyncPgConnection::establish(url)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_worker_pools_mark_their_sessions() {
        let api = url_with_options("postgres://a@h/db", &PoolSettings::new("api", 4));
        assert!(
            api.contains("statement_timeout%3D10000") && !api.contains("app.worker"),
            "{api}"
        );
        let worker = url_with_options(
            "postgres://a@h/db?x=1",
            &PoolSettings::new("w", 4).for_worker(),
        );
        assert!(
            worker.starts_with("postgres://a@h/db?x=1&application_name=w&options="),
            "{worker}"
        );
        assert!(worker.ends_with("%20-c%20app.worker%3Don"), "{worker}");
        assert_eq!(
            worker.matches("options=").count(),
            1,
            "one options parameter: the last would win"
        );
    }
}
