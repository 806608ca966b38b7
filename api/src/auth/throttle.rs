//! Rate limits over a window: login failures per username, reveals of
//! sensitive values per user. Counters live in Redis so every API process sees
//! them; with Redis down each process counts on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::error::{ApiError, Code};

/// A counter per key over a window.
#[derive(Debug)]
pub struct RateLimit {
    cache: Cache,
    name: &'static str,
    local: Mutex<HashMap<String, (u64, Instant)>>,
    max: u64,
    window: Duration,
}

impl RateLimit {
    pub fn new(cache: Cache, name: &'static str, max: u32, window: Duration) -> RateLimit {
        RateLimit {
            cache,
            name,
            local: Mutex::new(HashMap::new()),
            max: u64::from(max),
            window,
        }
    }

    /// Counts one use by `who`; 429 with `Retry-After` once the limit is reached.
    pub async fn take(&self, who: &str) -> Result<(), ApiError> {
        let key = format!("{}:{who}", self.name);
        let local = {
            let mut map = self
                .local
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.retain(|_, (_, since)| since.elapsed() < self.window);
            let entry = map.entry(key.clone()).or_insert((0, Instant::now()));
            entry.0 += 1;
            entry.0
        };
        let count = self
            .cache
            .incr_window(&key, self.window)
            .await
            .unwrap_or(local);
        if count > self.max {
            return Err(ApiError::new(
                Code::TooManyRequests,
                format!(
                    "at most {} {} per {} s",
                    self.max,
                    self.name,
                    self.window.as_secs()
                ),
            )
            .with_header(header::RETRY_AFTER, self.window.as_secs().to_string()));
        }
        Ok(())
    }
}

#[derive(Debug)]
pub struct LoginThrottle {
    cache: Cache,
    local: Mutex<HashMap<String, (u64, Instant)>>,
    max_failures: u64,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(cache: Cache, max_failures: u32, window: Duration) -> LoginThrottle {
        LoginThrottle {
            cache,
            local: Mutex::new(HashMap::new()),
            max_failures: u64::from(max_failures),
            window,
        }
    }

    /// The counter key: a hash, so usernames never reach Redis.
    fn key(username: &str) -> String {
        let digest = Sha256::digest(username.trim().to_lowercase().as_bytes());
        format!(
            "login_failures:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    }

    fn local_count(&self, key: &str) -> u64 {
        let mut map = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, (_, since)| since.elapsed() < self.window);
        map.get(key).map_or(0, |(n, _)| *n)
    }

    /// Refuses with 429 when the username is locked out.
    pub async fn check(&self, username: &str) -> Result<(), ApiError> {
        let key = Self::key(username);
        let count = match self.cache.get_count(&key).await {
            Ok(n) => n.max(self.local_count(&key)),
            Err(_) => self.local_count(&key),
        };
        if count >= self.max_failures {
            return Err(ApiError::new(
                Code::TooManyRequests,
                "too many failed logins for this username; wait and retry",
            )
            .with_header(header::RETRY_AFTER, self.window.as_secs().to_string()));
        }
        Ok(())
    }

    /// Counts a failed attempt.
    pub async fn failed(&self, username: &str) {
        let key = Self::key(username);
        if self.cache.incr_window(&key, self.window).await.is_err() {
            tracing::warn!("redis unavailable: counting login failures in-process");
        }
        let mut map = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.entry(key).or_insert((0, Instant::now()));
        entry.0 += 1;
    }

    /// Clears the counter after a successful login.
    pub async fn succeeded(&self, username: &str) {
        let key = Self::key(username);
        let _ = self.cache.delete(&key).await;
        self.local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
    }
}
