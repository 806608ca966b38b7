//! Where a background job stands, after the queues of crates-io and Oban: a
//! job waits `available` until a worker leases it, is `running` under the
//! lease, and ends `completed`, `failed` (out of attempts) or `discarded`
//! (refused for good); an operator may retry the last two.

crate::state_enum! {
    /// A job's state.
    pub enum JobState {
        /// Waiting for its `run_at` and a worker.
        Available => "available",
        /// Leased by a worker.
        Running => "running",
        /// Ran to the end.
        Completed => "completed",
        /// Out of attempts.
        Failed => "failed",
        /// Refused for good (a payload that can never run).
        Discarded => "discarded",
    }
}

impl JobState {
    /// Ended without success: an operator may retry it.
    pub const fn is_retryable(self) -> bool {
        matches!(self, JobState::Failed | JobState::Discarded)
    }
}

crate::state_enum! {
    /// A webhook delivery's state.
    pub enum DeliveryState {
        /// Waiting for its next attempt.
        Pending => "pending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Out of attempts, or its endpoint was disabled.
        Failed => "failed",
    }
}
