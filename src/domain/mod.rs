//! Newtypes and pure logic shared by the browser and the server. No IO lives here.

pub mod topic;

pub use topic::{CefrLevel, Topic, TopicSlug};
