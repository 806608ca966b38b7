//! The working calendar (工作日历): which days are working days in China -
//! Monday to Friday, except public holidays, plus the adjusted workdays (调休)
//! that move a weekend day into the working week - and the working hours of a
//! working day. Deadlines measured in working time are computed here.
//!
//! The official calendars are published each year by the State Council's
//! General Office; [`OFFICIAL`] ships 2025 and 2026, and a deployment loads
//! others as data.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::{CHINA, china_date};

/// How a listed day departs from the Monday-to-Friday rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 放假: a day off, even if it is a weekday.
    Holiday,
    /// 调休上班: a working day, even if it is a weekend day.
    Workday,
}

impl DayKind {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<DayKind> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One listed day of an official calendar: date, kind and the holiday's name.
pub type OfficialDay = (i32, u32, u32, DayKind, &'static str);

const H: DayKind = DayKind::Holiday;
const W: DayKind = DayKind::Workday;

/// The State Council's arrangements for 2025 (国办发明电〔2024〕12号) and 2026
/// (published 2025-11-04): every day off and every adjusted workday.
pub const OFFICIAL: &[OfficialDay] = &[
    (2025, 1, 1, H, "元旦"),
    (2025, 1, 26, W, "春节调休"),
    (2025, 1, 28, H, "春节"),
    (2025, 1, 29, H, "春节"),
    (2025, 1, 30, H, "春节"),
    (2025, 1, 31, H, "春节"),
    (2025, 2, 1, H, "春节"),
    (2025, 2, 2, H, "春节"),
    (2025, 2, 3, H, "春节"),
    (2025, 2, 4, H, "春节"),
    (2025, 2, 8, W, "春节调休"),
    (2025, 4, 4, H, "清明节"),
    (2025, 4, 5, H, "清明节"),
    (2025, 4, 6, H, "清明节"),
    (2025, 4, 27, W, "劳动节调休"),
    (2025, 5, 1, H, "劳动节"),
    (2025, 5, 2, H, "劳动节"),
    (2025, 5, 3, H, "劳动节"),
    (2025, 5, 4, H, "劳动节"),
    (2025, 5, 5, H, "劳动节"),
    (2025, 5, 31, H, "端午节"),
    (2025, 6, 1, H, "端午节"),
    (2025, 6, 2, H, "端午节"),
    (2025, 9, 28, W, "国庆节调休"),
    (2025, 10, 1, H, "国庆节、中秋节"),
    (2025, 10, 2, H, "国庆节、中秋节"),
    (2025, 10, 3, H, "国庆节、中秋节"),
    (2025, 10, 4, H, "国庆节、中秋节"),
    (2025, 10, 5, H, "国庆节、中秋节"),
    (2025, 10, 6, H, "国庆节、中秋节"),
    (2025, 10, 7, H, "国庆节、中秋节"),
    (2025, 10, 8, H, "国庆节、中秋节"),
    (2025, 10, 11, W, "国庆节调休"),
    (2026, 1, 1, H, "元旦"),
    (2026, 1, 2, H, "元旦"),
    (2026, 1, 3, H, "元旦"),
    (2026, 1, 4, W, "元旦调休"),
    (2026, 2, 14, W, "春节调休"),
    (2026, 2, 15, H, "春节"),
    (2026, 2, 16, H, "春节"),
    (2026, 2, 17, H, "春节"),
    (2026, 2, 18, H, "春节"),
    (2026, 2, 19, H, "春节"),
    (2026, 2, 20, H, "春节"),
    (2026, 2, 21, H, "春节"),
    (2026, 2, 22, H, "春节"),
    (2026, 2, 23, H, "春节"),
    (2026, 2, 28, W, "春节调休"),
    (2026, 4, 4, H, "清明节"),
    (2026, 4, 5, H, "清明节"),
    (2026, 4, 6, H, "清明节"),
    (2026, 5, 1, H, "劳动节"),
    (2026, 5, 2, H, "劳动节"),
    (2026, 5, 3, H, "劳动节"),
    (2026, 5, 4, H, "劳动节"),
    (2026, 5, 5, H, "劳动节"),
    (2026, 5, 9, W, "劳动节调休"),
    (2026, 6, 19, H, "端午节"),
    (2026, 6, 20, H, "端午节"),
    (2026, 6, 21, H, "端午节"),
    (2026, 9, 20, W, "国庆节调休"),
    (2026, 9, 25, H, "中秋节"),
    (2026, 9, 26, H, "中秋节"),
    (2026, 9, 27, H, "中秋节"),
    (2026, 10, 1, H, "国庆节"),
    (2026, 10, 2, H, "国庆节"),
    (2026, 10, 3, H, "国庆节"),
    (2026, 10, 4, H, "国庆节"),
    (2026, 10, 5, H, "国庆节"),
    (2026, 10, 6, H, "国庆节"),
    (2026, 10, 7, H, "国庆节"),
    (2026, 10, 10, W, "国庆节调休"),
];

/// The year whose calendar should be loaded by `today`: from 1 December,
/// next year (the State Council publishes it in the autumn; without it,
/// working-day clocks would count 元旦 and 春节 as working days).
pub fn next_year_due(today: NaiveDate) -> Option<i32> {
    (today.month() == 12).then(|| today.year() + 1)
}

/// The working hours of a working day, China time: 09:00-12:00 and 13:30-17:30
/// (seven hours).
pub const WORKING_HOURS: [(u32, u32, u32, u32); 2] = [(9, 0, 12, 0), (13, 30, 17, 30)];

/// How a duration is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Round the clock (24/7), as for emergencies and natural days.
    Calendar,
    /// Only working hours of working days count.
    Working,
}

impl Basis {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Basis::Calendar => "calendar",
            Basis::Working => "working",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "calendar" => Some(Basis::Calendar),
            "working" => Some(Basis::Working),
            _ => None,
        }
    }
}

/// No deadline is computed more than this many days ahead: a calendar that
/// lists no working day for a year is a data error, not a reason to loop.
const HORIZON_DAYS: i64 = 3 * 366;

/// Why a deadline could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the working calendar has no working time within {HORIZON_DAYS} days of {0}")]
pub struct NoWorkingTime(pub NaiveDate);

/// A deployment's working calendar.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    listed: BTreeMap<NaiveDate, DayKind>,
}

impl WorkCalendar {
    /// A calendar with the listed exceptions to the Monday-to-Friday rule.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> WorkCalendar {
        WorkCalendar {
            listed: days.into_iter().collect(),
        }
    }

    /// The official 2025 and 2026 calendars.
    pub fn official() -> WorkCalendar {
        WorkCalendar::new(
            OFFICIAL
                .iter()
                .filter_map(|&(y, m, d, kind, _)| Some((NaiveDate::from_ymd_opt(y, m, d)?, kind))),
        )
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.listed.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The next working day strictly after `day`.
    pub fn next_working_day(&self, day: NaiveDate) -> Result<NaiveDate, NoWorkingTime> {
        let mut d = day;
        for _ in 0..HORIZON_DAYS {
            d = d.succ_opt().ok_or(NoWorkingTime(day))?;
            if self.is_working_day(d) {
                return Ok(d);
            }
        }
        Err(NoWorkingTime(day))
    }

    /// The working intervals of `day` as instants (empty on a day off).
    fn intervals(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_working_day(day) {
            return Vec::new();
        }
        WORKING_HOURS
            .iter()
            .filter_map(|&(h1, m1, h2, m2)| {
                let at = |h, m| {
                    let t = NaiveTime::from_hms_opt(h, m, 0)?;
                    CHINA
                        .from_local_datetime(&day.and_time(t))
                        .single()
                        .map(|t| t.to_utc())
                };
                Some((at(h1, m1)?, at(h2, m2)?))
            })
            .collect()
    }

    /// The instant `minutes` of `basis` time after `start`. With the working
    /// basis, time outside working hours does not count, and a deadline falls
    /// inside working hours (a zero budget started at night is due at the next
    /// opening).
    pub fn add(
        &self,
        basis: Basis,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> Result<DateTime<Utc>, NoWorkingTime> {
        let minutes = minutes.max(0);
        if basis == Basis::Calendar {
            return Ok(start + Duration::minutes(minutes));
        }
        let mut left = Duration::minutes(minutes);
        let first = china_date(start);
        let mut day = first;
        for _ in 0..HORIZON_DAYS {
            for (open, close) in self.intervals(day) {
                let from = open.max(start);
                if from >= close {
                    continue;
                }
                let available = close - from;
                if left <= available {
                    return Ok(from + left);
                }
                left -= available;
            }
            day = day.succ_opt().ok_or(NoWorkingTime(first))?;
        }
        Err(NoWorkingTime(first))
    }

    /// Minutes of `basis` time from `from` to `to` (0 if `to` is not later).
    pub fn elapsed(&self, basis: Basis, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        if basis == Basis::Calendar {
            return (to - from).num_minutes();
        }
        let mut total = Duration::zero();
        let mut day = china_date(from);
        let last = china_date(to);
        while day <= last {
            for (open, close) in self.intervals(day) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total.num_minutes()
    }

    /// Minutes of working time in one working day.
    pub const fn working_day_minutes() -> i64 {
        let mut total = 0;
        let mut periods: &[(u32, u32, u32, u32)] = &WORKING_HOURS;
        while let [period, rest @ ..] = periods {
            let (h1, m1, h2, m2) = *period;
            total += ((h2 * 60 + m2) - (h1 * 60 + m1)) as i64;
            periods = rest;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn next_year_is_due_from_the_first_of_december() {
        assert_eq!(next_year_due(day(2026, 11, 30)), None);
        assert_eq!(next_year_due(day(2026, 12, 1)), Some(2027));
        assert_eq!(next_year_due(day(2026, 12, 31)), Some(2027));
        assert_eq!(next_year_due(day(2027, 1, 1)), None);
    }

    #[test]
    fn working_clocks_cross_the_year_boundary_with_and_without_next_year() {
        // Two working days (840 minutes) from 16:00 on Thursday 2026-12-31.
        let start = at("2026-12-31T16:00:00+08:00");
        let budget = 2 * WorkCalendar::working_day_minutes();
        // 2027 not loaded: Friday 1 January counts as a working day.
        let official = WorkCalendar::official();
        assert!(official.is_working_day(day(2027, 1, 1)));
        assert_eq!(
            official.add(Basis::Working, start, budget).unwrap(),
            at("2027-01-04T16:00:00+08:00")
        );
        // With a 2027 calendar loaded (a test list, not the official one:
        // only 1 January off), the holiday does not count.
        let mut days: Vec<(NaiveDate, DayKind)> = OFFICIAL
            .iter()
            .filter_map(|&(y, m, d, k, _)| Some((NaiveDate::from_ymd_opt(y, m, d)?, k)))
            .collect();
        days.push((day(2027, 1, 1), DayKind::Holiday));
        let loaded = WorkCalendar::new(days);
        assert!(!loaded.is_working_day(day(2027, 1, 1)));
        assert_eq!(
            loaded.add(Basis::Working, start, budget).unwrap(),
            at("2027-01-05T16:00:00+08:00")
        );
        // Elapsed working time over the boundary agrees with each calendar.
        let end = at("2027-01-04T12:00:00+08:00");
        assert_eq!(official.elapsed(Basis::Working, start, end), 90 + 420 + 180);
        assert_eq!(loaded.elapsed(Basis::Working, start, end), 90 + 180);
    }

    #[test]
    fn official_calendars_have_the_published_day_counts() {
        let cal = WorkCalendar::official();
        for (year, holidays, workdays) in [(2025, 28, 5), (2026, 33, 6)] {
            let of = |kind| {
                OFFICIAL
                    .iter()
                    .filter(|d| d.0 == year && d.3 == kind)
                    .count()
            };
            assert_eq!(of(DayKind::Holiday), holidays, "{year}");
            assert_eq!(of(DayKind::Workday), workdays, "{year}");
        }
        // 2026: 248 working days (365 - 104 weekend days - 19 weekday holidays + 6 adjusted).
        let mut d = day(2026, 1, 1);
        let mut working = 0;
        while d.year() == 2026 {
            working += i32::from(cal.is_working_day(d));
            d = d.succ_opt().unwrap();
        }
        assert_eq!(working, 248);
        assert!(
            !cal.is_working_day(day(2026, 2, 16)),
            "Spring Festival Monday"
        );
        assert!(cal.is_working_day(day(2026, 2, 14)), "adjusted Saturday");
        assert!(
            !cal.is_working_day(day(2026, 11, 28)),
            "an ordinary Saturday"
        );
        assert!(
            cal.is_working_day(day(2027, 3, 1)),
            "unlisted years: Monday to Friday"
        );
    }

    #[test]
    fn working_time_skips_nights_lunch_weekends_and_holidays() {
        let cal = WorkCalendar::official();
        assert_eq!(WorkCalendar::working_day_minutes(), 420);
        // Thursday 2026-11-26 11:30 China + 1 working hour: 30 min before lunch, 30 after.
        let start = at("2026-11-26T11:30:00+08:00");
        assert_eq!(
            cal.add(Basis::Working, start, 60).unwrap(),
            at("2026-11-26T14:00:00+08:00")
        );
        // Friday 17:00 + 1 working hour: 30 minutes Friday, 30 minutes Monday.
        let friday = at("2026-11-27T17:00:00+08:00");
        assert_eq!(
            cal.add(Basis::Working, friday, 60).unwrap(),
            at("2026-11-30T09:30:00+08:00")
        );
        // Saturday night, zero budget: due at Monday's opening.
        assert_eq!(
            cal.add(Basis::Working, at("2026-11-28T22:00:00+08:00"), 0)
                .unwrap(),
            at("2026-11-30T09:00:00+08:00")
        );
        // Calendar time ignores all of it.
        assert_eq!(
            cal.add(Basis::Calendar, friday, 60).unwrap(),
            at("2026-11-27T18:00:00+08:00")
        );
        assert_eq!(
            cal.elapsed(Basis::Working, friday, at("2026-11-30T09:30:00+08:00")),
            60
        );
        assert_eq!(
            cal.elapsed(Basis::Calendar, friday, at("2026-11-27T18:00:00+08:00")),
            60
        );
        assert_eq!(cal.elapsed(Basis::Working, friday, friday), 0);
    }

    #[test]
    fn working_days_across_the_2026_spring_festival_and_its_adjusted_workdays() {
        let cal = WorkCalendar::official();
        // Friday 2026-02-13 10:00 + 1 working day: Saturday 14 Feb is an adjusted
        // workday, so the day ends there, not after the holiday.
        let start = at("2026-02-13T10:00:00+08:00");
        let one_day = WorkCalendar::working_day_minutes();
        assert_eq!(
            cal.add(Basis::Working, start, one_day).unwrap(),
            at("2026-02-14T10:00:00+08:00")
        );
        // + 2 working days: 15-23 Feb are off, the next working day is Tue 24 Feb.
        assert_eq!(
            cal.add(Basis::Working, start, 2 * one_day).unwrap(),
            at("2026-02-24T10:00:00+08:00")
        );
        // 15 working days (the rework clock) from Sat 14 Feb 10:00: six hours on
        // the 14th, 14 whole days (24-27 Feb, Sat 28 Feb adjusted, 2-6 Mar,
        // 9-12 Mar) and the missing hour on Fri 13 Mar.
        let rework = cal
            .add(
                Basis::Working,
                at("2026-02-14T10:00:00+08:00"),
                15 * one_day,
            )
            .unwrap();
        assert_eq!(rework, at("2026-03-13T10:00:00+08:00"));
        assert_eq!(
            cal.elapsed(Basis::Working, at("2026-02-14T10:00:00+08:00"), rework),
            15 * one_day
        );
        assert_eq!(
            cal.next_working_day(day(2026, 2, 14)).unwrap(),
            day(2026, 2, 24)
        );
    }

    #[test]
    fn a_calendar_without_working_days_is_an_error_not_a_hang() {
        let mut d = day(2030, 1, 1);
        let mut off = Vec::new();
        for _ in 0..(HORIZON_DAYS + 10) {
            off.push((d, DayKind::Holiday));
            d = d.succ_opt().unwrap();
        }
        let cal = WorkCalendar::new(off);
        let start = at("2030-01-01T10:00:00+08:00");
        assert_eq!(
            cal.add(Basis::Working, start, 60),
            Err(NoWorkingTime(day(2030, 1, 1)))
        );
        assert!(cal.next_working_day(day(2030, 1, 1)).is_err());
    }
}
