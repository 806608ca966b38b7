//! Where a background job stands, after the queues of crates-io and Oban: a
//! job waits `available` until a worker leases it, is `running` under the
//! lease, and ends `completed`, `failed` (out of attempts) or `discarded`
//! (refused for good); an operator may retry the last two.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at` and a worker.
    Available,
    /// Leased by a worker.
    Running,
    /// Ran to the end.
    Completed,
    /// Out of attempts.
    Failed,
    /// Refused for good (a payload that can never run).
    Discarded,
}

crate::stable_names!(JobState {
    Available => "available",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Discarded => "discarded",
});

impl JobState {
    /// Ended without success: an operator may retry it.
    pub const fn is_retryable(self) -> bool {
        matches!(self, JobState::Failed | JobState::Discarded)
    }
}

/// A webhook delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of attempts, or its endpoint was disabled.
    Failed,
}

crate::stable_names!(DeliveryState {
    Pending => "pending",
    Delivered => "delivered",
    Failed => "failed",
});
