//! A community's needs-meeting schedule (half-monthly by default).

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, put};
use onegrid_domain::permissions::Action;
use onegrid_domain::recurrence::{Days, HolidayPolicy, Recurrence};
use onegrid_store::registry::hierarchy;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::meetings_use;
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
        days: Days::MonthDays { days: body.days },
        hour: body.hour,
        minute: body.minute,
        holidays: body.holidays.unwrap_or(HolidayPolicy::NextWorkingDay),
    };
    let lead_days = body.agenda_days_before.unwrap_or(3);
    check_rule(&rule, lead_days)?;
    let now = state.clock.now();
    let view = state
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(hierarchy::get_community(c, id)),
            move |c, p, community| {
                Box::pin(async move {
                    let plan = (rule, lead_days);
                    let changed = meetings_use::set_schedule(c, &p, &community, plan, now).await?;
                    crate::integrations::schedules::view(changed)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The rule is one the domain can plan, the lead 0 to 14 days: both
/// reported at once (the rule is the domain's, so no schema says it).
fn check_rule(rule: &Recurrence, lead_days: i32) -> ApiResult<()> {
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
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}
