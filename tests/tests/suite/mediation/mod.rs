//! Disputes and the joint mediation platform against the real database and
//! worker: a whistle summoning the nine panel departments where seven report
//! in on time (at the same instant), one late and one never - reminders,
//! overdue marks and escalations happen once; webhooks for every summons and
//! report-in; the figures and rankings; department scope across two streets
//! and masking in the department inbox; the dispute ladder, sessions,
//! agreements, referrals, follow-ups and where disputes were settled.

mod disputes;
mod whistles;
