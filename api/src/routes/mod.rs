//! One module per resource; each registers its handlers (and so their
//! documentation) on the `/api/v1` scope.

pub mod api_keys;
pub mod appointments;
pub mod audit;
pub mod case_attachments;
pub mod case_kpis;
pub mod case_setup;
pub mod case_steps;
pub mod case_tasks;
pub mod cases;
pub mod communities;
pub mod coverage;
pub mod departments;
pub mod disputes;
pub mod districts;
pub mod geo;
pub mod grid_staff;
pub mod grids;
pub mod households;
pub mod jobs;
pub mod ledger_files;
pub mod ledger_records;
pub mod ledger_types;
pub mod meetings;
pub mod notifications;
pub mod ops;
pub mod patrols;
pub mod queries;
pub mod residents;
pub mod roles;
pub mod schedules;
pub mod scope_ref;
pub mod streets;
pub mod users;
pub mod webhooks;
pub mod whistles;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` route.
pub fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(crate::auth::routes::login)
            .service(crate::auth::routes::refresh)
            .service(crate::auth::routes::logout)
            .service(crate::auth::routes::me)
            .service(districts::get_my_district)
            .service(streets::list_streets)
            .service(streets::create_street)
            .service(streets::get_street)
            .service(streets::update_street)
            .service(communities::list_communities)
            .service(communities::create_community)
            .service(communities::get_community)
            .service(communities::update_community)
            .service(grids::list_grids)
            .service(grids::create_grid)
            .service(grids::get_grid)
            .service(grids::update_grid)
            .service(coverage::community_coverage)
            .service(coverage::street_coverage)
            .service(departments::list_departments)
            .service(departments::create_department)
            .service(departments::get_department)
            .service(departments::update_department)
            .service(users::list_users)
            .service(users::create_user)
            .service(users::get_user)
            .service(users::update_user)
            .service(users::revoke_sessions)
            .service(roles::list_roles)
            .service(roles::assign_role)
            .service(roles::end_role)
            .service(grid_staff::list_grid_staff)
            .service(grid_staff::assign_grid_staff)
            .service(grid_staff::end_grid_assignment)
            .service(api_keys::list_api_keys)
            .service(api_keys::create_api_key)
            .service(api_keys::revoke_api_key)
            .service(residents::create_resident)
            .service(residents::list_residents)
            .service(residents::search)
            .service(residents::get_resident)
            .service(residents::update_resident)
            .service(residents::move_resident)
            .service(residents::list_moves)
            .service(residents::reveal)
            .service(audit::list_audit_log)
            .service(case_setup::get_calendar)
            .service(case_setup::put_calendar)
            .service(case_setup::list_tiers)
            .service(case_setup::put_tier)
            .service(case_setup::list_categories)
            .service(case_setup::create_category)
            .service(case_setup::update_category)
            .service(cases::file_case)
            .service(cases::count_cases)
            .service(cases::export_cases)
            .service(cases::list_cases)
            .service(cases::get_case)
            .service(cases::list_events)
            .service(cases::reveal_reporter)
            .service(case_steps::take_step)
            .service(case_steps::complete_milestone)
            .service(case_kpis::get_kpis)
            .service(jobs::list_jobs)
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
            .service(webhooks::replay_delivery)
            .service(disputes::create_dispute)
            .service(disputes::list_disputes)
            .service(disputes::get_dispute)
            .service(disputes::escalate_dispute)
            .service(disputes::dispute_events)
            .service(disputes::upload_document)
            .service(disputes::download_document)
            .service(disputes::record_session)
            .service(disputes::complete_follow_up)
            .service(disputes::reveal_party)
            .service(whistles::get_settings)
            .service(whistles::put_settings)
            .service(whistles::blow_whistle)
            .service(whistles::list_whistles)
            .service(whistles::get_whistle)
            .service(whistles::close_whistle)
            .service(whistles::list_summonses)
            .service(whistles::get_summons)
            .service(whistles::summons_step)
            .service(whistles::rate_summons)
            .service(whistles::get_mediation_kpis)
            .service(patrols::open_log)
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
            .service(meetings::rate_item)
            .service(case_tasks::create_task)
            .service(case_tasks::list_tasks)
            .service(case_tasks::create_bundle)
            .service(appointments::create_slot)
            .service(appointments::list_slots)
            .service(appointments::book)
            .service(appointments::cancel)
            .service(case_attachments::upload_attachment)
            .service(case_attachments::list_attachments)
            .service(case_attachments::download_attachment)
            .service(ledger_types::list_ledger_types)
            .service(ledger_types::create_ledger_type)
            .service(ledger_types::get_ledger_type)
            .service(ledger_types::update_ledger_type)
            .service(ledger_types::set_sensitivity)
            .service(ledger_records::create_record)
            .service(ledger_records::list_records)
            .service(ledger_records::break_the_glass)
            .service(ledger_records::get_record)
            .service(ledger_records::update_record)
            .service(ledger_records::verify_record)
            .service(ledger_records::retire_record)
            .service(ledger_records::restore_record)
            .service(ledger_records::list_versions)
            .service(notifications::my_notifications)
            .service(notifications::mark_read)
            .service(households::create_building)
            .service(households::list_buildings)
            .service(households::create_unit)
            .service(households::list_units)
            .service(households::create_dwelling)
            .service(households::list_dwellings)
            .service(households::create_household)
            .service(households::list_households)
            .service(households::get_household)
            .service(queries::run_query)
            .service(queries::save_query)
            .service(queries::list_saved_queries)
            .service(queries::saved_query_results)
            .service(ledger_files::template)
            .service(ledger_files::import)
            .service(ledger_files::export)
            .service(ledger_files::export_query),
    );
}
