//! OneGrid's REST API: actix-web handlers over the store, with the error
//! catalogue, authentication, the conventions every resource shares and the
//! OpenAPI document generated from the router.

pub mod app;
pub mod auth;
pub mod cache;
pub mod error;
pub mod http;
pub mod input;
pub mod maintenance;
pub mod metrics;
pub mod openapi;
pub mod request_id;
pub mod routes;
pub mod seed;
pub mod server;
pub mod sheets;
pub mod state;
pub mod upload;
