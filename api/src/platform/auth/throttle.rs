//! Security limits over a sliding window: failed logins per username, reveals
//! of sensitive values per actor. Both count durable records in PostgreSQL
//! (failed logins in `login_failures`, reveals in the audit log), on the
//! injected clock, so neither a Redis restart nor a second API process resets
//! them.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use chrono::{DateTime, Utc};
use onegrid_domain::clock::Clock;
use onegrid_store::{Conn, Db, platform::limits};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::http::error::{ApiError, Code};

/// Seconds until a window that started counting at `oldest` lets one more in.
fn retry_after(oldest: Option<DateTime<Utc>>, window: Duration, now: DateTime<Utc>) -> u64 {
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1));
    let secs = oldest.map_or(window, |o| o + window - now).num_seconds();
    u64::try_from(secs).unwrap_or(0).max(1)
}

/// At most `max` reveals per actor within `window`, counted from the audit log.
#[derive(Debug)]
pub struct RevealQuota {
    max: u32,
    window: Duration,
}

impl RevealQuota {
    pub fn new(max: u32, window: Duration) -> RevealQuota {
        RevealQuota { max, window }
    }

    /// 429 with `Retry-After` once `actor` has used its quota; call in the
    /// transaction that writes the reveal's audit entry (which is what counts).
    /// Concurrent reveals by one actor queue on a transaction lock, so the
    /// quota holds under races too.
    pub async fn take(
        &self,
        conn: &mut Conn,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::hours(1));
        let (used, oldest) = limits::reveals_since(conn, actor, now - window).await?;
        if used >= i64::from(self.max) {
            return Err(ApiError::new(
                Code::TooManyRequests,
                format!(
                    "at most {} reveals per {} s",
                    self.max,
                    self.window.as_secs()
                ),
            )
            .with_header(
                header::RETRY_AFTER,
                retry_after(oldest, self.window, now).to_string(),
            ));
        }
        Ok(())
    }
}

/// Failed logins per username within a window, counted in PostgreSQL.
#[derive(Debug)]
pub struct LoginThrottle {
    db: Db,
    clock: Arc<dyn Clock>,
    max_failures: u32,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        max_failures: u32,
        window: Duration,
    ) -> LoginThrottle {
        LoginThrottle {
            db,
            clock,
            max_failures,
            window,
        }
    }

    /// The record key: a hash, so usernames are never stored.
    fn key(username: &str) -> Vec<u8> {
        Sha256::digest(username.trim().to_lowercase().as_bytes()).to_vec()
    }

    /// Refuses with 429 when the username is locked out.
    pub async fn check(&self, username: &str) -> Result<(), ApiError> {
        let key = Self::key(username);
        let now = self.clock.now();
        let window =
            chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::minutes(5));
        let (failures, oldest) = self
            .db
            .acting(onegrid_store::Acting::Nobody, move |c| {
                Box::pin(async move { limits::login_failures_since(c, &key, now - window).await })
            })
            .await?;
        if failures >= i64::from(self.max_failures) {
            return Err(ApiError::new(
                Code::TooManyRequests,
                "too many failed logins for this username; wait and retry",
            )
            .with_header(
                header::RETRY_AFTER,
                retry_after(oldest, self.window, now).to_string(),
            ));
        }
        Ok(())
    }

    /// Records a failed attempt (in its own transaction, so it stays).
    pub async fn failed(&self, username: &str) -> Result<(), ApiError> {
        let key = Self::key(username);
        let now = self.clock.now();
        self.db
            .acting(onegrid_store::Acting::Nobody, move |c| {
                Box::pin(async move { limits::record_login_failure(c, &key, now).await })
            })
            .await?;
        Ok(())
    }

    /// Forgets the failures after a successful login.
    pub async fn succeeded(&self, username: &str) -> Result<(), ApiError> {
        let key = Self::key(username);
        self.db
            .acting(onegrid_store::Acting::Nobody, move |c| {
                Box::pin(async move { limits::clear_login_failures(c, &key).await })
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_counts_down_from_the_oldest_record() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .to_utc();
        let hour = Duration::from_secs(3600);
        let oldest = now - chrono::Duration::minutes(50);
        assert_eq!(retry_after(Some(oldest), hour, now), 600);
        assert_eq!(retry_after(None, hour, now), 3600);
        assert_eq!(
            retry_after(Some(now - chrono::Duration::hours(2)), hour, now),
            1
        );
    }
}
