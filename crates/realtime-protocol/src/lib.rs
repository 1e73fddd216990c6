//! The Realtime API's messages as Rust types, with the exact JSON the API uses.
//!
//! - [`http`]: minting client secrets (`POST /v1/realtime/client_secrets`) and the JSON error body.
//! - [`events`]: what travels on the `oai-events` data channel, both ways.
//! - [`responses`]: the Responses API (`POST /v1/responses`) with structured output, which the
//!   feedback job uses.
//!
//! Parsing is lenient where the API evolves (unknown fields are ignored, unknown event types
//! become [`events::ServerEvent::Unknown`]) and strict where a mistake would be silent (required
//! fields are required). Beta names that the GA API renamed are accepted as aliases. A `null`
//! where OpenAI's schema allows one (an error's `type` or `message`, a transcript `delta`) reads as
//! empty, and a mint answer whose session echo cannot be read still gives its secret.

pub mod events;
pub mod http;
mod lenient;
pub mod responses;
pub mod session;

pub use events::{ClientEvent, ServerEvent};
pub use session::SessionConfig;
