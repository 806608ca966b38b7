//! The half-monthly resident needs meeting (居民问需会): a community sets
//! when it meets (days of the month, time, holiday policy, how many days
//! ahead the agenda is compiled); the worker creates each meeting with its
//! agenda and reminds the invited staff; at the meeting each decision
//! becomes a service item (a case with an owner and a due date) that the
//! next meeting reports back; the meeting closes with its minutes and
//! attendance.

use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::cases::Status;
use onegrid_domain::meetings::MeetingStatus;
use onegrid_domain::permissions::Action;
use onegrid_store::fieldwork::meetings::{self, Meeting};
use onegrid_store::targets::On;
use onegrid_store::{Conn, cases};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::fieldwork::meetings_use::AttendeeKind;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::ok_with_etag;
use crate::platform::auth::Caller;
use crate::state::AppState;

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
    pub status: Option<Status>,
}

/// A service item (项目服务清单) a decision created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub case_id: Uuid,
    pub owner_id: Uuid,
    pub due_on: NaiveDate,
    /// The case's status: its progress.
    pub status: Status,
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

impl AttendeeKind {
    pub(crate) const fn as_str(self) -> &'static str {
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
    pub status: MeetingStatus,
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

pub(crate) async fn meeting_view(c: &mut Conn, m: Meeting) -> ApiResult<MeetingView> {
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
        .checked(
            caller,
            Action::MeetingRead,
            On::Community(q.community_id),
            move |c, _, _| {
                Box::pin(async move {
                    let mut out = Vec::new();
                    for m in meetings::list(c, q.community_id, limit).await? {
                        out.push(meeting_view(c, m).await?);
                    }
                    Ok(out)
                })
            },
        )
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
        .on_row(
            caller,
            Action::MeetingRead,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, _, m| Box::pin(meeting_view(c, m)),
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}
