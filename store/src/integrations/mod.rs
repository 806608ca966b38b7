//! Integrations: the job queue, recurring schedules and webhooks.

pub mod jobs;
pub mod schedules;
pub mod webhooks;
