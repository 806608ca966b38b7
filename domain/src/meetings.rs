//! The half-monthly needs meeting (需求例会): planned from the schedule,
//! held when its minutes are recorded, closed when every item is decided.

crate::state_enum! {
    /// Where a needs meeting stands.
    pub enum MeetingStatus {
        /// Compiled with its agenda, not yet held.
        Planned => "planned",
        /// Held; minutes recorded.
        Held => "held",
        /// Closed: decisions are final.
        Closed => "closed",
    }
}
