//! The case category catalogue: hierarchical codes (`01`, `01.02`,
//! `01.02.03`), each with a default tier, optional extra fields and staged
//! milestones. Every district starts with [`DEFAULT_CATEGORIES`] and edits it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::{Basis, WorkCalendar};
use crate::sla::{Budget, Tier};

/// A staged milestone of a category (e.g. contain ≤3 h, repair ≤8 h,
/// restore ≤5 working days), each with its own clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    /// 1-100 characters, e.g. 控制.
    pub name: String,
    /// Whether the clock counts round the clock or working time only.
    pub basis: Basis,
    /// Minutes of `basis` time from acceptance.
    pub minutes: i64,
}

impl Milestone {
    /// The time this milestone allows, as a clock budget.
    pub const fn budget(&self) -> Budget {
        Budget::new(self.basis, self.minutes)
    }
}

/// Whether `code` is a category code: two digits, then up to two `.NN` levels.
pub fn valid_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The parent code of a sub-category (`01.02` → `01`).
pub fn parent_code(code: &str) -> Option<&str> {
    code.rsplit_once('.').map(|(parent, _)| parent)
}

/// Checks a category's milestones: 0-5, named uniquely, 1 minute to a year.
pub fn check_milestones(milestones: &[Milestone]) -> Result<(), String> {
    if milestones.len() > 5 {
        return Err("at most 5 milestones".into());
    }
    let mut names = std::collections::HashSet::new();
    for m in milestones {
        let len = m.name.chars().count();
        if !(1..=100).contains(&len) || m.name.trim().is_empty() {
            return Err("a milestone name has 1 to 100 characters".into());
        }
        if !names.insert(m.name.as_str()) {
            return Err(format!("milestone {} is named twice", m.name));
        }
        if !(1..=525_600).contains(&m.minutes) {
            return Err("a milestone lasts 1 to 525600 minutes".into());
        }
    }
    Ok(())
}

/// One entry of the default catalogue: code, name, tier.
pub type DefaultCategory = (&'static str, &'static str, Tier);

/// The catalogue every district starts with.
pub const DEFAULT_CATEGORIES: &[DefaultCategory] = &[
    ("01", "市政设施", Tier::General),
    ("01.01", "道路破损", Tier::General),
    ("01.02", "路灯故障", Tier::General),
    ("01.03", "井盖缺失", Tier::Emergency),
    ("02", "民生保障", Tier::Utility),
    ("02.01", "停水", Tier::Utility),
    ("02.02", "停电", Tier::Utility),
    ("02.03", "供暖不热", Tier::Utility),
    ("02.04", "燃气泄漏", Tier::Emergency),
    ("03", "环境卫生", Tier::General),
    ("03.01", "垃圾清运", Tier::General),
    ("03.02", "噪声扰民", Tier::General),
    ("04", "物业管理", Tier::General),
    ("04.01", "电梯故障", Tier::Utility),
    ("04.02", "房屋漏水", Tier::General),
    ("05", "社会服务", Tier::General),
    ("05.01", "独居老人帮扶", Tier::General),
    ("05.02", "低保咨询", Tier::General),
    ("05.03", "代办证照", Tier::General),
    ("06", "矛盾纠纷", Tier::Complex),
    ("06.01", "邻里纠纷", Tier::Complex),
    ("07", "市场监管", Tier::General),
    ("07.01", "占道经营", Tier::General),
    ("08", "安全隐患", Tier::Emergency),
    ("08.01", "消防通道堵塞", Tier::General),
];

/// The staged milestones the default catalogue gives a category (a burst
/// main: contain within 3 hours, repair within 8, restore within 5 working days).
pub fn default_milestones(code: &str) -> Vec<Milestone> {
    match code {
        "02.01" => vec![
            Milestone {
                name: "控制".into(),
                basis: Basis::Calendar,
                minutes: 3 * 60,
            },
            Milestone {
                name: "抢修".into(),
                basis: Basis::Calendar,
                minutes: 8 * 60,
            },
            Milestone {
                name: "恢复".into(),
                basis: Basis::Working,
                minutes: 5 * WorkCalendar::working_day_minutes(),
            },
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_parents() {
        for ok in ["01", "01.02", "99.00.12"] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in ["", "1", "01.", "01.2", "01.02.03.04", "0a", "01-02"] {
            assert!(!valid_code(bad), "{bad}");
        }
        assert_eq!(parent_code("01.02.03"), Some("01.02"));
        assert_eq!(parent_code("01"), None);
    }

    #[test]
    fn the_default_catalogue_is_well_formed() {
        for (code, name, _) in DEFAULT_CATEGORIES {
            assert!(valid_code(code) && !name.is_empty(), "{code}");
            if let Some(parent) = parent_code(code) {
                assert!(
                    DEFAULT_CATEGORIES.iter().any(|(c, _, _)| *c == parent),
                    "{code} has no parent"
                );
            }
            check_milestones(&default_milestones(code)).unwrap();
        }
        assert_eq!(default_milestones("02.01").len(), 3);
    }

    #[test]
    fn milestones_are_checked() {
        let m = |name: &str, minutes| Milestone {
            name: name.into(),
            basis: Basis::Calendar,
            minutes,
        };
        assert!(check_milestones(&[m("a", 0)]).is_err());
        assert!(check_milestones(&[m("a", 5), m("a", 6)]).is_err());
        assert!(check_milestones(&[m(" ", 5)]).is_err());
        assert!(check_milestones(&vec![m("a", 5); 6]).is_err());
        assert!(check_milestones(&[m("a", 5), m("b", 6)]).is_ok());
    }
}
