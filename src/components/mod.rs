//! Reusable view pieces.

pub mod feedback;
pub mod layout;
pub mod topic_card;
