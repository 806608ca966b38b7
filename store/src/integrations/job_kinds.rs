//! Every kind of job the queue holds, as a type: its name, its queue and its
//! payload. The write that queues a job and the worker that runs it share
//! these types, so no payload is built or parsed by hand and no kind is
//! matched as a string (the worker keeps one registry of them).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::integrations::jobs::NewJob;

/// A kind of job and its payload.
pub trait JobKind: Serialize + DeserializeOwned + Send + 'static {
    /// The kind as stored in `jobs.kind` (and shown by `GET /jobs`).
    const NAME: &'static str;
    /// The queue the job waits in.
    const QUEUE: &'static str;
    /// Attempts before the job fails for good.
    const MAX_ATTEMPTS: i32 = 10;
}

/// The queue of case clock deadlines.
pub const SLA_QUEUE: &str = "sla";
/// The queue of summons reminders and deadlines.
pub const MEDIATION_QUEUE: &str = "mediation";
/// The queue of scheduled fires and their per-street shares.
pub const RECURRING_QUEUE: &str = "recurring";
/// The queue of webhook fan-outs and deliveries.
pub const WEBHOOK_QUEUE: &str = "webhooks";
/// Jobs that do nothing but complete: the benchmarks measure the queue with them.
pub const NOOP_QUEUE: &str = "noop";

impl NewJob {
    /// A job of kind `K` due at `run_at`, in no tenant and without a unique key.
    pub fn of<K: JobKind>(payload: &K, run_at: DateTime<Utc>) -> StoreResult<NewJob> {
        // A payload that cannot be written is a defect, not a bad request:
        // it surfaces as an internal error, never as a client's field.
        let payload = serde_json::to_value(payload).map_err(|e| {
            StoreError::Database(diesel::result::Error::SerializationError(Box::new(e)))
        })?;
        Ok(NewJob {
            queue: K::QUEUE,
            kind: K::NAME,
            unique_key: None,
            district_id: None,
            street_id: None,
            payload,
            run_at,
            max_attempts: K::MAX_ATTEMPTS,
        })
    }

    /// Queued at most once under `key`.
    #[must_use]
    pub fn unique(self, key: String) -> NewJob {
        NewJob {
            unique_key: Some(key),
            ..self
        }
    }

    /// Run for a district (and, when given, one of its streets).
    #[must_use]
    pub fn for_tenant(self, district: Uuid, street: Option<Uuid>) -> NewJob {
        NewJob {
            district_id: Some(district),
            street_id: street,
            ..self
        }
    }
}

/// A case clock reaching one of its stages (50 %, 75 %, due).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SlaDeadline {
    /// The clock reaching the stage.
    pub clock_id: Uuid,
    /// The clock's case.
    pub case_id: Uuid,
    /// The stage: `warn_50`, `warn_75` or `due`.
    pub stage: String,
}

impl JobKind for SlaDeadline {
    const NAME: &'static str = "sla.deadline";
    const QUEUE: &'static str = SLA_QUEUE;
}

/// Does nothing; completing it is the whole job.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Noop {}

impl JobKind for Noop {
    const NAME: &'static str = "noop";
    const QUEUE: &'static str = NOOP_QUEUE;
}

/// A district's daily stale-ledger digest, fired by its schedule.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StaleDigest {
    /// The instant the schedule fired for.
    pub fire_for: DateTime<Utc>,
}

impl JobKind for StaleDigest {
    const NAME: &'static str = "ledger.stale_digest";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// One street's share of a stale-ledger digest day.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StreetDigest {
    /// The day whose stale records are digested (China's calendar day).
    pub day: NaiveDate,
}

impl JobKind for StreetDigest {
    const NAME: &'static str = "ledger.stale_digest_street";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// A district's daily flag of missing patrol logs, fired by its schedule.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MissingPatrols {
    /// The instant the schedule fired for.
    pub fire_for: DateTime<Utc>,
}

impl JobKind for MissingPatrols {
    const NAME: &'static str = "patrol.missing_logs";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// One street's flags of missing patrol logs for a day.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StreetMissingPatrols {
    /// The working day checked for logs.
    pub day: NaiveDate,
}

impl JobKind for StreetMissingPatrols {
    const NAME: &'static str = "patrol.missing_logs_street";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// A district's daily check that next year's working calendar is loaded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CalendarCheck {
    /// The instant the schedule fired for.
    pub fire_for: DateTime<Utc>,
}

impl JobKind for CalendarCheck {
    const NAME: &'static str = "calendar.next_year_check";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// A community's needs meeting, prepared ahead of the instant it is held.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PrepareMeeting {
    /// The community holding the meeting.
    pub community_id: Uuid,
    /// When the meeting is held.
    pub fire_for: DateTime<Utc>,
}

impl JobKind for PrepareMeeting {
    const NAME: &'static str = "meeting.prepare";
    const QUEUE: &'static str = RECURRING_QUEUE;
}

/// Half way to a summons' report-in deadline: its department is reminded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReportInReminder {
    /// The summons to remind about.
    pub summons_id: Uuid,
}

impl JobKind for ReportInReminder {
    const NAME: &'static str = "mediation.remind";
    const QUEUE: &'static str = MEDIATION_QUEUE;
}

/// A summons' report-in deadline: overdue if the department has not reported in.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReportInDeadline {
    /// The summons whose deadline it is.
    pub summons_id: Uuid,
}

impl JobKind for ReportInDeadline {
    const NAME: &'static str = "mediation.deadline";
    const QUEUE: &'static str = MEDIATION_QUEUE;
}

/// A webhook event's fan-out into one delivery per subscribed endpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WebhookFanOut {
    /// The event to fan out.
    pub event_id: Uuid,
}

impl JobKind for WebhookFanOut {
    const NAME: &'static str = "webhook.fan_out";
    const QUEUE: &'static str = WEBHOOK_QUEUE;
}

/// One attempt of a webhook delivery.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WebhookDelivery {
    /// The delivery to attempt.
    pub delivery_id: Uuid,
}

impl JobKind for WebhookDelivery {
    const NAME: &'static str = "webhook.deliver";
    const QUEUE: &'static str = WEBHOOK_QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
}

/// The kinds a schedule may fire (a schedule row names its kind as data).
pub const SCHEDULED: [&str; 6] = [
    StaleDigest::NAME,
    StreetDigest::NAME,
    MissingPatrols::NAME,
    CalendarCheck::NAME,
    PrepareMeeting::NAME,
    Noop::NAME,
];
