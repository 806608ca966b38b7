//! 一格三员: every grid should have a full-time worker, part-time workers and
//! department grid workers. A grid missing any of the three has a staffing gap.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The three kinds of grid staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffKind {
    /// 专职网格员: resident in the grid, daily visits.
    FullTime,
    /// 兼职网格员: building/unit heads, retired party members.
    PartTime,
    /// 部门网格员: from one of the departments, weekly visits.
    Department,
}

impl StaffKind {
    /// All three kinds, in the order 一格三员 names them.
    pub const ALL: [StaffKind; 3] = [
        StaffKind::FullTime,
        StaffKind::PartTime,
        StaffKind::Department,
    ];

    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            StaffKind::FullTime => "full_time",
            StaffKind::PartTime => "part_time",
            StaffKind::Department => "department",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<StaffKind> {
        StaffKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Head counts of one grid's current staff by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffCounts {
    /// Full-time grid workers (专职网格员).
    pub full_time: u32,
    /// Part-time grid workers (兼职网格员).
    pub part_time: u32,
    /// Department grid workers (部门网格员).
    pub department: u32,
}

impl StaffCounts {
    /// Counts one current assignment.
    pub fn add(&mut self, kind: StaffKind) {
        match kind {
            StaffKind::FullTime => self.full_time += 1,
            StaffKind::PartTime => self.part_time += 1,
            StaffKind::Department => self.department += 1,
        }
    }

    /// The kinds with nobody assigned: the staffing gap.
    pub fn missing(&self) -> Vec<StaffKind> {
        StaffKind::ALL
            .into_iter()
            .filter(|k| match k {
                StaffKind::FullTime => self.full_time == 0,
                StaffKind::PartTime => self.part_time == 0,
                StaffKind::Department => self.department == 0,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_lists_missing_kinds() {
        let mut c = StaffCounts::default();
        assert_eq!(c.missing(), StaffKind::ALL.to_vec());
        c.add(StaffKind::FullTime);
        c.add(StaffKind::PartTime);
        c.add(StaffKind::PartTime);
        assert_eq!(c.missing(), vec![StaffKind::Department]);
        c.add(StaffKind::Department);
        assert!(c.missing().is_empty());
        assert_eq!(c.part_time, 2);
    }
}
