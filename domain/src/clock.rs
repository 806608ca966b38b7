//! Time as the domain sees it: instants in UTC, calendar dates in China
//! Standard Time (UTC+8, no daylight saving), so "today" is the same date for
//! every user of a deployment.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// China Standard Time, the offset every calendar date of the platform uses.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The calendar date in China of an instant.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&CHINA).date_naive()
}

/// A half-open validity window of whole days: active from `from` through `to`
/// inclusive (`None` = open-ended).
pub fn is_active_on(from: NaiveDate, to: Option<NaiveDate>, day: NaiveDate) -> bool {
    from <= day && to.is_none_or(|to| day <= to)
}

/// The source of "now", injected everywhere time matters so tests can move it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in China.
    fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place the wall clock is read"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_date_rolls_over_at_16_utc() {
        let before = DateTime::parse_from_rfc3339("2026-11-28T15:59:59Z")
            .unwrap()
            .to_utc();
        let after = DateTime::parse_from_rfc3339("2026-11-28T16:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            china_date(before),
            NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
        );
        assert_eq!(
            china_date(after),
            NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
        );
    }

    #[test]
    fn validity_window_is_inclusive() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
        assert!(is_active_on(d(1), Some(d(3)), d(3)));
        assert!(is_active_on(d(1), None, d(30)));
        assert!(!is_active_on(d(2), Some(d(3)), d(1)));
        assert!(!is_active_on(d(1), Some(d(3)), d(4)));
    }
}
