//! One route component per file.

pub mod account;
pub mod auth;
pub mod history;
pub mod not_found;
pub mod practice;
pub mod progress;
pub mod shared;
pub mod summary;
pub mod topic;
pub mod topics;
