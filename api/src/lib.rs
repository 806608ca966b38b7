//! OneGrid's REST API: actix-web handlers over the store, with the error
//! catalogue, authentication, the conventions every resource shares and the
//! OpenAPI document generated from the router.

#![warn(clippy::indexing_slicing)]

pub mod app;
pub mod cache;
pub mod cases;
pub mod fieldwork;
pub mod http;
pub mod integrations;
pub mod ledgers;
pub mod maintenance;
pub mod mediation;
pub mod metrics;
pub mod openapi;
pub mod platform;
pub mod registry;
pub mod seed;
pub mod server;
pub mod state;
