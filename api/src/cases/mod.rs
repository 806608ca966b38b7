//! Cases: filing, lifecycle steps, tasks, the district's case set-up, KPIs,
//! attachments and appointments.

pub mod appointments;
pub mod appointments_use;
pub mod attachments;
pub mod categories_use;
pub mod export;
pub mod filing;
pub mod history;
pub mod kpis;
pub mod reporter;
pub mod service;
pub mod setup;
pub mod steps;
pub mod steps_use;
pub mod tasks;
pub mod tasks_use;
pub mod views;
pub mod work_lists;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the cases routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(setup::get_calendar)
        .service(setup::put_calendar)
        .service(setup::list_tiers)
        .service(setup::put_tier)
        .service(setup::list_categories)
        .service(setup::create_category)
        .service(setup::update_category)
        .service(filing::file_case)
        .service(work_lists::count_cases)
        .service(export::export_cases)
        .service(work_lists::list_cases)
        .service(views::get_case)
        .service(history::list_events)
        .service(reporter::reveal_reporter)
        .service(steps::take_step)
        .service(steps::complete_milestone)
        .service(kpis::get_kpis)
        .service(tasks::create_task)
        .service(tasks::list_tasks)
        .service(tasks::create_bundle)
        .service(appointments::create_slot)
        .service(appointments::list_slots)
        .service(appointments::book)
        .service(appointments::cancel)
        .service(attachments::upload_attachment)
        .service(attachments::list_attachments)
        .service(attachments::download_attachment);
}
