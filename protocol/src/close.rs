//! WebSocket close codes and what a client must do after each.
//!
//! Codes fall in three families that a client can tell apart by number alone:
//! - retry with backoff: 1000-1015 and 4000-4099 (and any code this version does not know);
//! - retry after a delay: 4100-4199, the close reason is the delay in milliseconds (decimal);
//! - do not retry: 4400-4499; the session needs a new login or an explicit connect.

/// Server is shutting down or restarting: reconnect with backoff.
pub const SERVICE_RESTART: u16 = 1012;
/// A frame was larger than the server reads (`limits::MAX_FRAME_BYTES`); do not resend it.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Unexpected server error: reconnect with backoff.
pub const INTERNAL_ERROR: u16 = 1011;
/// The client sent nothing (not even a pong) for longer than the heartbeat bound.
pub const HEARTBEAT_TIMEOUT: u16 = 4000;
/// The client sent too many malformed frames in a row.
pub const TOO_MANY_MALFORMED: u16 = 4001;
/// The client did not read its frames fast enough and its send queue overflowed; it will get the
/// durable events it missed on resume.
pub const SLOW_CONSUMER: u16 = 4002;

/// The user already has as many open sockets as the server allows (`--max-sockets-per-user`);
/// reconnect with backoff (one of the others may close meanwhile).
pub const TOO_MANY_SOCKETS: u16 = 4003;

/// The server is overloaded, or the client address made too many upgrade attempts or failed
/// credential checks; the reason holds the delay in milliseconds.
pub const TRY_AGAIN_LATER: u16 = 4100;

/// The upgrade request was malformed (bad query parameter).
pub const BAD_REQUEST: u16 = 4400;
/// The token is unknown, malformed or revoked (including by logout).
pub const TOKEN_INVALID: u16 = 4401;
/// The user was deactivated.
pub const USER_DEACTIVATED: u16 = 4403;
/// The client asked for an app id that this server does not serve.
pub const APP_MISMATCH: u16 = 4404;
/// The client speaks a protocol version the server does not.
pub const PROTOCOL_UNSUPPORTED: u16 = 4406;

/// What a client does after the socket closed with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Reconnect with the normal backoff.
    RetryWithBackoff,
    /// Reconnect no sooner than this many milliseconds (or later, if the backoff says so).
    RetryAfter(u64),
    /// Stop: the session cannot be used again without the app's action.
    DoNotRetry,
}

/// Classifies a close code (and its reason, for the delay family).
pub fn action_for(code: u16, reason: &str) -> CloseAction {
    match code {
        4400..=4499 => CloseAction::DoNotRetry,
        4100..=4199 => CloseAction::RetryAfter(reason.trim().parse().unwrap_or(5_000)),
        _ => CloseAction::RetryWithBackoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(action_for(TOKEN_INVALID, ""), CloseAction::DoNotRetry);
        assert_eq!(
            action_for(PROTOCOL_UNSUPPORTED, ""),
            CloseAction::DoNotRetry
        );
        assert_eq!(
            action_for(TRY_AGAIN_LATER, "2500"),
            CloseAction::RetryAfter(2500)
        );
        assert_eq!(
            action_for(TRY_AGAIN_LATER, "junk"),
            CloseAction::RetryAfter(5000)
        );
        assert_eq!(
            action_for(SERVICE_RESTART, ""),
            CloseAction::RetryWithBackoff
        );
        assert_eq!(action_for(4999, ""), CloseAction::RetryWithBackoff);
        assert_eq!(
            action_for(TOO_MANY_SOCKETS, ""),
            CloseAction::RetryWithBackoff
        );
    }
}
