//! Recurring work: schedules any worker may fire (there is no leader). A
//! worker locks a due schedule (`FOR UPDATE SKIP LOCKED`), records the fire
//! (whose primary key lets each fire instant happen once), queues the fire's
//! job under a unique key and moves `next_run_at` on, all in one
//! transaction; a worker killed half way leaves nothing behind.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::WorkCalendar;
use onegrid_domain::recurrence::{Days, FireOutcome, HolidayPolicy, Misfire, Recurrence};
use uuid::Uuid;

use crate::cases::setup;
use crate::db::Conn;
use crate::error::{StoreError, StoreResult, Violation};
use crate::integrations::job_kinds::{
    CalendarCheck, JobKind, MissingPatrols, RECURRING_QUEUE, SCHEDULED, StaleDigest,
};
use crate::integrations::jobs::{self, NewJob};
use crate::page::{Page, PageRequest};
use crate::schema::{schedule_fires, schedules};
use crate::scope::Acting;

/// A schedule row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schedules)]
pub struct Schedule {
    /// The schedule's id (UUIDv7).
    pub id: Uuid,
    /// The district it works for.
    pub district_id: Uuid,
    /// The street it works for; `None`: the whole district.
    pub street_id: Option<Uuid>,
    /// The community it works for (a needs meeting's); only with `street_id`.
    pub community_id: Option<Uuid>,
    /// The logical duty, unique in the district, e.g. `ledger.stale_digest` or
    /// `needs_meeting:<community>`.
    pub key: String,
    /// The job kind each fire queues (one of [`SCHEDULED`]).
    pub kind: String,
    /// A name for people, 1 to 100 characters.
    pub name: String,
    /// The rule, a [`Recurrence`] as JSON (read with [`Schedule::recurrence`]).
    pub rule: serde_json::Value,
    /// What a worker does with fires it missed: `run_once` or `skip`.
    pub misfire: String,
    /// Extra payload of each fire's job (`{}` when none).
    pub payload: serde_json::Value,
    /// Whether it fires; a rule that can no longer be planned disables it.
    pub enabled: bool,
    /// The next instant it fires for; `None`: not yet planned (the next pass plans it).
    pub next_run_at: Option<DateTime<Utc>>,
    /// The instant its last fire was for, if it has fired.
    pub last_fire_for: Option<DateTime<Utc>>,
    /// When it last fired, if it has.
    pub last_fired_at: Option<DateTime<Utc>>,
    /// Fires that ran (on time or late).
    pub fires: i64,
    /// Fires missed: run late or skipped.
    pub misfires: i64,
    /// Optimistic-locking version, bumped by every change.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Fire this long before the instant the rule names (the job is for that instant).
    pub lead_minutes: i32,
}

impl Schedule {
    /// The rule; a stored rule that no longer parses is a [`StoreError::Check`].
    pub fn recurrence(&self) -> StoreResult<Recurrence> {
        serde_json::from_value(self.rule.clone())
            .map_err(|e| StoreError::Check(format!("schedule {} has a bad rule: {e}", self.id)))
    }
}

/// A fire of a schedule.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schedule_fires)]
pub struct Fire {
    /// The fire's id (UUIDv7).
    pub id: Uuid,
    /// The schedule that fired.
    pub schedule_id: Uuid,
    /// The instant fired for (once per schedule and instant).
    pub fire_for: DateTime<Utc>,
    /// When the worker fired it.
    pub fired_at: DateTime<Utc>,
    /// How the instant was acted on.
    pub outcome: FireOutcome,
    /// The job it queued; `None` when skipped (or the job was queued already).
    pub job_id: Option<Uuid>,
}

/// A schedule to create.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    /// The district it works for.
    pub district_id: Uuid,
    /// The street it works for; `None`: the whole district.
    pub street_id: Option<Uuid>,
    /// The community it works for; only with `street_id`.
    pub community_id: Option<Uuid>,
    /// The logical duty, unique in the district.
    pub key: String,
    /// The job kind each fire queues (one of [`SCHEDULED`]).
    pub kind: &'static str,
    /// A name for people.
    pub name: String,
    /// The rule.
    pub rule: Recurrence,
    /// What to do with missed fires.
    pub misfire: Misfire,
    /// Extra payload of each fire's job.
    pub payload: serde_json::Value,
    /// The first fire; `None` lets the next worker pass plan it from the rule.
    pub first_due: Option<DateTime<Utc>>,
    /// Fire this long ahead of each instant.
    pub lead_minutes: i32,
}

/// The stored name of a misfire policy.
pub fn misfire_name(m: Misfire) -> &'static str {
    match m {
        Misfire::RunOnce => "run_once",
        Misfire::Skip => "skip",
    }
}

/// The policy a stored name names; `None` for anything else.
pub fn parse_misfire(s: &str) -> Option<Misfire> {
    match s {
        "run_once" => Some(Misfire::RunOnce),
        "skip" => Some(Misfire::Skip),
        _ => None,
    }
}

/// Creates a schedule unless one with its key exists in the district; true if created.
pub async fn ensure(conn: &mut Conn, s: NewSchedule) -> StoreResult<bool> {
    let rule = serde_json::to_value(&s.rule).map_err(|e| StoreError::Check(e.to_string()))?;
    let n = diesel::insert_into(schedules::table)
        .values((
            schedules::id.eq(Uuid::now_v7()),
            schedules::district_id.eq(s.district_id),
            schedules::street_id.eq(s.street_id),
            schedules::community_id.eq(s.community_id),
            schedules::key.eq(s.key),
            schedules::kind.eq(s.kind),
            schedules::name.eq(s.name),
            schedules::rule.eq(rule),
            schedules::misfire.eq(misfire_name(s.misfire)),
            schedules::payload.eq(s.payload),
            schedules::next_run_at.eq(s.first_due),
            schedules::lead_minutes.eq(s.lead_minutes),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The stale-ledger digest every district gets: working days at 08:30 China
/// time; a worker that was down sends the missed digest once.
pub fn stale_digest(district_id: Uuid) -> NewSchedule {
    NewSchedule {
        district_id,
        street_id: None,
        community_id: None,
        key: StaleDigest::NAME.into(),
        kind: StaleDigest::NAME,
        name: "台账核验提醒（每日汇总）".into(),
        rule: Recurrence {
            days: Days::WorkingDays,
            hour: 8,
            minute: 30,
            holidays: HolidayPolicy::Skip,
        },
        misfire: Misfire::RunOnce,
        payload: serde_json::json!({}),
        first_due: None,
        lead_minutes: 0,
    }
}

/// The missing-patrol-log flag every district gets: working days at 20:00
/// China time (change the hour with `PATCH /schedules/{id}`).
pub fn missing_patrols(district_id: Uuid) -> NewSchedule {
    NewSchedule {
        district_id,
        street_id: None,
        community_id: None,
        key: MissingPatrols::NAME.into(),
        kind: MissingPatrols::NAME,
        name: "网格日巡记录缺失提醒".into(),
        rule: Recurrence {
            days: Days::WorkingDays,
            hour: 20,
            minute: 0,
            holidays: HolidayPolicy::Skip,
        },
        misfire: Misfire::RunOnce,
        payload: serde_json::json!({}),
        first_due: None,
        lead_minutes: 0,
    }
}

/// The calendar check every district gets: every day at 09:00 China time;
/// from 1 December it tells the district admins once if next year is missing.
pub fn calendar_check(district_id: Uuid) -> NewSchedule {
    NewSchedule {
        district_id,
        street_id: None,
        community_id: None,
        key: CalendarCheck::NAME.into(),
        kind: CalendarCheck::NAME,
        name: "次年工作日历导入检查".into(),
        rule: Recurrence {
            days: Days::Daily,
            hour: 9,
            minute: 0,
            holidays: HolidayPolicy::Run,
        },
        misfire: Misfire::RunOnce,
        payload: serde_json::json!({}),
        first_due: None,
        lead_minutes: 0,
    }
}

/// Queues one job per street of `district` for the China date `day`, its
/// payload made by `share` (worker session); a street already queued for
/// the day is not queued again. The number queued.
pub async fn per_street<K: JobKind>(
    conn: &mut Conn,
    district: Uuid,
    day: chrono::NaiveDate,
    now: DateTime<Utc>,
    share: fn(chrono::NaiveDate) -> K,
) -> StoreResult<usize> {
    use crate::schema::streets;
    crate::scope::enter(conn, now, Acting::WholeDistrict(district)).await?;
    let ids: Vec<Uuid> = streets::table
        .filter(streets::district_id.eq(district))
        .select(streets::id)
        .order(streets::id)
        .load(conn)
        .await?;
    let mut queued = 0;
    for street in ids {
        let fresh = jobs::enqueue(
            conn,
            NewJob::of(&share(day), now)?
                .unique(format!("{}:{street}:{day}", K::NAME))
                .for_tenant(district, Some(street)),
        )
        .await?;
        queued += usize::from(fresh);
    }
    Ok(queued)
}

/// Gives every district its built-in schedules (worker session); the number created.
pub async fn ensure_builtin(conn: &mut Conn) -> StoreResult<usize> {
    use crate::schema::districts;
    let ids: Vec<Uuid> = districts::table.select(districts::id).load(conn).await?;
    let mut created = 0;
    for id in ids {
        created += usize::from(ensure(conn, stale_digest(id)).await?);
        created += usize::from(ensure(conn, missing_patrols(id)).await?);
        created += usize::from(ensure(conn, calendar_check(id)).await?);
    }
    Ok(created)
}

/// What a pass did with a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Acted on a fire instant.
    Fired(FireOutcome),
    /// Only planned its first instant.
    Planned,
    /// Disabled: its rule no longer parses.
    Disabled,
}

/// What a pass did with one due schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its key.
    pub key: String,
    /// The fire instant acted on (`None`: the schedule was only planned).
    pub fire_for: Option<DateTime<Utc>>,
    /// What the pass did with the schedule.
    pub handled: Handled,
    /// The instant it fires for next; `None` once disabled.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Fires up to `limit` due schedules at `now` (a worker's transaction): each
/// due fire is recorded once and queues its job; fires more than
/// `grace_secs` late follow the schedule's misfire policy.
pub async fn fire_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: i64,
    grace_secs: i64,
) -> StoreResult<Vec<Fired>> {
    let due: Vec<Schedule> = schedules::table
        .filter(schedules::enabled)
        .filter(
            schedules::next_run_at
                .is_null()
                .or(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "next_run_at - lead_minutes * interval '1 minute' <= ",
                )
                .bind::<diesel::sql_types::Timestamptz, _>(now)),
        )
        .order(schedules::next_run_at.asc().nulls_first())
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Schedule::as_select())
        .load(conn)
        .await?;
    let mut calendars: HashMap<Uuid, WorkCalendar> = HashMap::new();
    let mut fired = Vec::with_capacity(due.len());
    for s in due {
        let cal = match calendars.entry(s.district_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                // The calendar is district-scoped: read it inside the district.
                crate::scope::enter(conn, now, Acting::District(s.district_id)).await?;
                e.insert(setup::calendar(conn, s.district_id).await?)
            }
        };
        fired.push(fire_one(conn, &s, cal, now, grace_secs).await?);
    }
    Ok(fired)
}

async fn fire_one(
    conn: &mut Conn,
    s: &Schedule,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
    grace_secs: i64,
) -> StoreResult<Fired> {
    // A schedule with a lead acts on each instant that long before it: it
    // plans as if it were that much later.
    let planning = now + chrono::Duration::minutes(i64::from(s.lead_minutes));
    let planned = s
        .recurrence()
        .ok()
        .zip(parse_misfire(&s.misfire))
        .map(|(rule, misfire)| match s.next_run_at {
            None => rule.next_after(cal, planning).map(|next| (None, next)),
            Some(due) => rule.plan(cal, due, planning, misfire, grace_secs),
        });
    let Some(Ok((fire, next))) = planned else {
        // A rule that no longer parses or never fires again: stop it, visibly.
        tracing::error!(schedule = %s.id, key = %s.key, "schedule cannot be planned; disabled");
        diesel::update(schedules::table.find(s.id))
            .set((schedules::enabled.eq(false), schedules::updated_at.eq(now)))
            .execute(conn)
            .await?;
        return Ok(Fired {
            schedule_id: s.id,
            key: s.key.clone(),
            fire_for: None,
            handled: Handled::Disabled,
            next_run_at: None,
        });
    };
    let Some(due) = s.next_run_at else {
        diesel::update(schedules::table.find(s.id))
            .set(schedules::next_run_at.eq(next))
            .execute(conn)
            .await?;
        return Ok(Fired {
            schedule_id: s.id,
            key: s.key.clone(),
            fire_for: None,
            handled: Handled::Planned,
            next_run_at: Some(next),
        });
    };
    let late = (planning - due).num_seconds() > grace_secs;
    let (fire_for, outcome) = match fire {
        Some(at) => (
            at,
            if late {
                FireOutcome::Late
            } else {
                FireOutcome::OnTime
            },
        ),
        None => (due, FireOutcome::Skipped),
    };
    let job_id = if fire.is_some() {
        let id = Uuid::now_v7();
        let mut payload = s.payload.clone();
        if let Some(obj) = payload.as_object_mut() {
            obj.insert("schedule_id".into(), serde_json::json!(s.id));
            obj.insert("fire_for".into(), serde_json::json!(fire_for));
            if let Some(c) = s.community_id {
                obj.insert("community_id".into(), serde_json::json!(c));
            }
        }
        jobs::enqueue_with_id(
            conn,
            id,
            NewJob {
                queue: RECURRING_QUEUE,
                kind: scheduled_kind(&s.kind)?,
                unique_key: Some(format!("schedule:{}:{}", s.id, fire_for.timestamp())),
                district_id: Some(s.district_id),
                street_id: s.street_id,
                payload,
                run_at: now,
                max_attempts: 10,
            },
        )
        .await?
        .then_some(id)
    } else {
        None
    };
    // The guard: the same fire instant is recorded once, and with it its job.
    let recorded = diesel::insert_into(schedule_fires::table)
        .values((
            schedule_fires::id.eq(Uuid::now_v7()),
            schedule_fires::schedule_id.eq(s.id),
            schedule_fires::fire_for.eq(fire_for),
            schedule_fires::fired_at.eq(now),
            schedule_fires::outcome.eq(outcome),
            schedule_fires::job_id.eq(job_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if recorded == 0 {
        return Err(StoreError::Violation(Violation::unique(
            "schedule_fires_pkey",
        )));
    }
    let (fires, misfires) = (i64::from(outcome.ran()), i64::from(outcome.misfired()));
    diesel::update(
        schedules::table
            .find(s.id)
            .filter(schedules::next_run_at.eq(due)),
    )
    .set((
        schedules::next_run_at.eq(next),
        schedules::last_fire_for.eq(fire_for),
        schedules::last_fired_at.eq(now),
        schedules::fires.eq(schedules::fires + fires),
        schedules::misfires.eq(schedules::misfires + misfires),
    ))
    .execute(conn)
    .await?;
    Ok(Fired {
        schedule_id: s.id,
        key: s.key.clone(),
        fire_for: Some(fire_for),
        handled: Handled::Fired(outcome),
        next_run_at: Some(next),
    })
}

/// The job kinds a schedule may queue (jobs name their kind statically).
/// The job kind a schedule row names, if schedules may fire it.
fn scheduled_kind(kind: &str) -> StoreResult<&'static str> {
    SCHEDULED
        .into_iter()
        .find(|k| *k == kind)
        .ok_or_else(|| StoreError::Check(format!("no job kind {kind}")))
}

/// A schedule by its key in the district.
pub async fn by_key(conn: &mut Conn, district: Uuid, key: &str) -> StoreResult<Option<Schedule>> {
    Ok(schedules::table
        .filter(schedules::district_id.eq(district))
        .filter(schedules::key.eq(key))
        .select(Schedule::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The district's schedules (caller's scope), by key.
pub async fn list(conn: &mut Conn, page: &PageRequest) -> StoreResult<Page<Schedule>> {
    let mut q = schedules::table
        .select(Schedule::as_select())
        .order(schedules::id)
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(schedules::id.gt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |s| s.id))
}

/// One schedule visible to the caller.
pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Schedule> {
    Ok(schedules::table
        .find(id)
        .select(Schedule::as_select())
        .first(conn)
        .await?)
}

/// What an admin may change on a schedule.
#[derive(Debug, Clone, Default)]
pub struct ScheduleChange {
    /// A new name.
    pub name: Option<String>,
    /// A new rule (the next fire is planned again).
    pub rule: Option<Recurrence>,
    /// A new misfire policy.
    pub misfire: Option<Misfire>,
    /// Disables (`false`) or re-enables (`true`) it.
    pub enabled: Option<bool>,
    /// A new lead, in minutes (0 to 43,200).
    pub lead_minutes: Option<i32>,
}

/// Applies `change` if the schedule is still at `version`; the next fire is
/// planned again from the (new) rule at `now`. `None`: the version moved.
pub async fn change(
    conn: &mut Conn,
    current: &Schedule,
    version: i32,
    change: ScheduleChange,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
) -> StoreResult<Option<Schedule>> {
    let rule = match change.rule {
        Some(r) => r,
        None => current.recurrence()?,
    };
    let enabled = change.enabled.unwrap_or(current.enabled);
    let next = rule
        .next_after(cal, now)
        .map_err(|e| StoreError::Check(e.to_string()))?;
    let rule_json = serde_json::to_value(&rule).map_err(|e| StoreError::Check(e.to_string()))?;
    Ok(diesel::update(
        schedules::table
            .find(current.id)
            .filter(schedules::version.eq(version)),
    )
    .set((
        schedules::name.eq(change.name.unwrap_or_else(|| current.name.clone())),
        schedules::rule.eq(rule_json),
        schedules::misfire.eq(change
            .misfire
            .map_or_else(|| current.misfire.clone(), |m| misfire_name(m).to_owned())),
        schedules::enabled.eq(enabled),
        schedules::lead_minutes.eq(change.lead_minutes.unwrap_or(current.lead_minutes)),
        schedules::next_run_at.eq(next),
        schedules::version.eq(schedules::version + 1),
        schedules::updated_at.eq(now),
    ))
    .returning(Schedule::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// A schedule's fires, newest first.
pub async fn fires(
    conn: &mut Conn,
    schedule_id: Uuid,
    page: &PageRequest,
) -> StoreResult<Page<Fire>> {
    let mut q = schedule_fires::table
        .filter(schedule_fires::schedule_id.eq(schedule_id))
        .select(Fire::as_select())
        .order(schedule_fires::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(schedule_fires::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |f| f.id))
}
