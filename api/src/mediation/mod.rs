//! Mediation: disputes, the street's whistle (街道吹哨) and the summonses of the
//! joint mediation panel, its settings and figures.

pub mod disputes;
pub mod whistles;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the mediation routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(disputes::create_dispute)
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
        .service(whistles::get_mediation_kpis);
}
