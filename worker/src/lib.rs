//! The worker's job runner, a library so tests drive it with their own clock:
//! rescue expired leases, claim due jobs of the deadline queue, act on each in
//! one transaction with its fenced completion, back off and retry on errors.

#![warn(clippy::indexing_slicing)]

pub mod jobs;
pub mod runner;
pub mod wake;
pub mod webhooks;
