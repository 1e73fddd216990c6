//! Reusable view pieces.

pub mod chart;
pub mod feedback;
pub mod form;
pub mod layout;
pub mod recovery;
pub mod replay;
pub mod report;
pub mod topic_card;
