//! Result codes and errors. The numbers are the C ABI's `chinwag_result` values: grouped by
//! family (hundreds digit), never reused.

use chinwag_protocol::{ApiError, ErrorCode as ServerCode};

/// Declares [`ErrorCode`] from one table: for each code its documentation, variant, number
/// and C name. `build.rs` reads the same table to write the `CHINWAG_RESULT_*` constants (the
/// FFI layer's, and the header's, with this documentation), so a code is added here and
/// nowhere else (the bindings' mirrors are checked against the header by their tests).
macro_rules! result_codes {
    ($($(#[$doc:meta])* $variant:ident = $number:literal, $name:ident;)*) => {
        /// What went wrong, as a stable number per cause.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant = $number,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code's name, e.g. `"NOT_LOGGED_IN"` (the C constant without its
            /// `CHINWAG_RESULT_` prefix).
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => stringify!($name),)*
                }
            }
        }
    };
}

// The table (build.rs parses it: keep one entry per `Variant = number, NAME;` line, its `///`
// documentation right above it).
result_codes! {
    /// Success.
    Ok = 0, OK;
    // 1xx: the caller's arguments.
    /// A required pointer argument was NULL.
    NullArgument = 100, NULL_ARGUMENT;
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101, INVALID_UTF8;
    /// An argument was out of range, empty or malformed (the message says which).
    InvalidArgument = 102, INVALID_ARGUMENT;
    /// A message text was longer than 64 KiB of UTF-8.
    TextTooLong = 103, TEXT_TOO_LONG;
    // 2xx: the client's state does not allow the call.
    /// The call needs a logged-in user.
    NotLoggedIn = 200, NOT_LOGGED_IN;
    /// Another login of this client is still running.
    LoginInProgress = 201, LOGIN_IN_PROGRESS;
    /// The call needs a CONNECTED client (typing, receipts and transient messages are not queued).
    NotConnected = 202, NOT_CONNECTED;
    /// The user logged out (queued sends fail with it).
    LoggedOut = 203, LOGGED_OUT;
    /// The client handle is not live: it was freed (or never created).
    ClientFreed = 204, CLIENT_FREED;
    /// The call cannot run from inside a callback of this client.
    ReentrantCall = 205, REENTRANT_CALL;
    /// The operation was cancelled (its client was freed, or its work dropped unfinished).
    Cancelled = 206, CANCELLED;
    /// A listener with this id already exists.
    ListenerExists = 207, LISTENER_EXISTS;
    /// Another call of this client is still active.
    CallInProgress = 208, CALL_IN_PROGRESS;
    // 3xx: network and transport.
    /// A network failure (connection refused, reset, DNS).
    Network = 300, NETWORK;
    /// The operation timed out.
    Timeout = 301, TIMEOUT;
    /// TLS failed (certificate, handshake).
    Tls = 302, TLS;
    /// The server spoke an unexpected protocol.
    Protocol = 303, PROTOCOL;
    // 4xx: the server said no.
    /// The server rejected the credentials.
    AuthFailed = 400, AUTH_FAILED;
    /// The session's token was rejected or revoked: log in again.
    SessionExpired = 401, SESSION_EXPIRED;
    /// The user is deactivated.
    UserDeactivated = 402, USER_DEACTIVATED;
    /// The server serves another app id.
    AppMismatch = 403, APP_MISMATCH;
    /// The server rate-limited the call.
    RateLimited = 404, RATE_LIMITED;
    /// The feature is throttled by the server for now.
    FeatureThrottled = 405, FEATURE_THROTTLED;
    /// The user may not do this. The error message starts with the server's code: `FORBIDDEN`,
    /// `BLOCKED` (one of the two users of a one-to-one conversation blocked the other: a message,
    /// typing or a call to them is refused), `NOT_A_MEMBER`, `BANNED` or `OWNER_RULE`.
    Forbidden = 406, FORBIDDEN;
    /// The target (user, group, message, listener id) does not exist.
    NotFound = 407, NOT_FOUND;
    /// The server rejected the request for another reason (the message has its code).
    ServerRejected = 408, SERVER_REJECTED;
    /// A user with this uid exists already (creating a user: `chinwag_client_create_user`).
    UserExists = 409, USER_EXISTS;
    // 5xx: the send queue.
    /// The send queue is full.
    QueueFull = 500, QUEUE_FULL;
    /// A queued send expired: the connection was lost for too long.
    QueueExpired = 501, QUEUE_EXPIRED;
    /// A queued send failed because the app disconnected (`chinwag_client_disconnect`).
    Disconnected = 502, DISCONNECTED;
    // 9xx: this library.
    /// The session store failed (file system, or the app's store callbacks).
    Storage = 900, STORAGE;
    /// An internal error of this library.
    Internal = 901, INTERNAL;
    /// A panic inside this library was caught at the API boundary.
    Panic = 902, PANIC;
}

impl ErrorCode {
    pub fn from_u32(v: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| *c as u32 == v)
    }
}

/// An error with its code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    /// Maps a server error answer to the SDK's codes; the server's code stays in the message.
    pub fn from_server(e: &ApiError) -> Self {
        let code = match e.code {
            ServerCode::BadRequest | ServerCode::InvalidArgument | ServerCode::MalformedFrame => {
                ErrorCode::InvalidArgument
            }
            ServerCode::TextTooLong => ErrorCode::TextTooLong,
            ServerCode::Unauthorized | ServerCode::InvalidAuthKey | ServerCode::InvalidApiKey => {
                ErrorCode::AuthFailed
            }
            ServerCode::InvalidToken => ErrorCode::SessionExpired,
            ServerCode::UserDeactivated => ErrorCode::UserDeactivated,
            ServerCode::Forbidden
            | ServerCode::Blocked
            | ServerCode::NotAMember
            | ServerCode::Banned
            | ServerCode::OwnerRule => ErrorCode::Forbidden,
            ServerCode::UserNotFound
            | ServerCode::GroupNotFound
            | ServerCode::MessageNotFound
            | ServerCode::CallNotFound
            | ServerCode::NotFound => ErrorCode::NotFound,
            ServerCode::RateLimited => ErrorCode::RateLimited,
            ServerCode::FeatureThrottled => ErrorCode::FeatureThrottled,
            ServerCode::AppMismatch => ErrorCode::AppMismatch,
            ServerCode::UserExists => ErrorCode::UserExists,
            _ => ErrorCode::ServerRejected,
        };
        Error::new(code, format!("{}: {}", e.code.as_str(), e.message))
    }
}

impl From<chinwag_protocol::limits::TextError> for Error {
    fn from(e: chinwag_protocol::limits::TextError) -> Self {
        match e {
            chinwag_protocol::limits::TextError::TooLong(_) => {
                Error::new(ErrorCode::TextTooLong, e.to_string())
            }
            chinwag_protocol::limits::TextError::Empty => Error::invalid(e.to_string()),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(*c as u32), "{} reused", c.name());
            assert_eq!(ErrorCode::from_u32(*c as u32), Some(*c));
        }
        assert_eq!(ErrorCode::from_u32(12345), None);
    }
}
