//! Mediation: disputes, the street's whistle (街道吹哨) and the summonses of the
//! joint mediation panel, its settings and figures.

pub mod dispute_documents;
pub mod dispute_sessions;
pub mod dispute_views;
pub mod disputes;
pub mod kpis;
pub mod settings;
pub mod summonses;
pub mod whistles;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the mediation routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(disputes::create_dispute)
        .service(disputes::list_disputes)
        .service(disputes::get_dispute)
        .service(disputes::escalate_dispute)
        .service(disputes::dispute_events)
        .service(dispute_documents::upload_document)
        .service(dispute_documents::download_document)
        .service(dispute_sessions::record_session)
        .service(dispute_sessions::complete_follow_up)
        .service(disputes::reveal_party)
        .service(settings::get_settings)
        .service(settings::put_settings)
        .service(whistles::blow_whistle)
        .service(whistles::list_whistles)
        .service(whistles::get_whistle)
        .service(whistles::close_whistle)
        .service(summonses::list_summonses)
        .service(summonses::get_summons)
        .service(summonses::summons_step)
        .service(summonses::rate_summons)
        .service(kpis::get_mediation_kpis);
}
