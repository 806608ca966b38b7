//! Platform: sign-in and sessions, staff accounts, roles, API keys, the audit
//! log, notifications and operations.

pub mod api_keys;
pub mod api_keys_use;
pub mod audit;
pub mod auth;
pub mod grants_use;
pub mod notifications;
pub mod ops;
pub mod roles;
pub mod scope_ref;
pub mod users;
pub mod users_use;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the platform routes on the `/api/v1` scope.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(auth::routes::login)
        .service(auth::routes::refresh)
        .service(auth::routes::logout)
        .service(auth::routes::me)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::revoke_sessions)
        .service(roles::list_roles)
        .service(roles::assign_role)
        .service(roles::end_role)
        .service(api_keys::list_api_keys)
        .service(api_keys::create_api_key)
        .service(api_keys::revoke_api_key)
        .service(audit::list_audit_log)
        .service(notifications::my_notifications)
        .service(notifications::mark_read);
}
