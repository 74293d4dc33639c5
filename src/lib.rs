//! Chinwag: a real-time chat SDK with a Rust core and a C ABI.
//!
//! The core (connection state machine, session, transport) is being built; today this crate
//! exposes the shared wire protocol and the version entry points of the C ABI.

pub mod ffi;

/// The wire protocol shared with `chinwag-server`.
pub use chinwag_protocol as protocol;
