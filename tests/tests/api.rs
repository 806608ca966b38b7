//! The one integration test binary (link time matters on two cores).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod suite;
