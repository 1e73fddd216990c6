//! Reusable view pieces.

pub mod feedback;
pub mod form;
pub mod layout;
pub mod topic_card;
