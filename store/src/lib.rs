//! OneGrid's persistence layer: the diesel schema, tenant-scoped transactions
//! backed by row-level security, embedded migrations, and one module of queries
//! per resource. Every query function takes the connection of a transaction
//! whose scope is already set; nothing here knows about HTTP.

pub mod appointments;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod break_glass;
pub mod calendar_years;
pub mod case_kpis;
pub mod case_setup;
pub mod cases;
#[rustfmt::skip]
mod constraints;
pub mod crypto;
pub mod db;
pub mod deadlines;
pub mod departments;
pub mod digests;
pub mod disputes;
pub mod error;
pub mod hierarchy;
pub mod idempotency;
pub mod jobs;
pub mod ledgers;
pub mod limits;
pub mod mediation_kpis;
pub mod meetings;
pub mod migrate;
pub mod notifications;
pub mod page;
pub mod patrols;
pub mod registry;
pub mod schedules;
pub mod schema;
pub mod scope;
pub mod staff;
pub mod targeting;
pub mod webhooks;
pub mod whistles;

pub use db::{Conn, Db, PoolSettings, System};
pub use error::{AuthFailure, StoreError, Violation, ViolationKind};
pub use scope::{Acting, Principal};
