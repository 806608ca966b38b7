//! Integrations: the job queue, recurring schedules and webhooks.

pub mod job_kinds;
pub mod jobs;
pub mod schedules;
pub mod webhooks;
