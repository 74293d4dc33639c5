//! `chinwag-server`: the self-hostable Chinwag backend.
//!
//! One HTTP port serves the REST API and the WebSocket endpoint (plain or TLS). State lives in
//! SQLite. [`start`] runs a server inside the caller's tokio runtime and returns a
//! [`ServerHandle`] with the bound address, which is how tests and the SDK's demo embed it.

pub mod backup;
mod bus;
pub mod config;
mod conn;
mod http;
mod hub;
mod listener;
mod metrics;
mod service;
mod session;
mod store;

pub use config::{Config, DbLocation, Durability, FeatureLimit, PresenceModes, TlsFiles};
pub use listener::{start, ServerHandle};
pub use store::postgres::create_database as create_postgres_database;

/// Every HTTP endpoint the server serves, as (method, path template such as
/// `/v1/users/{uid}`); the router is built from the same table.
pub fn routes() -> Vec<(axum::http::Method, &'static str)> {
    http::routes()
}

/// The OpenAPI 3 description of the REST API (`GET /v1/openapi.json`, `docs/openapi.json`).
pub fn openapi_json() -> &'static str {
    http::openapi::json()
}
