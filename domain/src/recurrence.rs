//! Recurring work on the working calendar: when a schedule next fires (China
//! time), what a holiday does to it (run anyway, move to the next working
//! day, or skip), and what a worker that was down does about fires it missed
//! (run once now, or skip to the next).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::{NoWorkingTime, WorkCalendar};
use crate::clock::{CHINA, china_date};

/// On which days a schedule fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Days {
    /// Every day.
    Daily,
    /// Every working day of the calendar (adjusted Saturdays included).
    WorkingDays,
    /// These weekdays (`mon` … `sun`).
    Weekdays {
        /// The weekdays; at least one.
        weekdays: Vec<WeekdayName>,
    },
    /// These days of the month (1-31; a day a month lacks is passed over),
    /// e.g. `[1, 16]` for the half-monthly needs meeting.
    MonthDays {
        /// The days of the month; at least one.
        days: Vec<u32>,
    },
}

/// A weekday by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeekdayName {
    /// Monday (周一).
    Mon,
    /// Tuesday (周二).
    Tue,
    /// Wednesday (周三).
    Wed,
    /// Thursday (周四).
    Thu,
    /// Friday (周五).
    Fri,
    /// Saturday (周六).
    Sat,
    /// Sunday (周日).
    Sun,
}

impl WeekdayName {
    const fn weekday(self) -> Weekday {
        match self {
            WeekdayName::Mon => Weekday::Mon,
            WeekdayName::Tue => Weekday::Tue,
            WeekdayName::Wed => Weekday::Wed,
            WeekdayName::Thu => Weekday::Thu,
            WeekdayName::Fri => Weekday::Fri,
            WeekdayName::Sat => Weekday::Sat,
            WeekdayName::Sun => Weekday::Sun,
        }
    }
}

/// What a fire that falls on a day off does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicy {
    /// Fire anyway.
    Run,
    /// Fire on the next working day, same time.
    NextWorkingDay,
    /// Do not fire this time.
    Skip,
}

/// What a worker does about fires it missed while none ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Misfire {
    /// Fire once now for all that were missed.
    RunOnce,
    /// Fire none of them; wait for the next.
    Skip,
}

crate::state_enum! {
    /// How a fire instant was acted on.
    pub enum FireOutcome {
        /// Fired within the grace period.
        OnTime => "on_time",
        /// A missed fire, run once late.
        Late => "late",
        /// A missed fire, not run (the schedule's misfire policy).
        Skipped => "skipped",
    }
}

impl FireOutcome {
    /// The fire ran its job.
    pub const fn ran(self) -> bool {
        matches!(self, FireOutcome::OnTime | FireOutcome::Late)
    }

    /// The fire missed its instant.
    pub const fn misfired(self) -> bool {
        matches!(self, FireOutcome::Late | FireOutcome::Skipped)
    }
}

/// A recurring schedule: at `hour:minute` China time on `days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// On which days it fires.
    pub days: Days,
    /// Hour of the day, China time, 0-23.
    pub hour: u32,
    /// Minute of the hour, 0-59.
    pub minute: u32,
    /// What a fire on a day off does.
    pub holidays: HolidayPolicy,
}

/// Why a schedule is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRecurrence {
    /// The hour is not 0-23 or the minute not 0-59.
    #[error("hour is 0-23 and minute 0-59")]
    Time,
    /// A list of weekdays or days of the month is empty.
    #[error("name at least one day")]
    NoDays,
    /// A day of the month outside 1-31.
    #[error("days of the month are 1-31")]
    MonthDay,
}

/// How far ahead a next fire is looked for.
const HORIZON_DAYS: u32 = 800;

impl Recurrence {
    /// Refuses a schedule that could never fire as written.
    pub fn check(&self) -> Result<(), BadRecurrence> {
        if self.hour > 23 || self.minute > 59 {
            return Err(BadRecurrence::Time);
        }
        match &self.days {
            Days::Weekdays { weekdays } if weekdays.is_empty() => Err(BadRecurrence::NoDays),
            Days::MonthDays { days } if days.is_empty() => Err(BadRecurrence::NoDays),
            Days::MonthDays { days } if days.iter().any(|d| !(1..=31).contains(d)) => {
                Err(BadRecurrence::MonthDay)
            }
            _ => Ok(()),
        }
    }

    fn on_rule_day(&self, cal: &WorkCalendar, day: NaiveDate) -> bool {
        match &self.days {
            Days::Daily => true,
            Days::WorkingDays => cal.is_working_day(day),
            Days::Weekdays { weekdays } => weekdays.iter().any(|w| w.weekday() == day.weekday()),
            Days::MonthDays { days } => days.contains(&day.day()),
        }
    }

    fn at(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let time = NaiveTime::from_hms_opt(self.hour, self.minute, 0)?;
        CHINA
            .from_local_datetime(&day.and_time(time))
            .single()
            .map(|t| t.to_utc())
    }

    /// The first fire strictly after `after`, the holiday policy applied.
    pub fn next_after(
        &self,
        cal: &WorkCalendar,
        after: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, NoWorkingTime> {
        let start = china_date(after);
        let mut day = start;
        for _ in 0..HORIZON_DAYS {
            if self.on_rule_day(cal, day) {
                let fire_day = if cal.is_working_day(day) {
                    Some(day)
                } else {
                    match self.holidays {
                        HolidayPolicy::Run => Some(day),
                        HolidayPolicy::Skip => None,
                        HolidayPolicy::NextWorkingDay => Some(cal.next_working_day(day)?),
                    }
                };
                if let Some(at) = fire_day.and_then(|d| self.at(d))
                    && at > after
                {
                    return Ok(at);
                }
            }
            day = day.succ_opt().ok_or(NoWorkingTime(start))?;
        }
        Err(NoWorkingTime(start))
    }

    /// What a worker does at `now` with a schedule due at `due`: whether to
    /// fire (and as of which instant), and when it is due next. Fires missed
    /// while no worker ran are fired once now, or skipped, by `misfire`; a
    /// fire less than `grace_secs` late is on time.
    pub fn plan(
        &self,
        cal: &WorkCalendar,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        misfire: Misfire,
        grace_secs: i64,
    ) -> Result<(Option<DateTime<Utc>>, DateTime<Utc>), NoWorkingTime> {
        if due > now {
            return Ok((None, due));
        }
        let next = self.next_after(cal, now)?;
        let on_time = (now - due).num_seconds() <= grace_secs;
        let fire = match misfire {
            _ if on_time => Some(due),
            Misfire::RunOnce => Some(due),
            Misfire::Skip => None,
        };
        Ok((fire, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn meeting(holidays: HolidayPolicy) -> Recurrence {
        Recurrence {
            days: Days::MonthDays { days: vec![1, 16] },
            hour: 9,
            minute: 0,
            holidays,
        }
    }

    #[test]
    fn a_half_monthly_meeting_across_the_national_day_holiday() {
        let cal = WorkCalendar::official();
        let after = at("2026-09-20T12:00:00+08:00");
        // 1 October is a holiday (国庆, 1-7 October).
        let moved = meeting(HolidayPolicy::NextWorkingDay)
            .next_after(&cal, after)
            .unwrap();
        assert_eq!(moved, at("2026-10-08T09:00:00+08:00"));
        let skipped = meeting(HolidayPolicy::Skip)
            .next_after(&cal, after)
            .unwrap();
        assert_eq!(skipped, at("2026-10-16T09:00:00+08:00"));
        let anyway = meeting(HolidayPolicy::Run).next_after(&cal, after).unwrap();
        assert_eq!(anyway, at("2026-10-01T09:00:00+08:00"));
        // Strictly after: at the fire instant itself, the next one.
        let next = meeting(HolidayPolicy::Skip)
            .next_after(&cal, skipped)
            .unwrap();
        assert_eq!(
            next,
            at("2026-11-16T09:00:00+08:00"),
            "1 November 2026 is a Sunday: skipped"
        );
    }

    #[test]
    fn working_days_include_adjusted_saturdays_and_weekdays_are_plain_weekdays() {
        let cal = WorkCalendar::official();
        let daily_check = Recurrence {
            days: Days::WorkingDays,
            hour: 18,
            minute: 0,
            holidays: HolidayPolicy::Skip,
        };
        // Friday 9 October 2026 18:00 → Saturday 10 October is an adjusted workday.
        let next = daily_check
            .next_after(&cal, at("2026-10-09T18:00:00+08:00"))
            .unwrap();
        assert_eq!(next, at("2026-10-10T18:00:00+08:00"));
        let weekdays = Recurrence {
            days: Days::Weekdays {
                weekdays: vec![WeekdayName::Mon, WeekdayName::Fri],
            },
            ..daily_check.clone()
        };
        // Monday 5 October is a holiday: skipped; Friday 9 October fires.
        let next = weekdays
            .next_after(&cal, at("2026-10-02T19:00:00+08:00"))
            .unwrap();
        assert_eq!(next, at("2026-10-09T18:00:00+08:00"));
    }

    #[test]
    fn missed_fires_run_once_or_are_skipped() {
        let cal = WorkCalendar::official();
        let r = meeting(HolidayPolicy::Run);
        let due = at("2026-12-01T09:00:00+08:00");
        // Not yet due.
        assert_eq!(
            r.plan(
                &cal,
                due,
                due - chrono::Duration::minutes(1),
                Misfire::Skip,
                60
            )
            .unwrap(),
            (None, due)
        );
        // On time (within the grace): fires as of its instant.
        let now = due + chrono::Duration::seconds(30);
        let next = at("2026-12-16T09:00:00+08:00");
        assert_eq!(
            r.plan(&cal, due, now, Misfire::Skip, 60).unwrap(),
            (Some(due), next)
        );
        // Three weeks late (the 1st and the 16th missed): once, or not at all; next after now.
        let late = at("2026-12-20T10:00:00+08:00");
        let next = at("2027-01-01T09:00:00+08:00");
        assert_eq!(
            r.plan(&cal, due, late, Misfire::RunOnce, 60).unwrap(),
            (Some(due), next)
        );
        assert_eq!(
            r.plan(&cal, due, late, Misfire::Skip, 60).unwrap(),
            (None, next)
        );
    }

    #[test]
    fn bad_recurrences_are_refused() {
        let mut r = meeting(HolidayPolicy::Run);
        assert!(r.check().is_ok());
        r.hour = 24;
        assert_eq!(r.check(), Err(BadRecurrence::Time));
        r.hour = 9;
        r.days = Days::MonthDays { days: vec![0] };
        assert_eq!(r.check(), Err(BadRecurrence::MonthDay));
        r.days = Days::Weekdays { weekdays: vec![] };
        assert_eq!(r.check(), Err(BadRecurrence::NoDays));
    }
}
