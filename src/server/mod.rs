//! Everything that only runs on the server: configuration, state, start-up, telemetry, the
//! database and the use cases that server functions call.

pub mod account;
pub mod auth;
pub mod bundle;
pub mod chunks;
pub mod config;
pub mod db;
pub mod error;
pub mod export;
pub mod feedback;
pub mod finalize;
pub mod health;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod mailbox;
pub mod owned;
pub mod practice;
pub mod realtime;
pub mod recording;
pub mod replay;
pub mod security;
pub mod sharing;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod topics;
