//! Chinwag: a real-time chat SDK with a Rust core and a C ABI.
//!
//! The core (this crate minus [`ffi`]) knows nothing of C: [`Client`] runs one connection task
//! per client on a process-wide tokio runtime and delivers [`Event`]s to [`Listener`]s on a
//! dispatcher thread of its own, or, with [`DispatchMode::App`], on the app's thread that calls
//! [`Client::dispatch`]. The [`ffi`] module converts that API to the C ABI in
//! `include/chinwag.h`.

// `unsafe` and exported symbols live in `ffi` only (which allows them).
#![deny(unsafe_code)]

pub mod api;
pub mod backoff;
pub mod client;
pub mod completion;
mod connection;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod ffi;
mod http;
mod readiness;
mod runtime;
mod saver;
pub mod settings;
pub mod state;
pub mod store;
mod tls;
mod transport;

pub use api::conversations::ConversationsRequest;
pub use api::requests::{MessagesRequest, Page, UserFilters, UsersRequest};
pub use client::{Client, InitOptions};
pub use dispatch::Listener;
pub use error::{Error, ErrorCode, Result};
pub use event::{Event, ListenerKind, LogLevel};
pub use settings::{DispatchMode, Settings, Timings};
pub use state::{ConnectionState, Reason, StateChange};
pub use store::{SavedSession, SessionStore};

/// The wire protocol shared with `chinwag-server`.
pub use chinwag_protocol as protocol;
