//! Webhooks as the Standard Webhooks specification has them: the event
//! types integrators subscribe to, the `whsec_` secrets and the
//! `webhook-signature` (HMAC-SHA256 over `id.timestamp.body`, one `v1,`
//! signature per live secret while a rotation overlaps), the retry schedule
//! and how a receiver's `Retry-After` moves it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    "case.created",
    "case.updated",
    "case.escalated",
    "case.closed",
    "mediation.summoned",
    "mediation.reported_in",
    "mediation.report_overdue",
    "dispute.updated",
];

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a secret is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signing secret is whsec_ followed by base64 of 24 to 64 bytes")]
pub struct BadSecret;

/// The key bytes of a `whsec_` secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or(BadSecret)?;
    let key = STANDARD.decode(encoded).map_err(|_| BadSecret)?;
    if (24..=64).contains(&key.len()) {
        Ok(key)
    } else {
        Err(BadSecret)
    }
}

/// A secret from 32 random bytes.
pub fn secret_from(bytes: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// One `v1,<base64>` signature of a message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per live secret, space-separated.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, BadSecret> {
    let signatures = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// Waits before each attempt (the first is immediate): 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 10 h - eight attempts over about a day.
const SCHEDULE_SECS: [i64; 8] = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// Attempts a delivery gets.
pub const ATTEMPTS: i32 = SCHEDULE_SECS.len() as i32;

/// The longest a receiver's `Retry-After` may push an attempt back.
const RETRY_AFTER_CAP_SECS: i64 = 86_400;

/// When attempt `next` (1-based) is due after a failure at `now`, honouring
/// a `Retry-After` that asks for longer; `None` when attempts are used up.
pub fn next_attempt(
    next: i32,
    now: DateTime<Utc>,
    retry_after: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let index = usize::try_from(next.checked_sub(1)?).ok()?;
    let wait = *SCHEDULE_SECS.get(index)?;
    let scheduled = now + Duration::seconds(wait);
    let asked = retry_after
        .map(|at| at.min(now + Duration::seconds(RETRY_AFTER_CAP_SECS)))
        .filter(|at| *at > scheduled);
    Some(asked.unwrap_or(scheduled))
}

/// Reads a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u32>() {
        return Some(now + Duration::seconds(i64::from(secs)));
    }
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|t| t.to_utc())
        .filter(|t| *t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn signs_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let old = secret_from(&[1; 32]);
        let new = secret_from(&[2; 32]);
        let header = signature_header(&[&new, &old], "msg_1", 1, b"{}").unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, "msg_1", 1, b"{}").unwrap());
        assert_eq!(parts[1], sign(&old, "msg_1", 1, b"{}").unwrap());
        assert_ne!(parts[0], parts[1]);
        assert_eq!(secret_key("whsec_short"), Err(BadSecret));
        assert_eq!(secret_key("secret"), Err(BadSecret));
    }

    #[test]
    fn retries_follow_the_schedule_and_honour_retry_after() {
        let now = at("2026-12-01T00:00:00Z");
        assert_eq!(next_attempt(2, now, None), Some(at("2026-12-01T00:00:05Z")));
        assert_eq!(next_attempt(3, now, None), Some(at("2026-12-01T00:05:00Z")));
        assert_eq!(next_attempt(8, now, None), Some(at("2026-12-01T10:00:00Z")));
        assert_eq!(next_attempt(9, now, None), None);
        assert_eq!(next_attempt(0, now, None), None);
        // A longer Retry-After wins; a shorter one does not hurry the schedule.
        let later = at("2026-12-01T00:02:00Z");
        assert_eq!(next_attempt(2, now, Some(later)), Some(later));
        assert_eq!(
            next_attempt(3, now, Some(later)),
            Some(at("2026-12-01T00:05:00Z"))
        );
        // At most a day.
        let far = at("2027-01-01T00:00:00Z");
        assert_eq!(
            next_attempt(2, now, Some(far)),
            Some(at("2026-12-02T00:00:00Z"))
        );
        assert_eq!(parse_retry_after("120", now), Some(later));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 00:02:00 GMT", now),
            Some(later)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2020 00:02:00 GMT", now),
            None
        );
    }
}
