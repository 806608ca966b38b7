//! The half-monthly needs meeting (需求例会): planned from the schedule,
//! held when its minutes are recorded, closed when every item is decided.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a needs meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Compiled with its agenda, not yet held.
    Planned,
    /// Held; minutes recorded.
    Held,
    /// Closed: decisions are final.
    Closed,
}

crate::stable_names!(MeetingStatus {
    Planned => "planned",
    Held => "held",
    Closed => "closed",
});
