mod auth;
mod conventions;
mod hierarchy;
mod jwt;
mod smoke;
mod tenancy;
