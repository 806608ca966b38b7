//! Mediation: disputes, the street's whistle (街道吹哨) and the summonses of the
//! joint mediation panel, its settings and figures.

pub mod dispute_documents;
pub mod dispute_sessions;
pub mod dispute_sessions_use;
pub mod dispute_views;
pub mod disputes;
pub mod disputes_use;
pub mod kpis;
pub mod kpis_use;
pub mod settings;
pub mod settings_use;
pub mod summonses;
pub mod summonses_use;
pub mod whistles;
pub mod whistles_use;

use futures_util::future::BoxFuture;
use onegrid_domain::permissions::{Action, Target, rule};
use onegrid_store::targets::{Guarded, On};
use onegrid_store::{Conn, Principal, StoreError};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

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

/// Whether the caller may act with `action` on `target`: on the place, or -
/// for department staff, whom the wall shows only what was whistled to their
/// departments - as one of their departments.
pub(crate) fn reaches(p: &Principal, action: Action, target: Target) -> bool {
    p.can(action, &target)
        || p.departments().into_iter().any(|department| {
            p.can(
                action,
                &Target {
                    department: Some(department),
                    ..target
                },
            )
        })
}

/// Runs `f` on a row once the caller is proven to act on it: with `action`
/// on the row's place ([`AppState::on_row`]); failing that (403), with
/// `as_department` anywhere and on the row as one of their departments
/// ([`reaches`]), in a transaction of its own.
pub(crate) async fn on_summoned<R, T, L, F>(
    state: &AppState,
    caller: Caller,
    (action, as_department): (Action, Action),
    load: L,
    f: F,
) -> ApiResult<T>
where
    R: Guarded + Send + 'static,
    L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>>
        + Clone
        + Send
        + 'static,
    F: for<'c> FnOnce(&'c mut Conn, Principal, R) -> BoxFuture<'c, ApiResult<T>>
        + Clone
        + Send
        + 'static,
    T: Send + 'static,
{
    let (load_again, f_again) = (load.clone(), f.clone());
    match state.on_row(caller.clone(), action, load, f).await {
        Err(e) if e.code == Code::Forbidden => {
            state
                .checked(caller, as_department, On::Anywhere, move |c, p, _| {
                    Box::pin(async move {
                        let row = load_again(c).await?;
                        if !reaches(&p, as_department, row.target(p.district_id)) {
                            return Err(ApiError::forbidden(rule(as_department).name));
                        }
                        f_again(c, p, row).await
                    })
                })
                .await
        }
        other => other,
    }
}
