//! OneGrid's persistence layer: the diesel schema, tenant-scoped transactions
//! backed by row-level security, embedded migrations, and one module of queries
//! per bounded context. Every query function takes the connection of a transaction
//! whose scope is already set; nothing here knows about HTTP.

pub mod blobs;
pub mod cases;
#[rustfmt::skip]
mod constraints;
pub mod crypto;
pub mod db;
pub mod error;
pub mod fieldwork;
pub mod idempotency;
pub mod integrations;
pub mod ledgers;
pub mod mediation;
pub mod migrate;
pub mod page;
pub mod platform;
pub mod registry;
pub mod schema;
pub mod scope;

pub use db::{Conn, Db, PoolSettings, System};
pub use error::{AuthFailure, StoreError, Violation, ViolationKind};
pub use scope::{Acting, Principal};
