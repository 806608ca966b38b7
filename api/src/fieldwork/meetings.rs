//! The half-monthly resident needs meeting (居民问需会): a community sets
//! when it meets (days of the month, time, holiday policy, how many days
//! ahead the agenda is compiled); the worker creates each meeting with its
//! agenda and reminds the invited staff; at the meeting each decision
//! becomes a service item (a case with an owner and a due date) that the
//! next meeting reports back; the meeting closes with its minutes and
//! attendance.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::{Action, Target};
use onegrid_domain::recurrence::{Days, HolidayPolicy, Misfire, Recurrence};
use onegrid_store::fieldwork::meetings::{self, Meeting};
use onegrid_store::integrations::schedules::{self, NewSchedule, ScheduleChange};
use onegrid_store::{
    Conn, Principal, StoreError, cases, cases::setup, fieldwork::patrols, registry::hierarchy,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cases::filing::{Channel, NewCaseBody};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::{IfMatch, ok_with_etag};
use crate::integrations::schedules::ScheduleView;
use crate::platform::auth::Caller;
use crate::state::{AppState, Guard};

/// When a community meets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingScheduleBody {
    /// Days of the month, e.g. `[1, 16]` for every half month.
    pub days: Vec<u32>,
    pub hour: u32,
    pub minute: u32,
    /// What a meeting day that is a holiday does (default: the next working day).
    pub holidays: Option<HolidayPolicy>,
    /// How many days ahead the agenda is compiled and attendees reminded (0-14, default 3).
    pub agenda_days_before: Option<i32>,
}

/// Set when the community meets
///
/// Creates or changes the community's needs-meeting schedule; the next
/// meeting is planned from it on the district's calendar.
#[utoipa::path(tag = "meetings", params(("community_id" = Uuid, Path, description = "Community id")), request_body = MeetingScheduleBody, responses((status = 200, body = ScheduleView)))]
#[put("/communities/{community_id}/needs-meeting-schedule")]
pub async fn set_schedule(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<MeetingScheduleBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let rule = Recurrence {
        days: Days::MonthDays {
            days: body.days.clone(),
        },
        hour: body.hour,
        minute: body.minute,
        holidays: body.holidays.unwrap_or(HolidayPolicy::NextWorkingDay),
    };
    let lead_days = body.agenda_days_before.unwrap_or(3);
    let mut errors = Vec::new();
    if let Err(e) = rule.check() {
        errors.push(FieldError {
            field: "days".into(),
            message: e.to_string(),
        });
    }
    if !(0..=14).contains(&lead_days) {
        errors.push(FieldError {
            field: "agenda_days_before".into(),
            message: "0 to 14".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, id).await?;
                p.require(
                    Action::MeetingManage,
                    &Target::community(p.district_id, community.street_id, community.id),
                )?;
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
                            kind: meetings::PREPARE,
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
                let changed =
                    schedules::change(c, &current, current.version, change, &cal, planning)
                        .await?
                        .ok_or(StoreError::VersionMismatch {
                            current: current.version,
                        })?;
                crate::integrations::schedules::view(changed)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// An item on a meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaView {
    pub seq: i32,
    /// report_back (an item of the previous meeting), unowned_need,
    /// untracked_finding or overdue_case.
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub finding_id: Option<Uuid>,
    pub title: String,
    /// The case's status now (for cases).
    pub status: Option<String>,
}

/// A service item (项目服务清单) a decision created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub case_id: Uuid,
    pub owner_id: Uuid,
    pub due_on: NaiveDate,
    /// The case's status: its progress.
    pub status: String,
    /// The meeting that reports it back (the next one), once it exists.
    pub reported_back_in: Option<Uuid>,
}

/// Who attended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeView {
    /// member_unit (联合党委 member unit), department, volunteer, resident_rep or staff.
    pub kind: AttendeeKind,
    pub name: String,
    /// For a member unit: its entry in the community's registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_unit_id: Option<Uuid>,
}

/// How the attendees rated a reported-back item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemRating {
    pub case_id: Uuid,
    pub ratings: usize,
    pub average: f64,
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

impl AttendeeKind {
    const fn as_str(self) -> &'static str {
        match self {
            AttendeeKind::MemberUnit => "member_unit",
            AttendeeKind::Department => "department",
            AttendeeKind::Volunteer => "volunteer",
            AttendeeKind::ResidentRep => "resident_rep",
            AttendeeKind::Staff => "staff",
        }
    }

    fn parse(s: &str) -> AttendeeKind {
        match s {
            "member_unit" => AttendeeKind::MemberUnit,
            "department" => AttendeeKind::Department,
            "volunteer" => AttendeeKind::Volunteer,
            "resident_rep" => AttendeeKind::ResidentRep,
            _ => AttendeeKind::Staff,
        }
    }
}

/// A needs meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub scheduled_for: DateTime<Utc>,
    /// planned, held or closed.
    pub status: String,
    pub previous_id: Option<Uuid>,
    pub agenda: Vec<AgendaView>,
    /// The service items its decisions created.
    pub items: Vec<ItemView>,
    pub attendees: Vec<AttendeeView>,
    /// The attendees' ratings of the items reported back at this meeting.
    pub report_back_ratings: Vec<ItemRating>,
    pub minutes: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn meeting_view(c: &mut Conn, m: Meeting) -> ApiResult<MeetingView> {
    let agenda = meetings::agenda(c, &m).await?;
    let items = meetings::items(c, &m).await?;
    let attendees = meetings::attendees(c, &m).await?;
    let ratings = meetings::ratings(c, &m).await?;
    let mut rated: Vec<ItemRating> = Vec::new();
    for (case_id, score) in ratings {
        match rated.iter_mut().find(|r| r.case_id == case_id) {
            Some(r) => {
                #[expect(clippy::cast_precision_loss, reason = "a handful of ratings")]
                let n = r.ratings as f64;
                r.average = (r.average * n + f64::from(score)) / (n + 1.0);
                r.ratings += 1;
            }
            None => rated.push(ItemRating {
                case_id,
                ratings: 1,
                average: f64::from(score),
            }),
        }
    }
    let mut agenda_views = Vec::with_capacity(agenda.len());
    for a in agenda {
        let status = match a.case_id {
            Some(id) => Some(cases::get_case(c, id).await?.status),
            None => None,
        };
        agenda_views.push(AgendaView {
            seq: a.seq,
            kind: a.kind,
            case_id: a.case_id,
            finding_id: a.finding_id,
            title: a.title,
            status,
        });
    }
    let mut item_views = Vec::with_capacity(items.len());
    for i in items {
        let status = cases::get_case(c, i.case_id).await?.status;
        let next = meetings::loop_of(c, i.case_id)
            .await?
            .and_then(|(_, next)| next.map(|n| n.id));
        item_views.push(ItemView {
            case_id: i.case_id,
            owner_id: i.owner_id,
            due_on: i.due_on,
            status,
            reported_back_in: next,
        });
    }
    Ok(MeetingView {
        id: m.id,
        street_id: m.street_id,
        community_id: m.community_id,
        scheduled_for: m.scheduled_for,
        status: m.status,
        previous_id: m.previous_id,
        agenda: agenda_views,
        items: item_views,
        attendees: attendees
            .into_iter()
            .map(|a| AttendeeView {
                kind: AttendeeKind::parse(&a.kind),
                name: a.name,
                member_unit_id: a.member_unit_id,
            })
            .collect(),
        report_back_ratings: rated,
        minutes: m.minutes,
        closed_at: m.closed_at,
        version: m.version,
    })
}

fn meeting_target(p: &Principal, m: &Meeting) -> Target {
    Target::community(p.district_id, m.street_id, m.community_id)
}

async fn load(c: &mut Conn, p: &Principal, id: Uuid, action: Action) -> ApiResult<Meeting> {
    let m = meetings::get(c, id).await?;
    p.require(action, &meeting_target(p, &m))?;
    Ok(m)
}

/// The community whose meetings to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MeetingQuery {
    pub community_id: Uuid,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// List a community's needs meetings
///
/// Newest first, each with its agenda, items and attendance.
#[utoipa::path(tag = "meetings", params(MeetingQuery), responses((status = 200, body = Vec<MeetingView>)))]
#[get("/needs-meetings")]
pub async fn list_meetings(
    state: Data<AppState>,
    caller: Caller,
    q: Query<MeetingQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(24);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "limit must be between 1 and 100",
        ));
    }
    let views = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, q.community_id).await?;
                p.require(
                    Action::MeetingRead,
                    &Target::community(p.district_id, community.street_id, community.id),
                )?;
                let mut out = Vec::new();
                for m in meetings::list(c, community.id, limit).await? {
                    out.push(meeting_view(c, m).await?);
                }
                Ok(out)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Read a needs meeting
///
/// Its agenda (the previous meeting's items for report-back with their
/// progress, needs nobody owns, untracked patrol findings, cases open too
/// long), the service items it created and whether the next meeting has
/// reported them back, attendance and minutes.
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id")), responses((status = 200, body = MeetingView)))]
#[get("/needs-meetings/{meeting_id}")]
pub async fn get_meeting(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let m = load(c, &p, id, Action::MeetingRead).await?;
                meeting_view(c, m).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// A decision: the service item it creates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The grid the item concerns (of the meeting's community).
    pub grid_id: Uuid,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    /// Who watches it (有人盯、有人管).
    pub owner_user_id: Uuid,
    pub due_on: NaiveDate,
    /// The untracked patrol finding on the agenda this decision takes up:
    /// the item's case is linked to it both ways.
    pub finding_id: Option<Uuid>,
}

/// Record a decision
///
/// Files the service item as a case through the meeting channel and records
/// its owner and due date; the next meeting reports it back. Naming an
/// untracked patrol finding of the agenda links the item's case to it.
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id")), request_body = DecisionBody, responses((status = 201, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/decisions")]
pub async fn record_decision(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    if body.due_on < state.clock.today() {
        return Err(ApiError::field("due_on", "not in the past"));
    }
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let m = load(c, &p, id, Action::MeetingManage).await?;
                if m.status == "closed" {
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
                let new = NewCaseBody {
                    channel: Channel::Meeting,
                    category_id: body.category_id,
                    title: body.title,
                    description: body.description,
                    grid_id: Some(grid.id),
                    location: None,
                    address: None,
                    extra: serde_json::Map::new(),
                    service_mode: None,
                    tier: None,
                    resident_id: None,
                    household_id: None,
                    ledger_record_ids: Vec::new(),
                    reporter: None,
                };
                crate::cases::filing::check_new(&new)?;
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
                let links = finding
                    .as_ref()
                    .map(|f| vec![("patrol_finding", f.id)])
                    .unwrap_or_default();
                let case = crate::cases::filing::file_in(&st, c, &p, new, None, links, now).await?;
                if let Some(f) = &finding
                    && !patrols::track(c, f, case.id).await?
                {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "the finding was tracked meanwhile",
                    ));
                }
                meetings::add_item(c, &m, case.id, body.owner_user_id, body.due_on).await?;
                meeting_view(c, m).await
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A meeting's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub minutes: String,
    #[serde(default)]
    pub attendees: Vec<AttendeeView>,
}

/// Close a needs meeting
///
/// With its minutes and attendance (member units of the joint party
/// committee, department grid workers, volunteers, residents'
/// representatives, staff), under If-Match.
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id")), request_body = CloseBody, responses((status = 200, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/close")]
pub async fn close_meeting(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<CloseBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let mut errors = Vec::new();
    if body.minutes.trim().is_empty() || body.minutes.chars().count() > 20_000 {
        errors.push(FieldError {
            field: "minutes".into(),
            message: "1 to 20000 characters".into(),
        });
    }
    for (i, a) in body.attendees.iter().enumerate() {
        if a.name.trim().is_empty() || a.name.chars().count() > 100 {
            errors.push(FieldError {
                field: format!("attendees[{i}].name"),
                message: "1 to 100 characters".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let m = load(c, &p, id, Action::MeetingManage).await?;
                let version = if_match.version()?;
                if m.status == "closed" {
                    return Err(ApiError::new(Code::Conflict, "the meeting is closed"));
                }
                let units = meetings::member_units(c, m.community_id).await?;
                let mut attendance = Vec::with_capacity(body.attendees.len());
                for (i, a) in body.attendees.into_iter().enumerate() {
                    if let Some(unit) = a.member_unit_id
                        && (!matches!(a.kind, AttendeeKind::MemberUnit)
                            || !units.iter().any(|u| u.id == unit))
                    {
                        return Err(ApiError::new(
                            Code::InvalidReference,
                            format!("attendees[{i}].member_unit_id is not a member unit of the community"),
                        ));
                    }
                    attendance.push((a.kind.as_str(), a.name.trim().to_owned(), a.member_unit_id));
                }
                let closed = meetings::close(c, &m, version, body.minutes, attendance, now)
                    .await?
                    .ok_or(StoreError::VersionMismatch { current: m.version })?;
                meeting_view(c, closed).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// A member unit to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberUnitBody {
    pub name: String,
    pub kind: MemberUnitKind,
    pub contact_name: Option<String>,
}

/// Kinds of member unit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberUnitKind {
    Enterprise,
    Institution,
    SocialOrg,
    PartyOrg,
    Other,
}

impl MemberUnitKind {
    const fn as_str(self) -> &'static str {
        match self {
            MemberUnitKind::Enterprise => "enterprise",
            MemberUnitKind::Institution => "institution",
            MemberUnitKind::SocialOrg => "social_org",
            MemberUnitKind::PartyOrg => "party_org",
            MemberUnitKind::Other => "other",
        }
    }
}

/// A member unit of the joint party committee.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberUnitView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub kind: String,
    pub contact_name: Option<String>,
}

fn unit_view(u: meetings::MemberUnit) -> MemberUnitView {
    MemberUnitView {
        id: u.id,
        community_id: u.community_id,
        name: u.name,
        kind: u.kind,
        contact_name: u.contact_name,
    }
}

/// Register a member unit
///
/// An enterprise, institution or organisation of the community's joint
/// party committee (联合党委) that sits in its needs meetings; names are
/// unique in the community (409).
#[utoipa::path(tag = "meetings", params(("community_id" = Uuid, Path, description = "Community id")), request_body = MemberUnitBody, responses((status = 201, body = MemberUnitView)))]
#[post("/communities/{community_id}/member-units")]
pub async fn add_member_unit(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<MemberUnitBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "1 to 100 characters"));
    }
    if body
        .contact_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 50)
    {
        return Err(ApiError::field("contact_name", "at most 50 characters"));
    }
    let now = state.clock.now();
    let unit = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, id).await?;
                p.require(
                    Action::MeetingManage,
                    &Target::community(p.district_id, community.street_id, community.id),
                )?;
                Ok(meetings::add_member_unit(
                    c,
                    community.street_id,
                    community.id,
                    name,
                    body.kind.as_str(),
                    body.contact_name,
                    now,
                )
                .await?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(unit_view(unit)))
}

/// List a community's member units
///
/// The joint party committee's member units of the community, by name.
#[utoipa::path(tag = "meetings", params(("community_id" = Uuid, Path, description = "Community id")), responses((status = 200, body = Vec<MemberUnitView>)))]
#[get("/communities/{community_id}/member-units")]
pub async fn list_member_units(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let units = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let community = hierarchy::get_community(c, id).await?;
                p.require(
                    Action::MeetingRead,
                    &Target::community(p.district_id, community.street_id, community.id),
                )?;
                Ok(meetings::member_units(c, community.id).await?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(units.into_iter().map(unit_view).collect::<Vec<_>>()))
}

/// An attendee's rating of a reported-back item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRatingBody {
    /// Who rates (an attendee's name).
    pub rater: String,
    /// 10, 8, 6, 3 or 0.
    pub score: i16,
}

/// Rate a reported-back item
///
/// Records an attendee's rating of an item this meeting reports back (one
/// per attendee and item; 409 for a second).
#[utoipa::path(tag = "meetings", params(("meeting_id" = Uuid, Path, description = "Meeting id"), ("case_id" = Uuid, Path, description = "The item's case")), request_body = ItemRatingBody, responses((status = 200, body = MeetingView)))]
#[post("/needs-meetings/{meeting_id}/report-back/{case_id}/rating")]
pub async fn rate_item(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
    body: Json<ItemRatingBody>,
) -> ApiResult<HttpResponse> {
    let ((id, case_id), body) = (ids.into_inner(), body.into_inner());
    let rater = body.rater.trim().to_owned();
    if rater.is_empty() || rater.chars().count() > 100 {
        return Err(ApiError::field("rater", "1 to 100 characters"));
    }
    if ![10, 8, 6, 3, 0].contains(&body.score) {
        return Err(ApiError::field("score", "10, 8, 6, 3 or 0"));
    }
    let now = state.clock.now();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let m = load(c, &p, id, Action::MeetingManage).await?;
                let reported = meetings::agenda(c, &m)
                    .await?
                    .iter()
                    .any(|a| a.kind == "report_back" && a.case_id == Some(case_id));
                if !reported {
                    return Err(StoreError::NotFound.into());
                }
                if !meetings::rate_item(c, &m, case_id, rater, body.score, now).await? {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "this attendee already rated the item at this meeting",
                    ));
                }
                meeting_view(c, m).await
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
