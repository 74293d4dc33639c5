//! Wire protocol shared by the Chinwag SDK and `chinwag-server`.
//!
//! Everything that crosses the network is defined here once, so client and server cannot drift:
//! the data model ([`model`]), the WebSocket frames ([`frames`]), the REST bodies ([`rest`]),
//! error codes ([`errors`]), close codes ([`close`]), input rules ([`limits`]) and the ids
//! clients and the server mint ([`ids`]).
//! `docs/protocol.md` describes the same thing for people writing other clients.

pub mod close;
pub mod conversations;
pub mod errors;
pub mod frames;
pub mod ids;
pub mod limits;
pub mod mentions;
pub mod model;
pub mod rest;

pub use errors::{ApiError, ErrorCode};
pub use frames::{ClientFrame, Event, EventFrame, ServerFrame};

/// Version of the WebSocket protocol. A client sends it as the `v` query parameter; a server
/// that does not speak it closes with [`close::PROTOCOL_UNSUPPORTED`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Path of the WebSocket endpoint on the server's HTTP port.
pub const WS_PATH: &str = "/v1/ws";

/// Milliseconds since the Unix epoch, the time unit of every timestamp on the wire.
pub type Millis = i64;
