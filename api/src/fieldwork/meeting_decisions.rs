//! At the meeting: a decision per agenda item (handled, a service item with
//! its owner and due date, or deferred), closing the meeting, and the
//! residents' rating of each item.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use chrono::NaiveDate;
use onegrid_domain::permissions::Action;
use onegrid_store::fieldwork::meetings::{self};
use onegrid_store::{StoreError, fieldwork::patrols, registry::hierarchy};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::meetings::{AttendeeKind, AttendeeView, MeetingView, meeting_view};
use crate::cases::service::{self, Filing};
use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;
use onegrid_domain::channels::Channel;

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
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, p, m| {
                Box::pin(async move {
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
                    let filing = Filing::by_staff(
                        Channel::Meeting,
                        body.category_id,
                        body.title,
                        body.description,
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
                    let case = service::file(&st.keys, c, &p, filing, now).await?;
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
            },
        )
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
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, _, m| {
                Box::pin(async move {
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
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
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
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(meetings::get(c, id)),
            move |c, _, m| {
                Box::pin(async move {
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
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
