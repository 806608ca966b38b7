//! The job queue: rows in PostgreSQL inserted with the write that causes
//! them, claimed with `FOR UPDATE SKIP LOCKED` under a lease, finished by
//! updates fenced on the lease token (a worker that lost its lease changes
//! nothing), retried with backoff, rescued when a lease expires, kept in a
//! terminal state after the last attempt until an admin replays them.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use onegrid_domain::jobs::JobState;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::jobs;
use crate::sql::names;

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The queue workers claim it from (`^[a-z][a-z_]{1,30}$`).
    pub queue: &'static str,
    /// The job kind, naming what runs it (a [`crate::integrations::job_kinds::JobKind`] name).
    pub kind: &'static str,
    /// The same logical job is never queued twice: a second enqueue with the
    /// same key does nothing.
    pub unique_key: Option<String>,
    /// The district it works for; `None` for platform-wide jobs.
    pub district_id: Option<Uuid>,
    /// The street it works for; `None` for district-wide or platform-wide jobs.
    pub street_id: Option<Uuid>,
    /// The kind's arguments as JSON (`{}` when none).
    pub payload: serde_json::Value,
    /// When it may run first.
    pub run_at: DateTime<Utc>,
    /// Attempts it gets before it fails for good (1 to 100).
    pub max_attempts: i32,
}

/// Queues a job in the caller's transaction; false if its unique key was taken.
pub async fn enqueue(conn: &mut Conn, job: NewJob) -> StoreResult<bool> {
    enqueue_with_id(conn, Uuid::now_v7(), job).await
}

/// Queues several jobs in one statement (caller's transaction); those whose
/// unique key is taken are skipped. The number queued.
pub async fn enqueue_all(conn: &mut Conn, batch: Vec<NewJob>) -> StoreResult<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = batch
        .into_iter()
        .map(|job| {
            (
                jobs::id.eq(Uuid::now_v7()),
                jobs::queue.eq(job.queue),
                jobs::kind.eq(job.kind),
                jobs::unique_key.eq(job.unique_key),
                jobs::district_id.eq(job.district_id),
                jobs::street_id.eq(job.street_id),
                jobs::payload.eq(job.payload),
                jobs::run_at.eq(job.run_at),
                jobs::max_attempts.eq(job.max_attempts),
            )
        })
        .collect();
    Ok(diesel::insert_into(jobs::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?)
}

/// [`enqueue`] under a chosen id (to record which job a fire queued).
pub async fn enqueue_with_id(conn: &mut Conn, id: Uuid, job: NewJob) -> StoreResult<bool> {
    let n = diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(id),
            jobs::queue.eq(job.queue),
            jobs::kind.eq(job.kind),
            jobs::unique_key.eq(job.unique_key),
            jobs::district_id.eq(job.district_id),
            jobs::street_id.eq(job.street_id),
            jobs::payload.eq(job.payload),
            jobs::run_at.eq(job.run_at),
            jobs::max_attempts.eq(job.max_attempts),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Moves a waiting job (by unique key) to a new time, e.g. when the deadline
/// it watches moved. Jobs already running or finished are left alone.
pub async fn reschedule(
    conn: &mut Conn,
    unique_key: &str,
    run_at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::update(
        jobs::table
            .filter(jobs::unique_key.eq(unique_key))
            .filter(jobs::state.eq(JobState::Available)),
    )
    .set(jobs::run_at.eq(run_at))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// A job row.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = jobs)]
pub struct Job {
    /// The job's id (UUIDv7).
    pub id: Uuid,
    /// The queue workers claim it from.
    pub queue: String,
    /// The job kind, naming what runs it.
    pub kind: String,
    /// The key that keeps the same logical job from being queued twice, if it has one.
    pub unique_key: Option<String>,
    /// The district it works for; `None` for platform-wide jobs.
    pub district_id: Option<Uuid>,
    /// The street it works for; `None` for district-wide or platform-wide jobs.
    pub street_id: Option<Uuid>,
    /// The kind's arguments as JSON.
    pub payload: serde_json::Value,
    /// Available, running, completed, failed or discarded.
    pub state: JobState,
    /// Attempts started so far (a claim counts one; a snooze gives it back).
    pub attempt: i32,
    /// Attempts it gets before it fails for good (1 to 100).
    pub max_attempts: i32,
    /// When it may run (next).
    pub run_at: DateTime<Utc>,
    /// The lease's fencing token; set exactly while running.
    pub lease_token: Option<Uuid>,
    /// The worker holding (or last holding) it.
    pub leased_by: Option<String>,
    /// When the lease runs out unless heartbeated; set exactly while running.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The last attempt's error, up to 2,000 characters, if one failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When its latest attempt started, if one has.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed for good; `None` otherwise.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due jobs of `queues` for `worker` under a lease of
/// `lease`, oldest due first; commit right after, then run them outside the
/// transaction.
pub async fn claim(
    conn: &mut Conn,
    queues: &[&str],
    limit: i32,
    worker: &str,
    lease: Duration,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Job>> {
    Ok(diesel::sql_query(format!(
        "UPDATE jobs SET state = {running}, lease_token = gen_random_uuid(), leased_by = $3,
                lease_expires_at = $4 + $5 * interval '1 millisecond', attempt = attempt + 1,
                started_at = $4
         WHERE id IN (SELECT id FROM jobs WHERE queue = ANY($1) AND state = {available} AND run_at <= $4
                      ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING *",
        running = names(&[JobState::Running.as_str()]),
        available = names(&[JobState::Available.as_str()]),
    ))
    .bind::<diesel::sql_types::Array<Text>, _>(queues)
    .bind::<Integer, _>(limit)
    .bind::<Text, _>(worker)
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(lease.num_milliseconds())
    .load(conn)
    .await?)
}

/// Extends every lease of `tokens` still held (a worker's claimed jobs not
/// yet finished) to `now + lease`, in one statement; returns how many.
pub async fn heartbeat_all(
    conn: &mut Conn,
    tokens: &[Uuid],
    lease: Duration,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    Ok(diesel::update(
        jobs::table
            .filter(jobs::lease_token.eq_any(tokens))
            .filter(jobs::state.eq(JobState::Running)),
    )
    .set(jobs::lease_expires_at.eq(now + lease))
    .execute(conn)
    .await?)
}

type Fenced = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<jobs::table, diesel::dsl::Eq<jobs::id, Uuid>>,
        diesel::dsl::Eq<jobs::lease_token, Uuid>,
    >,
    diesel::dsl::Eq<jobs::state, JobState>,
>;

/// The job, only while this lease holds it.
fn fenced(id: Uuid, token: Uuid) -> Fenced {
    jobs::table
        .filter(jobs::id.eq(id))
        .filter(jobs::lease_token.eq(token))
        .filter(jobs::state.eq(JobState::Running))
}

/// Marks a job done, in the transaction that applied its effects; false if
/// the lease was lost, in which case the caller must roll back.
pub async fn complete(
    conn: &mut Conn,
    id: Uuid,
    token: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::update(fenced(id, token))
        .set((
            jobs::state.eq(JobState::Completed),
            jobs::lease_token.eq(None::<Uuid>),
            jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            jobs::finished_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Puts a job back to wait until `run_at` without counting an attempt (the
/// thing it watches moved); false if the lease was lost.
pub async fn snooze(
    conn: &mut Conn,
    id: Uuid,
    token: Uuid,
    run_at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::update(fenced(id, token))
        .set((
            jobs::state.eq(JobState::Available),
            jobs::lease_token.eq(None::<Uuid>),
            jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            jobs::attempt.eq(jobs::attempt - 1),
            jobs::run_at.eq(run_at),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Records a failed attempt: back to waiting until `retry_at`, or `failed`
/// for good after the last attempt. Returns the new state (`None`: lease lost).
pub async fn fail(
    conn: &mut Conn,
    id: Uuid,
    token: Uuid,
    error: &str,
    retry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Option<JobState>> {
    let error: String = error.chars().take(2000).collect();
    Ok(diesel::sql_query(format!(
        "UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN {failed} ELSE {available} END,
                run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE $4 END,
                finished_at = CASE WHEN attempt >= max_attempts THEN $5 END,
                lease_token = NULL, lease_expires_at = NULL, last_error = $3
         WHERE id = $1 AND lease_token = $2 AND state = {running}
         RETURNING state",
        failed = names(&[JobState::Failed.as_str()]),
        available = names(&[JobState::Available.as_str()]),
        running = names(&[JobState::Running.as_str()]),
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(token)
    .bind::<Text, _>(error)
    .bind::<Timestamptz, _>(retry_at)
    .bind::<Timestamptz, _>(now)
    .get_result::<StateRow>(conn)
    .await
    .optional()?
    .map(|r| r.state))
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    state: JobState,
}

/// How long a rescued job waits before it runs again: `base` doubling with
/// each attempt up to `cap`, with ±25 % jitter (the worker's retry backoff).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The wait after the first attempt.
    pub base: Duration,
    /// The longest wait, however many attempts.
    pub cap: Duration,
}

/// Returns jobs whose lease expired (their worker died or hung) to the queue
/// after their backoff (the attempt counted), or to `failed` if that was
/// their last attempt. Live workers heartbeat their leases, so only a dead
/// or hung worker's jobs come back here.
pub async fn rescue(
    conn: &mut Conn,
    now: DateTime<Utc>,
    backoff: Backoff,
) -> StoreResult<Vec<Job>> {
    Ok(diesel::sql_query(format!(
        "UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN {failed} ELSE {available} END,
                finished_at = CASE WHEN attempt >= max_attempts THEN $1 END,
                run_at = $1 + LEAST($3, $2 * power(2, LEAST(GREATEST(attempt, 1), 20) - 1))
                              * (0.75 + 0.5 * random()) * interval '1 millisecond',
                lease_token = NULL, lease_expires_at = NULL,
                last_error = 'lease expired (worker stopped or hung)'
         WHERE state = {running} AND lease_expires_at < $1
         RETURNING *",
        failed = names(&[JobState::Failed.as_str()]),
        available = names(&[JobState::Available.as_str()]),
        running = names(&[JobState::Running.as_str()]),
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(backoff.base.num_milliseconds())
    .bind::<diesel::sql_types::BigInt, _>(backoff.cap.num_milliseconds())
    .load(conn)
    .await?)
}

/// Replays a failed or discarded job: waiting again, with fresh attempts.
pub async fn replay(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = diesel::update(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::state.eq_any([JobState::Failed, JobState::Discarded])),
    )
    .set((
        jobs::state.eq(JobState::Available),
        jobs::attempt.eq(0),
        jobs::run_at.eq(now),
        jobs::finished_at.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// One job visible to the caller.
pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Job> {
    Ok(jobs::table
        .filter(jobs::id.eq(id))
        .select(Job::as_select())
        .first(conn)
        .await?)
}

/// Depth and oldest due age (seconds) of each queue's waiting jobs.
#[derive(Debug, Clone, QueryableByName)]
pub struct QueueStats {
    /// The queue.
    #[diesel(sql_type = Text)]
    pub queue: String,
    /// Jobs waiting and due now.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub depth: i64,
    /// Seconds the oldest due job has waited past its `run_at` (0 when none is due).
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub oldest_seconds: f64,
    /// Jobs out of attempts, awaiting a replay.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub failed: i64,
}

/// The stats of every queue with waiting or failed jobs, by queue name.
pub async fn stats(conn: &mut Conn, now: DateTime<Utc>) -> StoreResult<Vec<QueueStats>> {
    Ok(diesel::sql_query(format!(
        "SELECT queue,
                count(*) FILTER (WHERE state = {available} AND run_at <= $1) AS depth,
                coalesce(extract(epoch FROM $1 - min(run_at) FILTER (WHERE state = {available} AND run_at <= $1)), 0)::float8
                    AS oldest_seconds,
                count(*) FILTER (WHERE state = {failed}) AS failed
         FROM jobs WHERE state IN ({available}, {failed}) GROUP BY queue ORDER BY queue",
        available = names(&[JobState::Available.as_str()]),
        failed = names(&[JobState::Failed.as_str()]),
    ))
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?)
}

/// Filters of an admin's job list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this queue.
    pub queue: Option<String>,
}

/// Jobs visible to the caller (a district admin: the district's), newest first.
pub async fn list(
    conn: &mut Conn,
    f: &JobFilter,
    page: &crate::page::PageRequest,
) -> StoreResult<crate::page::Page<Job>> {
    let mut q = jobs::table
        .select(Job::as_select())
        .order(jobs::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(state) = f.state {
        q = q.filter(jobs::state.eq(state));
    }
    if let Some(queue) = &f.queue {
        q = q.filter(jobs::queue.eq(queue.clone()));
    }
    if let Some(after) = page.after {
        q = q.filter(jobs::id.lt(after));
    }
    Ok(crate::page::Page::from_rows(
        q.load(conn).await?,
        page,
        |j| j.id,
    ))
}
