//! Integrations: webhooks, the job queue and recurring schedules.

pub mod jobs;
pub mod schedules;
pub mod webhooks;
pub mod webhooks_use;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the integrations routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(jobs::list_jobs)
        .service(jobs::get_job)
        .service(jobs::replay_job)
        .service(schedules::list_schedules)
        .service(schedules::get_schedule)
        .service(schedules::change_schedule)
        .service(schedules::schedule_fires)
        .service(webhooks::create_endpoint)
        .service(webhooks::list_endpoints)
        .service(webhooks::get_endpoint)
        .service(webhooks::update_endpoint)
        .service(webhooks::rotate_secret)
        .service(webhooks::list_deliveries)
        .service(webhooks::get_delivery)
        .service(webhooks::replay_delivery);
}
