//! Service-level clocks of a case: tiers with their default budgets (domain
//! guide §5), and the instants a clock is due and warns at, given the working
//! calendar and the time it spent paused ("waiting for the resident").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::{Basis, NoWorkingTime, WorkCalendar};

crate::state_enum! {
    /// How urgent a case is; decides its default clocks.
    pub enum Tier {
        /// 紧急: gas leak, burst main. Round the clock.
        Emergency => "emergency",
        /// 民生保障: no heating, water or power.
        Utility => "utility",
        /// 一般: noise, parking, repairs.
        General => "general",
        /// 复杂: several departments.
        Complex => "complex",
    }
}

impl Tier {
    /// The domain guide's default clocks for the tier.
    pub const fn default_policy(self) -> TierPolicy {
        const HOUR: i64 = 60;
        const DAY: i64 = 24 * HOUR;
        let (response, resolution) = match self {
            Tier::Emergency => (
                Budget::new(Basis::Calendar, HOUR),
                Budget::new(Basis::Calendar, 2 * HOUR),
            ),
            Tier::Utility => (
                Budget::new(Basis::Calendar, HOUR),
                Budget::new(Basis::Calendar, DAY),
            ),
            Tier::General => (
                Budget::new(Basis::Working, HOUR),
                Budget::new(Basis::Calendar, 7 * DAY),
            ),
            Tier::Complex => (
                Budget::new(Basis::Working, HOUR),
                Budget::new(Basis::Calendar, 15 * DAY),
            ),
        };
        TierPolicy {
            response,
            resolution,
        }
    }
}

crate::state_enum! {
    /// What a clock of a case times.
    pub enum ClockKind {
        /// 首次响应: from filing to the first response.
        Response => "response",
        /// 办结: from filing (or acceptance) to resolution.
        Resolution => "resolution",
        /// A staged milestone of the case's category.
        Milestone => "milestone",
        /// 返工: after a bad rating, until the case is handled again.
        Rework => "rework",
    }
}

crate::state_enum! {
    /// How a stopped clock ended.
    pub enum ClockOutcome {
        /// Stopped by its deadline (or paused before it).
        Met => "met",
        /// Stopped after its deadline.
        Breached => "breached",
    }
}

impl ClockOutcome {
    /// The outcome of a clock due at `due_at` stopped at `at`: met when it
    /// stops in time, or when it was paused before its deadline (the time
    /// since then is the resident's, not the clock's).
    pub fn judged(
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        paused_at: Option<DateTime<Utc>>,
    ) -> ClockOutcome {
        if at <= due_at || paused_at.is_some_and(|p| p <= due_at) {
            ClockOutcome::Met
        } else {
            ClockOutcome::Breached
        }
    }
}

crate::state_enum! {
    /// A clock as shown at an instant: running, paused, running past its
    /// deadline, or how it ended.
    pub enum ClockState {
        /// Counting, before its deadline.
        Running => "running",
        /// Waiting for the resident; not counting.
        Paused => "paused",
        /// Still running, past its deadline.
        Overdue => "overdue",
        /// Stopped in time.
        Met => "met",
        /// Stopped late.
        Breached => "breached",
    }
}

impl ClockState {
    /// The state at `now` of a clock due at `due_at` that ended with
    /// `outcome` (if stopped) and is paused since `paused_at` (if paused).
    pub fn at(
        now: DateTime<Utc>,
        due_at: DateTime<Utc>,
        (outcome, paused_at): (Option<ClockOutcome>, Option<DateTime<Utc>>),
    ) -> ClockState {
        match (outcome, paused_at) {
            (Some(ClockOutcome::Met), _) => ClockState::Met,
            (Some(ClockOutcome::Breached), _) => ClockState::Breached,
            (None, Some(_)) => ClockState::Paused,
            (None, None) if due_at <= now => ClockState::Overdue,
            (None, None) => ClockState::Running,
        }
    }
}

/// The rework clock after a bad rating: 15 working days.
pub const REWORK: Budget = Budget::new(Basis::Working, 15 * WorkCalendar::working_day_minutes());

/// A duration on a basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    /// Whether the minutes run round the clock or in working time only.
    pub basis: Basis,
    /// Minutes of `basis` time.
    pub minutes: i64,
}

impl Budget {
    /// `minutes` of `basis` time.
    pub const fn new(basis: Basis, minutes: i64) -> Budget {
        Budget { basis, minutes }
    }
}

/// The two clocks every case runs: first response (accept and dispatch) and
/// resolution (result back to the resident).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierPolicy {
    /// First response: accept (立案) and dispatch (派遣).
    pub response: Budget,
    /// Resolution: the result back to the resident (反馈).
    pub resolution: Budget,
}

/// When a clock warns and falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// 50 %: the assignee is reminded.
    pub warn_50_at: DateTime<Utc>,
    /// 75 %: the assignee and the grid chief are warned.
    pub warn_75_at: DateTime<Utc>,
    /// 100 %: the case escalates one level.
    pub due_at: DateTime<Utc>,
}

/// The schedule of a clock started at `started_at` with `budget`, pushed back
/// by `paused_minutes` (of the budget's basis) spent waiting for the resident
/// and by `extended_minutes` of approved extensions.
pub fn schedule(
    calendar: &WorkCalendar,
    budget: Budget,
    started_at: DateTime<Utc>,
    paused_minutes: i64,
    extended_minutes: i64,
) -> Result<Schedule, NoWorkingTime> {
    let shift = paused_minutes.max(0) + extended_minutes.max(0);
    let at = |fraction_pct: i64| {
        calendar.add(
            budget.basis,
            started_at,
            budget.minutes * fraction_pct / 100 + shift,
        )
    };
    Ok(Schedule {
        warn_50_at: at(50)?,
        warn_75_at: at(75)?,
        due_at: at(100)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn defaults_follow_the_domain_guide() {
        let e = Tier::Emergency.default_policy();
        assert_eq!(e.response, Budget::new(Basis::Calendar, 60));
        assert_eq!(e.resolution, Budget::new(Basis::Calendar, 120));
        assert_eq!(Tier::Utility.default_policy().resolution.minutes, 24 * 60);
        assert_eq!(
            Tier::General.default_policy().response,
            Budget::new(Basis::Working, 60)
        );
        assert_eq!(
            Tier::General.default_policy().resolution.minutes,
            7 * 24 * 60
        );
        assert_eq!(
            Tier::Complex.default_policy().resolution.minutes,
            15 * 24 * 60
        );
        assert_eq!(REWORK, Budget::new(Basis::Working, 15 * 420));
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn a_working_hour_clock_filed_before_a_holiday_warns_and_falls_due_after_it() {
        let cal = WorkCalendar::official();
        // Filed Wed 2026-09-30 17:00 (China): 30 minutes left that day, then
        // 1-7 Oct off (国庆) and Thu 8 Oct is a working day.
        let s = schedule(
            &cal,
            Tier::General.default_policy().response,
            at("2026-09-30T17:00:00+08:00"),
            0,
            0,
        )
        .unwrap();
        assert_eq!(s.warn_50_at, at("2026-09-30T17:30:00+08:00"));
        assert_eq!(s.warn_75_at, at("2026-10-08T09:15:00+08:00"));
        assert_eq!(s.due_at, at("2026-10-08T09:30:00+08:00"));
    }

    #[test]
    fn pauses_and_extensions_push_every_instant_back() {
        let cal = WorkCalendar::official();
        let start = at("2026-11-27T10:00:00+08:00");
        let budget = Budget::new(Basis::Calendar, 120);
        let plain = schedule(&cal, budget, start, 0, 0).unwrap();
        assert_eq!(plain.due_at, at("2026-11-27T12:00:00+08:00"));
        let paused = schedule(&cal, budget, start, 30, 60).unwrap();
        assert_eq!(paused.warn_50_at, at("2026-11-27T12:30:00+08:00"));
        assert_eq!(paused.due_at, at("2026-11-27T13:30:00+08:00"));
        // Negative amounts are ignored rather than pulling a deadline forward.
        assert_eq!(schedule(&cal, budget, start, -30, -5).unwrap(), plain);
    }
}
