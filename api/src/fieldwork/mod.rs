//! Fieldwork: the daily patrol and the half-monthly resident needs meeting.

pub mod meetings;
pub mod patrols;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the fieldwork routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(patrols::open_log)
        .service(patrols::list_logs)
        .service(patrols::get_log)
        .service(patrols::change_log)
        .service(patrols::add_visit)
        .service(patrols::add_finding)
        .service(patrols::add_photo)
        .service(patrols::finding_to_case)
        .service(patrols::coverage)
        .service(meetings::set_schedule)
        .service(meetings::list_meetings)
        .service(meetings::get_meeting)
        .service(meetings::record_decision)
        .service(meetings::close_meeting)
        .service(meetings::add_member_unit)
        .service(meetings::list_member_units)
        .service(meetings::rate_item);
}
