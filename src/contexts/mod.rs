//! What the whole app shares: the signed-in account and recovery of what closed pages left.
//! Provided once at the root (`app.rs`); pages and components read them from here, never from the
//! app root or from each other.

pub mod account;
pub mod recovery;
