//! `chinwag-server`: the self-hostable Chinwag backend.
//!
//! One HTTP port serves the REST API and the WebSocket endpoint (plain or TLS). State lives in
//! SQLite. [`start`] runs a server inside the caller's tokio runtime and returns a
//! [`ServerHandle`] with the bound address, which is how tests and the SDK's demo embed it.

pub mod config;
mod http;
mod hub;
mod listener;
mod service;
mod session;
mod store;

pub use config::{Config, DbLocation, FeatureLimit, PresenceModes, TlsFiles};
pub use listener::{start, ServerHandle};
