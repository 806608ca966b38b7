//! Redis: shared short-lived state that only speeds things up. Every caller
//! has a fallback; with Redis down the platform works, only less shared.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A lazily connected, self-reconnecting Redis handle with short timeouts.
#[derive(Clone)]
pub struct Cache {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Builds the handle without connecting (an unreachable server is not fatal).
    pub fn new(url: &str, prefix: &str) -> Result<Cache, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL={url}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(Duration::from_millis(300)))
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("REDIS_URL={url}: {e}"))?;
        Ok(Cache {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
