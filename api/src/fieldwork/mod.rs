//! Fieldwork: the daily patrol and the half-monthly resident needs meeting.

pub mod meeting_decisions;
pub mod meeting_schedules;
pub mod meetings;
pub mod meetings_use;
pub mod member_units;
pub mod patrol_coverage;
pub mod patrol_findings;
pub mod patrol_views;
pub mod patrols;
pub mod patrols_use;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the fieldwork routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(patrols::open_log)
        .service(patrols::list_logs)
        .service(patrols::get_log)
        .service(patrols::change_log)
        .service(patrol_findings::add_visit)
        .service(patrol_findings::add_finding)
        .service(patrol_findings::add_photo)
        .service(patrol_findings::finding_to_case)
        .service(patrol_coverage::coverage)
        .service(meeting_schedules::set_schedule)
        .service(meetings::list_meetings)
        .service(meetings::get_meeting)
        .service(meeting_decisions::record_decision)
        .service(meeting_decisions::close_meeting)
        .service(member_units::add_member_unit)
        .service(member_units::list_member_units)
        .service(meeting_decisions::rate_item);
}
