//! Newtypes and pure logic shared by the browser and the server. No IO lives here.

pub mod account;
pub mod call;
mod copy;
pub mod feedback;
pub mod fluency;
pub mod practice;
pub mod saving;
pub mod session;
pub mod time;
pub mod topic;
pub mod transcript;
pub mod voice;

pub use account::{Email, Password};
pub use topic::{CefrLevel, Topic, TopicSlug};
