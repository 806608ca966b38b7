//! Authentication: access tokens, the `Caller` extractor, login throttling,
//! and the `/auth` and `/me` routes.

pub mod caller;
pub mod jwt;
pub mod routes;
pub mod throttle;

pub use caller::Caller;
