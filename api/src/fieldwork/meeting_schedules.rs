//! A community's needs-meeting schedule (half-monthly by default).

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, put};
use onegrid_domain::permissions::Action;
use onegrid_domain::recurrence::{Days, HolidayPolicy, Misfire, Recurrence};
use onegrid_store::fieldwork::meetings::{self};
use onegrid_store::integrations::job_kinds::{JobKind, PrepareMeeting};
use onegrid_store::integrations::schedules::{self, NewSchedule, ScheduleChange};
use onegrid_store::{StoreError, cases::setup, registry::hierarchy};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::integrations::schedules::ScheduleView;
use crate::platform::auth::Caller;
use crate::state::AppState;

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
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(hierarchy::get_community(c, id)),
            move |c, p, community| {
                Box::pin(async move {
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
                    let changed =
                        schedules::change(c, &current, current.version, change, &cal, planning)
                            .await?
                            .ok_or(StoreError::VersionMismatch {
                                current: current.version,
                            })?;
                    crate::integrations::schedules::view(changed)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
