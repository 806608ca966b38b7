//! Fieldwork: the grid worker's daily patrol and the half-monthly resident
//! needs meeting.

pub mod meetings;
pub mod patrols;
