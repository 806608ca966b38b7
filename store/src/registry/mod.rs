//! Registry: the district's hierarchy (street, community, grid), its
//! departments, and the buildings, households and residents of each grid.

pub mod departments;
pub mod hierarchy;
pub mod households;
