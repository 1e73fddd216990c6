//! One route component per file.

pub mod not_found;
pub mod topic;
pub mod topics;
