//! Assembling the actix application: state, extractor configuration, routes,
//! Swagger UI (embedded assets, no outside calls), middleware.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::request_id;
use crate::platform::ops;
use crate::state::AppState;
use crate::{
    cases, fieldwork, http, integrations, ledgers, mediation, openapi, platform, registry,
};

/// Every documented route.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::problems)
        .service(ops::problem)
        .configure(api_v1);
}

/// The `/api/v1` scope: each bounded context registers its own routes.
fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .configure(platform::routes)
            .configure(registry::routes)
            .configure(cases::routes)
            .configure(mediation::routes)
            .configure(fieldwork::routes)
            .configure(ledgers::routes)
            .configure(integrations::routes),
    );
}

/// The application for one server worker (or one test).
pub fn build(
    state: Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.body_limit;
    let (app, spec) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .app_data(state)
        .app_data(crate::http::input::BodyLimit(limit))
        .app_data(http::path_config())
        .configure(routes)
        .split_for_parts();
    let spec = openapi::complete(spec);
    app.service(
        SwaggerUi::new("/docs/{_:.*}")
            .url("/api-docs/openapi.json", spec)
            .config(
                Config::new(["/api-docs/openapi.json"])
                    .validator_url("none")
                    .try_it_out_enabled(true),
            ),
    )
    .route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("location", "/docs/"))
                .finish()
        }),
    )
    .default_service(web::to(http::not_found))
    .wrap(from_fn(request_id::middleware))
}
