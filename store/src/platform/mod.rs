//! Platform: credentials and sessions, staff accounts and roles, the audit log,
//! notices and the durable counts behind the security limits.

pub mod audit;
pub mod auth;
pub mod limits;
pub mod notifications;
pub mod staff;
