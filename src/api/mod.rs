//! Server functions, one file per resource. Each is a public HTTP endpoint: it parses its
//! input, calls a use case in `crate::server`, and maps the result. Paths are explicit so they
//! stay stable (`/api/<endpoint>`).

pub mod auth;
pub mod feedback;
pub mod practice;
pub mod topics;
pub mod voice;
