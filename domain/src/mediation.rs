//! Disputes (矛盾纠纷) and the joint mediation platform: the ladder a dispute
//! climbs (grid → community mediation room → street → centre), how it ends
//! (an agreement, or a referral to court, arbitration or petitions, then
//! follow-up visits), the street's whistle (街道吹哨) for one of three
//! reasons, and each summoned department's report-in (部门报到) with its
//! deadline and the steps after it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::state_enum! {
    /// Where a dispute is being handled. "Small things stay in the grid, big
    /// things stay in the street."
    #[derive(PartialOrd, Ord)]
    pub enum Level {
        /// The grid, by its own workers: where small things should stay.
        Grid => "grid",
        /// The community's mediation room (调解室).
        Community => "community",
        /// The street, which may blow the whistle to departments.
        Street => "street",
        /// The district's one-stop mediation centre.
        Centre => "centre",
    }
}

impl Level {
    /// One level up (`None` at the top).
    pub const fn up(self) -> Option<Level> {
        match self {
            Level::Grid => Some(Level::Community),
            Level::Community => Some(Level::Street),
            Level::Street => Some(Level::Centre),
            Level::Centre => None,
        }
    }
}

/// What a dispute is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DisputeKind)]
pub enum Kind {
    /// 邻里纠纷
    Neighbour,
    /// 婚姻家庭
    Family,
    /// 物业纠纷
    Property,
    /// 劳动争议
    Labour,
    /// 土地山林
    Land,
    /// 合同债务
    Contract,
    /// 损害赔偿
    Damages,
    /// Anything else (其他).
    Other,
}

impl Kind {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Neighbour => "neighbour",
            Kind::Family => "family",
            Kind::Property => "property",
            Kind::Labour => "labour",
            Kind::Land => "land",
            Kind::Contract => "contract",
            Kind::Damages => "damages",
            Kind::Other => "other",
        }
    }
}

crate::state_enum! {
    /// Where a dispute stands.
    #[schema(as = DisputeStatus)]
    pub enum Status {
        /// Being mediated at its level.
        Open => "open",
        /// Ended in a mediation agreement; follow-up visits run.
        Settled => "settled",
        /// Mediation failed; referred on; follow-up visits run.
        Referred => "referred",
        /// Follow-ups done (or waived): nothing left to do.
        Closed => "closed",
    }
}

/// Where a failed mediation is referred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Referral {
    /// The court (e.g. through the 法官工作站).
    Court,
    /// Labour or commercial arbitration.
    Arbitration,
    /// Letters and visits (信访).
    Petition,
}

impl Referral {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Referral::Court => "court",
            Referral::Arbitration => "arbitration",
            Referral::Petition => "petition",
        }
    }
}

/// Why the street blows the whistle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhistleReason {
    /// An unresolved pressing issue (难点问题).
    Pressing,
    /// Joint enforcement (综合执法).
    JointEnforcement,
    /// An emergency (应急处置): report in within minutes.
    Emergency,
}

impl WhistleReason {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            WhistleReason::Pressing => "pressing",
            WhistleReason::JointEnforcement => "joint_enforcement",
            WhistleReason::Emergency => "emergency",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<WhistleReason> {
        [
            WhistleReason::Pressing,
            WhistleReason::JointEnforcement,
            WhistleReason::Emergency,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The district's report-in windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// For emergencies (30 by default).
    pub emergency_minutes: i64,
    /// For every other whistle.
    pub other_hours: i64,
}

impl Default for Windows {
    fn default() -> Windows {
        Windows {
            emergency_minutes: 30,
            other_hours: 4,
        }
    }
}

/// When a department summoned at `at` must have reported in, and when it
/// is reminded (half way).
pub fn report_in(
    reason: WhistleReason,
    at: DateTime<Utc>,
    w: Windows,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let window = match reason {
        WhistleReason::Emergency => Duration::minutes(w.emergency_minutes),
        _ => Duration::hours(w.other_hours),
    };
    (at + window, at + window / 2)
}

crate::state_enum! {
    /// A summoned department's progress.
    pub enum SummonsState {
        /// 被召集: called by the whistle; must report in by its deadline.
        Summoned => "summoned",
        /// 报到: acknowledged.
        ReportedIn => "reported_in",
        /// 到场: the department's people are on site.
        OnSite => "on_site",
        /// 完成: the department finished its part (final).
        Done => "done",
    }
}

crate::state_enum! {
    /// Whether a whistle's joint action goes on.
    pub enum WhistleStatus {
        /// The summoned departments are at work.
        Open => "open",
        /// The street ended the joint action; ratings may follow.
        Closed => "closed",
    }
}

/// What a department does with a summons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummonsStep {
    /// 报到: acknowledge the summons; its time is measured against the deadline.
    ReportIn,
    /// Arrive on site, after reporting in.
    OnSite,
    /// Record an action taken (the state does not change).
    Action,
    /// Finish the department's part, after reporting in.
    Done,
}

impl SummonsStep {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            SummonsStep::ReportIn => "report_in",
            SummonsStep::OnSite => "on_site",
            SummonsStep::Action => "action",
            SummonsStep::Done => "done",
        }
    }

    /// The state after the step, if the step is allowed from `from`.
    pub const fn apply(self, from: SummonsState) -> Option<SummonsState> {
        use SummonsState as S;
        match (self, from) {
            (SummonsStep::ReportIn, S::Summoned) => Some(S::ReportedIn),
            (SummonsStep::OnSite, S::ReportedIn) => Some(S::OnSite),
            (SummonsStep::Action, S::ReportedIn | S::OnSite) => Some(from),
            (SummonsStep::Done, S::ReportedIn | S::OnSite) => Some(S::Done),
            _ => None,
        }
    }

    /// The steps allowed from `from`.
    pub fn allowed(from: SummonsState) -> Vec<&'static str> {
        [
            SummonsStep::ReportIn,
            SummonsStep::OnSite,
            SummonsStep::Action,
            SummonsStep::Done,
        ]
        .into_iter()
        .filter(|s| s.apply(from).is_some())
        .map(SummonsStep::as_str)
        .collect()
    }
}

/// Follow-up visits after an agreement or a referral: days after the outcome.
pub const FOLLOW_UP_DAYS: [i64; 3] = [7, 30, 90];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_climbs_one_rung_at_a_time() {
        assert_eq!(Level::Grid.up(), Some(Level::Community));
        assert_eq!(Level::Street.up(), Some(Level::Centre));
        assert_eq!(Level::Centre.up(), None);
        assert!(Level::Grid < Level::Street);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn report_in_windows() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00+08:00")
            .unwrap()
            .to_utc();
        let (due, remind) = report_in(WhistleReason::Emergency, at, Windows::default());
        assert_eq!(due - at, Duration::minutes(30));
        assert_eq!(remind - at, Duration::minutes(15));
        let (due, _) = report_in(WhistleReason::JointEnforcement, at, Windows::default());
        assert_eq!(due - at, Duration::hours(4));
    }

    #[test]
    fn summons_steps_follow_report_in() {
        use SummonsState as S;
        assert_eq!(
            SummonsStep::ReportIn.apply(S::Summoned),
            Some(S::ReportedIn)
        );
        assert_eq!(SummonsStep::ReportIn.apply(S::ReportedIn), None, "once");
        assert_eq!(
            SummonsStep::OnSite.apply(S::Summoned),
            None,
            "report in first"
        );
        assert_eq!(SummonsStep::Done.apply(S::OnSite), Some(S::Done));
        assert_eq!(SummonsStep::Action.apply(S::Done), None);
        assert_eq!(SummonsStep::allowed(S::Summoned), ["report_in"]);
        assert_eq!(
            SummonsStep::allowed(S::ReportedIn),
            ["on_site", "action", "done"]
        );
        assert!(SummonsStep::allowed(S::Done).is_empty());
    }
}
