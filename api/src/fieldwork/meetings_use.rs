//! The use cases of the needs meeting (居民问需会): a community's schedule
//! planned on the district's calendar, a decision filed as a service item,
//! a meeting closed with its minutes and attendance. They know no HTTP.

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use onegrid_domain::channels::Channel;
use onegrid_domain::meetings::MeetingStatus;
use onegrid_domain::recurrence::{Misfire, Recurrence};
use onegrid_domain::text::Text;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::fieldwork::meetings::{self, Meeting};
use onegrid_store::integrations::job_kinds::{JobKind, PrepareMeeting};
use onegrid_store::integrations::schedules::{self, NewSchedule, Schedule, ScheduleChange};
use onegrid_store::registry::hierarchy::{self, Community};
use onegrid_store::{Conn, Principal, StoreError, cases::setup, fieldwork::patrols};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cases::service::{self, Filing};
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// Who attended, as the meeting's record gives them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeBody {
    /// member_unit (联合党委 member unit), department, volunteer, resident_rep or staff.
    pub kind: AttendeeKind,
    pub name: Text<100>,
    /// For a member unit: its entry in the community's registry.
    #[serde(default)]
    pub member_unit_id: Option<Uuid>,
}

/// Kinds of attendee.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeKind {
    MemberUnit,
    Department,
    Volunteer,
    ResidentRep,
    Staff,
}

/// A meeting's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub minutes: Text<20000>,
    #[serde(default)]
    pub attendees: Vec<AttendeeBody>,
}

/// A decision: the service item it creates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The grid the item concerns (of the meeting's community).
    pub grid_id: Uuid,
    pub category_id: Uuid,
    pub title: Text<200>,
    pub description: Text<5000>,
    /// Who watches it (有人盯、有人管).
    pub owner_user_id: Uuid,
    pub due_on: NaiveDate,
    /// The untracked patrol finding on the agenda this decision takes up:
    /// the item's case is linked to it both ways.
    pub finding_id: Option<Uuid>,
}

/// Sets `community`'s meeting schedule to `rule`, its agenda compiled
/// `lead_days` ahead (creating the schedule on first use), and plans the
/// next meeting whose agenda is still to be compiled.
pub async fn set_schedule(
    c: &mut Conn,
    p: &Principal,
    community: &Community,
    (rule, lead_days): (Recurrence, i32),
    now: DateTime<Utc>,
) -> ApiResult<Schedule> {
    let key = meetings::schedule_key(community.id);
    let lead_minutes = lead_days * 24 * 60;
    if schedules::by_key(c, p.district_id, &key).await?.is_none() {
        schedules::ensure(
            c,
            NewSchedule {
                district_id: p.district_id,
                street_id: Some(community.street_id),
                community_id: Some(community.id),
                key: key.clone(),
                kind: PrepareMeeting::NAME,
                name: format!("{}居民问需会", community.name),
                rule: rule.clone(),
                misfire: Misfire::RunOnce,
                payload: serde_json::json!({}),
                first_due: None,
                lead_minutes,
            },
        )
        .await?;
    }
    let current = schedules::by_key(c, p.district_id, &key)
        .await?
        .ok_or(StoreError::NotFound)?;
    let cal = setup::calendar(c, p.district_id).await?;
    let change = ScheduleChange {
        rule: Some(rule),
        lead_minutes: Some(lead_minutes),
        enabled: Some(true),
        ..ScheduleChange::default()
    };
    // Planned from the rule as of the lead: the next meeting whose
    // agenda is still to be compiled.
    let planning = now + chrono::Duration::minutes(i64::from(lead_minutes));
    let changed = schedules::change(c, &current, current.version, change, &cal, planning)
        .await?
        .ok_or(StoreError::VersionMismatch {
            current: current.version,
        })?;
    Ok(changed)
}

/// Records a decision of open meeting `m`: its service item filed as a case
/// through the meeting channel in a grid of the meeting's community, linked
/// to the untracked patrol finding it takes up, with its owner and due date.
pub async fn record_decision(
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    (m, body): (&Meeting, DecisionBody),
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if m.status == MeetingStatus::Closed {
        return Err(ApiError::new(Code::Conflict, "the meeting is closed"));
    }
    let grid = hierarchy::get_grid(c, body.grid_id)
        .await
        .map_err(reference("grid_id"))?;
    if grid.community_id != m.community_id {
        return Err(ApiError::new(
            Code::InvalidReference,
            "grid_id is not a grid of the meeting's community",
        ));
    }
    onegrid_store::platform::staff::get_user(c, body.owner_user_id)
        .await
        .map_err(reference("owner_user_id"))?;
    let filing = Filing::by_staff(
        Channel::Meeting,
        body.category_id,
        body.title.into_inner(),
        body.description.into_inner(),
        grid.id,
    );
    service::check(&filing)?;
    let finding = match body.finding_id {
        Some(f) => {
            let finding = patrols::get_finding(c, f)
                .await
                .map_err(reference("finding_id"))?;
            let log = patrols::get(c, finding.log_id).await?;
            if log.community_id != m.community_id || finding.case_id.is_some() {
                return Err(ApiError::new(
                    Code::InvalidReference,
                    "finding_id is not an untracked finding of the community",
                ));
            }
            Some(finding)
        }
        None => None,
    };
    // The item's case comes from the finding, when one is named.
    let filing = Filing {
        links: finding.iter().map(|f| ("patrol_finding", f.id)).collect(),
        ..filing
    };
    let case = service::file(keys, c, p, filing, now).await?;
    if let Some(f) = &finding
        && !patrols::track(c, f, case.id).await?
    {
        return Err(ApiError::new(
            Code::Conflict,
            "the finding was tracked meanwhile",
        ));
    }
    meetings::add_item(c, m, case.id, body.owner_user_id, body.due_on).await?;
    Ok(())
}

/// Closes open meeting `m`, read at `version`, with its minutes and
/// attendance: a member unit attends as one of the community's.
pub async fn close(
    c: &mut Conn,
    (m, version): (Meeting, i32),
    body: CloseBody,
    now: DateTime<Utc>,
) -> ApiResult<Meeting> {
    if m.status == MeetingStatus::Closed {
        return Err(ApiError::new(Code::Conflict, "the meeting is closed"));
    }
    let units = meetings::member_units(c, m.community_id).await?;
    let mut attendance = Vec::with_capacity(body.attendees.len());
    for (i, a) in body.attendees.into_iter().enumerate() {
        if let Some(unit) = a.member_unit_id
            && (!matches!(a.kind, AttendeeKind::MemberUnit) || !units.iter().any(|u| u.id == unit))
        {
            return Err(ApiError::new(
                Code::InvalidReference,
                format!("attendees[{i}].member_unit_id is not a member unit of the community"),
            ));
        }
        attendance.push((a.kind.as_str(), a.name.trim().to_owned(), a.member_unit_id));
    }
    let closed = meetings::close(c, &m, version, body.minutes.into_inner(), attendance, now)
        .await?
        .ok_or(StoreError::VersionMismatch { current: m.version })?;
    Ok(closed)
}
