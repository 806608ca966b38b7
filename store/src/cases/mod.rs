//! Cases: filing, the guarded step that moves one through its lifecycle with
//! an append-only event, the SLA clocks each step starts, pauses, extends or
//! stops, and the work lists.

pub mod appointments;
pub mod calendar_years;
pub mod deadlines;
pub mod kpis;
pub mod setup;

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::{Basis, NoWorkingTime, WorkCalendar};
use onegrid_domain::cases::{ClockEffect, State, Status};
use onegrid_domain::catalogue::Milestone;
use onegrid_domain::permissions::Target;
use onegrid_domain::sla::{Budget, REWORK, TierPolicy, schedule};
use uuid::Uuid;

use crate::crypto::{FieldKeys, Slot};
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{
    case_attachments, case_clocks, case_events, case_links, case_ratings, case_reporters,
    case_routes, cases,
};

/// A case row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct Case {
    pub street_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    pub district_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub channel: String,
    pub category_id: Uuid,
    pub tier: String,
    pub title: String,
    pub description: String,
    pub extra: serde_json::Value,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub service_mode: Option<String>,
    pub status: String,
    pub paused: bool,
    pub extension_requested: bool,
    pub park_requested: bool,
    pub escalation_level: i16,
    pub assignee_user_id: Option<Uuid>,
    pub assignee_department_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub rework_cycle: i16,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The reporter's fields, sealed to the case row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReporterField {
    Name,
    Phone,
}

impl ReporterField {
    pub const fn column(self) -> &'static str {
        match self {
            ReporterField::Name => "reporter_name",
            ReporterField::Phone => "reporter_phone",
        }
    }
}

fn reporter_slot(street_id: Uuid, row_id: Uuid, field: ReporterField) -> Slot<'static> {
    Slot {
        street_id,
        table: "cases",
        column: field.column(),
        row_id,
    }
}

impl Case {
    /// The lifecycle's view of the case.
    pub fn state(&self) -> State {
        State {
            status: self.status(),
            paused: self.paused,
            extension_requested: self.extension_requested,
            park_requested: self.park_requested,
        }
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Received)
    }

    /// What permissions are checked against: the case's grid, and the
    /// department it is routed to.
    pub fn target(&self) -> Target {
        Target {
            department: self.assignee_department_id,
            ..Target::grid(
                self.district_id,
                self.street_id,
                self.community_id,
                self.grid_id,
            )
        }
    }
}

/// A case's sealed reporter.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_reporters)]
pub struct Reporter {
    pub street_id: Uuid,
    pub case_id: Uuid,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
}

impl Reporter {
    /// Opens a sealed field. Callers mask it, or audit the reveal.
    pub fn open(
        &self,
        keys: &FieldKeys,
        field: ReporterField,
    ) -> Result<Option<String>, crate::crypto::CryptoError> {
        let sealed = match field {
            ReporterField::Name => &self.name_enc,
            ReporterField::Phone => &self.phone_enc,
        };
        sealed
            .as_deref()
            .map(|s| keys.open(reporter_slot(self.street_id, self.case_id, field), s))
            .transpose()
    }
}

/// The reporter of a case, if one was recorded.
pub async fn reporter_of(conn: &mut Conn, case: &Case) -> StoreResult<Option<Reporter>> {
    Ok(case_reporters::table
        .filter(case_reporters::street_id.eq(case.street_id))
        .filter(case_reporters::case_id.eq(case.id))
        .select(Reporter::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The recorded reporters of several cases.
pub async fn reporters_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<Reporter>> {
    Ok(case_reporters::table
        .filter(case_reporters::case_id.eq_any(case_ids))
        .select(Reporter::as_select())
        .load(conn)
        .await?)
}

/// A rating of one handling cycle.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_ratings)]
pub struct Rating {
    pub case_id: Uuid,
    pub cycle: i16,
    pub score: i16,
    pub comment: Option<String>,
    pub rated_by: Uuid,
    pub rated_by_kind: String,
    pub rated_at: DateTime<Utc>,
}

pub async fn ratings_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<Rating>> {
    Ok(case_ratings::table
        .filter(case_ratings::case_id.eq_any(case_ids))
        .select(Rating::as_select())
        .order((case_ratings::case_id, case_ratings::cycle))
        .load(conn)
        .await?)
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    /// `user`, `api_key` or `system`.
    pub kind: &'static str,
}

/// A case to file.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub street_id: Uuid,
    pub district_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: &'static str,
    pub channel: String,
    pub category_id: Uuid,
    pub tier: String,
    pub title: String,
    pub description: String,
    pub extra: serde_json::Value,
    pub address: Option<String>,
    pub location: Option<(f64, f64)>,
    pub service_mode: Option<String>,
    pub resident_id: Option<Uuid>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// `(subject_type, id)` of residents, households and ledger records.
    pub links: Vec<(&'static str, Uuid)>,
}

/// The clocks a filed case starts with.
#[derive(Debug, Clone)]
pub struct Clocks<'a> {
    pub calendar: &'a WorkCalendar,
    pub policy: TierPolicy,
    /// The category's resolution clock, if it overrides the tier's.
    pub resolution: Option<Budget>,
}

fn calendar_error(e: NoWorkingTime) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Files a case: the row, its first event and its first-response and
/// resolution clocks, in the caller's transaction.
pub async fn file_case(
    conn: &mut Conn,
    keys: &FieldKeys,
    clocks: &Clocks<'_>,
    new: NewCase,
    actor: Actor,
    now: DateTime<Utc>,
) -> StoreResult<Case> {
    let id = Uuid::now_v7();
    let case: Case = diesel::insert_into(cases::table)
        .values((
            cases::street_id.eq(new.street_id),
            cases::id.eq(id),
            cases::district_id.eq(new.district_id),
            cases::community_id.eq(new.community_id),
            cases::grid_id.eq(new.grid_id),
            cases::parent_id.eq(new.parent_id),
            cases::kind.eq(new.kind),
            cases::channel.eq(&new.channel),
            cases::category_id.eq(new.category_id),
            cases::tier.eq(&new.tier),
            cases::title.eq(&new.title),
            cases::description.eq(&new.description),
            cases::extra.eq(&new.extra),
            cases::address.eq(&new.address),
            cases::lon.eq(new.location.map(|l| l.0)),
            cases::lat.eq(new.location.map(|l| l.1)),
            cases::service_mode.eq(&new.service_mode),
            cases::resident_id.eq(new.resident_id),
            cases::created_at.eq(now),
            cases::updated_at.eq(now),
        ))
        .returning(Case::as_returning())
        .get_result(conn)
        .await?;
    if new.reporter_name.is_some() || new.reporter_phone.is_some() {
        let seal = |field, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| keys.seal(reporter_slot(case.street_id, case.id, field), v))
        };
        diesel::insert_into(case_reporters::table)
            .values((
                case_reporters::street_id.eq(case.street_id),
                case_reporters::case_id.eq(case.id),
                case_reporters::name_enc.eq(seal(ReporterField::Name, &new.reporter_name)),
                case_reporters::phone_enc.eq(seal(ReporterField::Phone, &new.reporter_phone)),
            ))
            .execute(conn)
            .await?;
    }
    if !new.links.is_empty() {
        let rows: Vec<_> = new
            .links
            .iter()
            .map(|(kind, subject)| {
                (
                    case_links::street_id.eq(case.street_id),
                    case_links::case_id.eq(case.id),
                    case_links::subject_type.eq(*kind),
                    case_links::subject_id.eq(*subject),
                )
            })
            .collect();
        diesel::insert_into(case_links::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    insert_event(
        conn,
        &case,
        1,
        NewEvent {
            step: "file",
            from: None,
            to: Status::Received,
            actor,
            reason: None,
            data: serde_json::json!({"channel": new.channel}),
            at: now,
        },
    )
    .await?;
    let resolution = clocks.resolution.unwrap_or(clocks.policy.resolution);
    start_clock(
        conn,
        clocks.calendar,
        &case,
        ("response", "首次响应", 0),
        clocks.policy.response,
        now,
    )
    .await?;
    start_clock(
        conn,
        clocks.calendar,
        &case,
        ("resolution", "办结", 0),
        resolution,
        now,
    )
    .await?;
    Ok(case)
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub step: &'static str,
    pub from: Option<Status>,
    pub to: Status,
    pub actor: Actor,
    pub reason: Option<String>,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Appends an event to a case's history, numbered after the last one. Call it
/// after the guarded update of the case row, which serialises writers.
pub async fn append_event(conn: &mut Conn, case: &Case, e: NewEvent) -> StoreResult<()> {
    let seq: i32 = case_events::table
        .filter(case_events::street_id.eq(case.street_id))
        .filter(case_events::case_id.eq(case.id))
        .select(diesel::dsl::max(case_events::seq))
        .first::<Option<i32>>(conn)
        .await?
        .unwrap_or(0)
        + 1;
    insert_event(conn, case, seq, e).await
}

async fn insert_event(conn: &mut Conn, case: &Case, seq: i32, e: NewEvent) -> StoreResult<()> {
    // Integrators hear of it from the same transaction.
    crate::integrations::webhooks::emit_case_event(conn, case, seq, &e).await?;
    diesel::insert_into(case_events::table)
        .values((
            case_events::street_id.eq(case.street_id),
            case_events::id.eq(Uuid::now_v7()),
            case_events::case_id.eq(case.id),
            case_events::seq.eq(seq),
            case_events::step.eq(e.step),
            case_events::from_status.eq(e.from.map(Status::as_str)),
            case_events::to_status.eq(e.to.as_str()),
            case_events::actor_id.eq(e.actor.id),
            case_events::actor_kind.eq(e.actor.kind),
            case_events::reason.eq(e.reason),
            case_events::data.eq(e.data),
            case_events::at.eq(e.at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The tasks a case was decomposed into (or the services of a bundle).
pub async fn children(conn: &mut Conn, case: &Case) -> StoreResult<Vec<Case>> {
    Ok(cases::table
        .filter(cases::street_id.eq(case.street_id))
        .filter(cases::parent_id.eq(case.id))
        .select(Case::as_select())
        .order(cases::id)
        .load(conn)
        .await?)
}

/// How many of a case's tasks are still open (not resolved, closed or rejected).
pub async fn open_children(conn: &mut Conn, case: &Case) -> StoreResult<i64> {
    Ok(cases::table
        .filter(cases::street_id.eq(case.street_id))
        .filter(cases::parent_id.eq(case.id))
        .filter(not(cases::status.eq_any(["resolved", "closed", "rejected"])))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn get_case(conn: &mut Conn, id: Uuid) -> StoreResult<Case> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .select(Case::as_select())
        .first(conn)
        .await?)
}

/// What a step changes on the case row besides its state.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = cases)]
pub struct CaseChanges {
    pub assignee_user_id: Option<Option<Uuid>>,
    pub assignee_department_id: Option<Option<Uuid>>,
    pub escalation_level: Option<i16>,
    pub rework_cycle: Option<i16>,
    pub resolved_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
    pub service_mode: Option<Option<String>>,
}

/// A step to record: the state it leads to, the row's other changes, its
/// event and its clock effects.
#[derive(Debug, Clone)]
pub struct StepWrite<'a> {
    pub after: State,
    pub changes: CaseChanges,
    pub event: NewEvent,
    pub effects: &'a [ClockEffect],
    /// Minutes of an approved extension (for [`ClockEffect::Extend`]).
    pub extension_minutes: i64,
    pub calendar: &'a WorkCalendar,
    /// Milestones to start (for [`ClockEffect::StartMilestones`]).
    pub milestones: &'a [Milestone],
    /// A rating of the cycle being closed: score and comment.
    pub rating: Option<(i16, Option<String>)>,
}

/// A write that records an event without moving the case through its
/// lifecycle (a booking, a milestone reached): the version still moves, so
/// `If-Match` guards it like a step.
pub fn note<'a>(
    case: &Case,
    step: &'static str,
    actor: Actor,
    data: serde_json::Value,
    at: DateTime<Utc>,
    calendar: &'a WorkCalendar,
) -> StepWrite<'a> {
    StepWrite {
        after: case.state(),
        changes: CaseChanges::default(),
        event: NewEvent {
            step,
            from: Some(case.status()),
            to: case.status(),
            actor,
            reason: None,
            data,
            at,
        },
        effects: &[],
        extension_minutes: 0,
        calendar,
        milestones: &[],
        rating: None,
    }
}

/// Applies a step to the case the caller read at `version`: exactly one of
/// several concurrent steps on the same version wins, the others get
/// [`StoreError::VersionMismatch`].
pub async fn record_step(
    conn: &mut Conn,
    case: &Case,
    version: i32,
    step: StepWrite<'_>,
) -> StoreResult<Case> {
    let at = step.event.at;
    let updated: Option<Case> = diesel::update(
        cases::table
            .filter(cases::street_id.eq(case.street_id))
            .filter(cases::id.eq(case.id))
            .filter(cases::version.eq(version)),
    )
    .set((
        step.changes.clone(),
        cases::status.eq(step.after.status.as_str()),
        cases::paused.eq(step.after.paused),
        cases::extension_requested.eq(step.after.extension_requested),
        cases::park_requested.eq(step.after.park_requested),
        cases::version.eq(cases::version + 1),
        cases::updated_at.eq(at),
    ))
    .returning(Case::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(updated) = updated else {
        let current: i32 = cases::table
            .filter(cases::id.eq(case.id))
            .select(cases::version)
            .first(conn)
            .await?;
        return Err(StoreError::VersionMismatch { current });
    };
    if let Some(Some(department)) = step.changes.assignee_department_id {
        diesel::insert_into(case_routes::table)
            .values((
                case_routes::street_id.eq(case.street_id),
                case_routes::case_id.eq(case.id),
                case_routes::department_id.eq(department),
                case_routes::routed_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    if let Some((score, comment)) = &step.rating {
        diesel::insert_into(case_ratings::table)
            .values((
                case_ratings::street_id.eq(case.street_id),
                case_ratings::case_id.eq(case.id),
                case_ratings::cycle.eq(case.rework_cycle),
                case_ratings::score.eq(*score),
                case_ratings::comment.eq(comment),
                case_ratings::rated_by.eq(step.event.actor.id),
                case_ratings::rated_by_kind.eq(step.event.actor.kind),
                case_ratings::rated_at.eq(at),
            ))
            .execute(conn)
            .await?;
    }
    append_event(conn, &updated, step.event.clone()).await?;
    for effect in step.effects {
        apply_effect(conn, &updated, *effect, &step, at).await?;
    }
    Ok(updated)
}

async fn apply_effect(
    conn: &mut Conn,
    case: &Case,
    effect: ClockEffect,
    step: &StepWrite<'_>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let cal = step.calendar;
    match effect {
        ClockEffect::StopResponse => stop_clocks(conn, case, Some("response"), at)
            .await
            .map(drop),
        ClockEffect::StopAll => stop_clocks(conn, case, None, at).await.map(drop),
        ClockEffect::PauseAll => {
            diesel::update(running(case).filter(case_clocks::paused_at.is_null()))
                .set(case_clocks::paused_at.eq(at))
                .execute(conn)
                .await?;
            Ok(())
        }
        ClockEffect::ResumeAll => {
            let paused: Vec<CaseClock> = running(case)
                .filter(case_clocks::paused_at.is_not_null())
                .select(CaseClock::as_select())
                .load(conn)
                .await?;
            for c in paused {
                let since = c.paused_at.unwrap_or(at);
                let more = cal.elapsed(c.basis(), since, at);
                reschedule(
                    conn,
                    cal,
                    &c,
                    c.paused_minutes + minutes_i32(more),
                    c.extended_minutes,
                )
                .await?;
            }
            Ok(())
        }
        ClockEffect::Extend => {
            let target: Option<CaseClock> = running(case)
                .filter(case_clocks::kind.eq_any(["resolution", "rework"]))
                .select(CaseClock::as_select())
                .order(case_clocks::started_at.desc())
                .first(conn)
                .await
                .optional()?;
            if let Some(c) = target {
                let extended = c.extended_minutes + minutes_i32(step.extension_minutes);
                reschedule(conn, cal, &c, c.paused_minutes, extended).await?;
            }
            Ok(())
        }
        ClockEffect::StartMilestones => {
            for m in step.milestones {
                start_clock(conn, cal, case, ("milestone", &m.name, 0), m.budget(), at).await?;
            }
            Ok(())
        }
        ClockEffect::StartRework => {
            let cycle = case.rework_cycle;
            start_clock(conn, cal, case, ("rework", "返工", cycle), REWORK, at).await
        }
    }
}

fn minutes_i32(minutes: i64) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

type RunningClocks = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<case_clocks::table, diesel::dsl::Eq<case_clocks::street_id, Uuid>>,
        diesel::dsl::Eq<case_clocks::case_id, Uuid>,
    >,
    diesel::dsl::IsNull<case_clocks::stopped_at>,
>;

fn running(case: &Case) -> RunningClocks {
    case_clocks::table
        .filter(case_clocks::street_id.eq(case.street_id))
        .filter(case_clocks::case_id.eq(case.id))
        .filter(case_clocks::stopped_at.is_null())
}

/// Stops running clocks (all, or those of `kind`), recording whether each met
/// its deadline. A paused clock is judged against its deadline as if resumed now.
async fn stop_clocks(
    conn: &mut Conn,
    case: &Case,
    kind: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    stop_matching(conn, case, kind, None, at).await
}

/// Completes one staged milestone: its clock stops, met or breached.
/// Returns false if no such milestone clock is running.
pub async fn complete_milestone(
    conn: &mut Conn,
    case: &Case,
    name: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(stop_matching(conn, case, Some("milestone"), Some(name), at).await? > 0)
}

async fn stop_matching(
    conn: &mut Conn,
    case: &Case,
    kind: Option<&str>,
    name: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    let mut q = running(case).select(CaseClock::as_select()).into_boxed();
    if let Some(kind) = kind {
        q = q.filter(case_clocks::kind.eq(kind));
    }
    if let Some(name) = name {
        q = q.filter(case_clocks::name.eq(name));
    }
    let clocks: Vec<CaseClock> = q.load(conn).await?;
    let stopped = clocks.len();
    for c in clocks {
        let outcome = if at <= c.due_at || c.paused_at.is_some_and(|p| p <= c.due_at) {
            "met"
        } else {
            "breached"
        };
        diesel::update(case_clocks::table.find((c.street_id, c.id)))
            .set((
                case_clocks::stopped_at.eq(at),
                case_clocks::outcome.eq(outcome),
                case_clocks::paused_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
    }
    Ok(stopped)
}

async fn start_clock(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    case: &Case,
    (kind, name, cycle): (&str, &str, i16),
    budget: Budget,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let s = schedule(calendar, budget, at, 0, 0).map_err(calendar_error)?;
    let id = Uuid::now_v7();
    let inserted = diesel::insert_into(case_clocks::table)
        .values((
            case_clocks::street_id.eq(case.street_id),
            case_clocks::id.eq(id),
            case_clocks::case_id.eq(case.id),
            case_clocks::kind.eq(kind),
            case_clocks::name.eq(name),
            case_clocks::cycle.eq(cycle),
            case_clocks::basis.eq(budget.basis.as_str()),
            case_clocks::budget_minutes.eq(minutes_i32(budget.minutes)),
            case_clocks::started_at.eq(at),
            case_clocks::warn_50_at.eq(s.warn_50_at),
            case_clocks::warn_75_at.eq(s.warn_75_at),
            case_clocks::due_at.eq(s.due_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        // The clock's three deadlines, in one statement.
        let batch = stages(&s)
            .into_iter()
            .map(|(stage, run_at)| crate::integrations::jobs::NewJob {
                queue: SLA_QUEUE,
                kind: "sla.deadline",
                unique_key: Some(sla_job_key(id, stage)),
                district_id: Some(case.district_id),
                street_id: Some(case.street_id),
                payload: serde_json::json!({"clock_id": id, "case_id": case.id, "stage": stage}),
                run_at,
                max_attempts: 10,
            })
            .collect();
        crate::integrations::jobs::enqueue_all(conn, batch).await?;
    }
    Ok(())
}

/// The queue of clock deadlines.
pub const SLA_QUEUE: &str = "sla";

/// The job key of one stage of one clock: each fires once.
pub fn sla_job_key(clock_id: Uuid, stage: &str) -> String {
    format!("sla:{clock_id}:{stage}")
}

/// The stages of a clock's schedule and their instants.
fn stages(s: &onegrid_domain::sla::Schedule) -> [(&'static str, DateTime<Utc>); 3] {
    [
        ("warn_50", s.warn_50_at),
        ("warn_75", s.warn_75_at),
        ("due", s.due_at),
    ]
}

async fn reschedule(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    c: &CaseClock,
    paused_minutes: i32,
    extended_minutes: i32,
) -> StoreResult<()> {
    let budget = Budget::new(c.basis(), i64::from(c.budget_minutes));
    let s = schedule(
        calendar,
        budget,
        c.started_at,
        i64::from(paused_minutes),
        i64::from(extended_minutes),
    )
    .map_err(calendar_error)?;
    diesel::update(case_clocks::table.find((c.street_id, c.id)))
        .set((
            case_clocks::paused_at.eq(None::<DateTime<Utc>>),
            case_clocks::paused_minutes.eq(paused_minutes),
            case_clocks::extended_minutes.eq(extended_minutes),
            case_clocks::warn_50_at.eq(s.warn_50_at),
            case_clocks::warn_75_at.eq(s.warn_75_at),
            case_clocks::due_at.eq(s.due_at),
        ))
        .execute(conn)
        .await?;
    // The deadline jobs follow (those already fired stay fired).
    for (stage, run_at) in stages(&s) {
        crate::integrations::jobs::reschedule(conn, &sla_job_key(c.id, stage), run_at).await?;
    }
    Ok(())
}

/// A clock of a case.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_clocks)]
pub struct CaseClock {
    pub street_id: Uuid,
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub name: String,
    pub cycle: i16,
    pub basis: String,
    pub budget_minutes: i32,
    pub started_at: DateTime<Utc>,
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_minutes: i32,
    pub extended_minutes: i32,
    pub warn_50_at: DateTime<Utc>,
    pub warn_75_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

impl CaseClock {
    pub fn basis(&self) -> Basis {
        Basis::parse(&self.basis).unwrap_or(Basis::Calendar)
    }
}

pub async fn clocks_of(conn: &mut Conn, case_ids: &[Uuid]) -> StoreResult<Vec<CaseClock>> {
    Ok(case_clocks::table
        .filter(case_clocks::case_id.eq_any(case_ids))
        .select(CaseClock::as_select())
        .order((
            case_clocks::case_id,
            case_clocks::started_at,
            case_clocks::id,
        ))
        .load(conn)
        .await?)
}

/// An event of a case's history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_events)]
pub struct CaseEvent {
    pub seq: i32,
    pub step: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Uuid,
    pub actor_kind: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

pub async fn events_of(conn: &mut Conn, case_id: Uuid) -> StoreResult<Vec<CaseEvent>> {
    Ok(case_events::table
        .filter(case_events::case_id.eq(case_id))
        .select(CaseEvent::as_select())
        .order(case_events::seq)
        .load(conn)
        .await?)
}

/// `(case, subject type, subject)` of every link of several cases.
pub async fn links_of(
    conn: &mut Conn,
    case_ids: &[Uuid],
) -> StoreResult<Vec<(Uuid, String, Uuid)>> {
    Ok(case_links::table
        .filter(case_links::case_id.eq_any(case_ids))
        .select((
            case_links::case_id,
            case_links::subject_type,
            case_links::subject_id,
        ))
        .order((case_links::subject_type, case_links::subject_id))
        .load(conn)
        .await?)
}

/// Where a caller may read cases: any of these streets, communities, grids
/// or departments (the tenant wall applies on top).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub streets: Vec<Uuid>,
    pub communities: Vec<Uuid>,
    pub grids: Vec<Uuid>,
    pub departments: Vec<Uuid>,
}

/// Filters of a work list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// The caller's reach; `None` for district-wide readers.
    pub reach: Option<Reach>,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub assignee_user_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub statuses: Vec<String>,
    pub channel: Option<String>,
    pub category_id: Option<Uuid>,
    /// A running, unpaused clock is past due.
    pub overdue: Option<bool>,
    /// A running, unpaused clock is past its 75 % warning but not yet due.
    pub due_soon: bool,
}

fn filtered(f: &CaseFilter, now: DateTime<Utc>) -> cases::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = cases::table.into_boxed();
    if let Some(s) = f.street_id {
        q = q.filter(cases::street_id.eq(s));
    }
    if let Some(c) = f.community_id {
        q = q.filter(cases::community_id.eq(c));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(cases::grid_id.eq(g));
    }
    if let Some(r) = &f.reach {
        q = q.filter(
            cases::street_id
                .eq_any(r.streets.clone())
                .or(cases::community_id.eq_any(r.communities.clone()))
                .or(cases::grid_id.eq_any(r.grids.clone()))
                .or(cases::assignee_department_id.eq_any(r.departments.clone())),
        );
    }
    if let Some(u) = f.assignee_user_id {
        q = q.filter(cases::assignee_user_id.eq(u));
    }
    if let Some(d) = f.department_id {
        q = q.filter(cases::assignee_department_id.eq(d));
    }
    if !f.statuses.is_empty() {
        q = q.filter(cases::status.eq_any(f.statuses.clone()));
    }
    if let Some(c) = &f.channel {
        q = q.filter(cases::channel.eq(c.clone()));
    }
    if let Some(c) = f.category_id {
        q = q.filter(cases::category_id.eq(c));
    }
    let live = || {
        case_clocks::table
            .filter(case_clocks::street_id.eq(cases::street_id))
            .filter(case_clocks::case_id.eq(cases::id))
            .filter(case_clocks::stopped_at.is_null())
            .filter(case_clocks::paused_at.is_null())
    };
    match f.overdue {
        Some(true) => q = q.filter(exists(live().filter(case_clocks::due_at.le(now)))),
        Some(false) => q = q.filter(not(exists(live().filter(case_clocks::due_at.le(now))))),
        None => {}
    }
    if f.due_soon {
        q = q.filter(exists(
            live()
                .filter(case_clocks::warn_75_at.le(now))
                .filter(case_clocks::due_at.gt(now)),
        ));
    }
    q
}

/// A page of cases, newest first.
pub async fn list_cases(
    conn: &mut Conn,
    filter: &CaseFilter,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> StoreResult<Page<Case>> {
    let mut q = filtered(filter, now)
        .select(Case::as_select())
        .order(cases::id.desc())
        .limit(page.fetch_limit());
    if let Some(after) = page.after {
        q = q.filter(cases::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |c| c.id))
}

/// How many cases match.
pub async fn count_cases(
    conn: &mut Conn,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(filtered(filter, now).count().get_result(conn).await?)
}

/// An attachment's record (the bytes live in the blob store).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_attachments)]
pub struct Attachment {
    pub street_id: Uuid,
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: Vec<u8>,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

impl Attachment {
    /// The blob key: street, case and attachment ids.
    pub fn blob_key(&self) -> String {
        blob_key(self.street_id, self.case_id, self.id)
    }
}

/// The blob key of an attachment.
pub fn blob_key(street_id: Uuid, case_id: Uuid, id: Uuid) -> String {
    format!("{street_id}/{case_id}/{id}")
}

/// Records an attachment whose bytes are already stored under [`blob_key`].
pub async fn add_attachment(conn: &mut Conn, a: &Attachment) -> StoreResult<()> {
    diesel::insert_into(case_attachments::table)
        .values((
            case_attachments::street_id.eq(a.street_id),
            case_attachments::id.eq(a.id),
            case_attachments::case_id.eq(a.case_id),
            case_attachments::file_name.eq(&a.file_name),
            case_attachments::content_type.eq(&a.content_type),
            case_attachments::size_bytes.eq(a.size_bytes),
            case_attachments::sha256.eq(&a.sha256),
            case_attachments::uploaded_by.eq(a.uploaded_by),
            case_attachments::uploaded_at.eq(a.uploaded_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn attachments_of(conn: &mut Conn, case: &Case) -> StoreResult<Vec<Attachment>> {
    Ok(case_attachments::table
        .filter(case_attachments::street_id.eq(case.street_id))
        .filter(case_attachments::case_id.eq(case.id))
        .select(Attachment::as_select())
        .order(case_attachments::id)
        .load(conn)
        .await?)
}

pub async fn get_attachment(conn: &mut Conn, case: &Case, id: Uuid) -> StoreResult<Attachment> {
    Ok(case_attachments::table
        .filter(case_attachments::street_id.eq(case.street_id))
        .filter(case_attachments::case_id.eq(case.id))
        .filter(case_attachments::id.eq(id))
        .select(Attachment::as_select())
        .first(conn)
        .await?)
}
