//! OneGrid's pure domain rules: administrative codes, roles and the permission
//! matrix, 一格三员 staffing coverage and dated validity. Nothing here does IO;
//! the clock is always a parameter.

#![warn(missing_docs)]
#![warn(clippy::indexing_slicing)]

pub mod calendar;
pub mod cases;
pub mod catalogue;
pub mod channels;
pub mod clock;
pub mod codes;
pub mod columns;
pub mod departments;
pub mod files;
pub mod geo;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod masking;
pub mod mediation;
pub mod meetings;
pub mod netguard;
pub mod permissions;
pub mod principal;
pub mod query;
pub mod recurrence;
pub mod sla;
pub mod staffing;
pub mod text;
pub mod webhooks;
