mod auth;
mod jwt;
mod smoke;
