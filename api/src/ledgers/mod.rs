//! Ledgers (台账): their types, records, spreadsheet files and targeting queries.

pub mod break_glass;
pub mod break_glass_use;
pub mod exports_use;
pub mod files;
pub mod imports;
pub mod imports_use;
pub mod queries;
pub mod queries_use;
pub mod record_views;
pub mod records;
pub mod records_use;
pub mod types;
pub mod types_use;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the ledgers routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(types::list_ledger_types)
        .service(types::create_ledger_type)
        .service(types::get_ledger_type)
        .service(types::update_ledger_type)
        .service(types::set_sensitivity)
        .service(records::create_record)
        .service(records::list_records)
        .service(break_glass::break_the_glass)
        .service(records::get_record)
        .service(records::update_record)
        .service(records::verify_record)
        .service(records::retire_record)
        .service(records::restore_record)
        .service(records::list_versions)
        .service(queries::run_query)
        .service(queries::save_query)
        .service(queries::list_saved_queries)
        .service(queries::saved_query_results)
        .service(files::template)
        .service(imports::import)
        .service(files::export)
        .service(files::export_query);
}
