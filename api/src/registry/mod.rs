//! Registry: the hierarchy (district, street, community, grid), departments,
//! 一格三员 staffing and coverage, households and residents.

pub mod communities;
pub mod coverage;
pub mod departments;
pub mod districts;
pub mod geo;
pub mod grids;
pub mod grids_use;
pub mod households;
pub mod households_use;
pub mod residents;
pub mod residents_use;
pub mod staffing;
pub mod staffing_use;
pub mod streets;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the registry routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(districts::get_my_district)
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
        .service(staffing::list_grid_staff)
        .service(staffing::assign_grid_staff)
        .service(staffing::end_grid_assignment)
        .service(residents::create_resident)
        .service(residents::list_residents)
        .service(residents::search)
        .service(residents::get_resident)
        .service(residents::update_resident)
        .service(residents::move_resident)
        .service(residents::list_moves)
        .service(residents::reveal)
        .service(households::create_building)
        .service(households::list_buildings)
        .service(households::create_unit)
        .service(households::list_units)
        .service(households::create_dwelling)
        .service(households::list_dwellings)
        .service(households::create_household)
        .service(households::list_households)
        .service(households::get_household);
}
