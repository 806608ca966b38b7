//! Mediation: disputes and the street's whistle (街道吹哨) with the summonses
//! of the joint mediation panel, and their figures.

pub mod disputes;
pub mod kpis;
pub mod whistles;
