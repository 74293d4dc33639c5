//! Result codes and errors. The numbers are the C ABI's `chinwag_result` values: grouped by
//! family (hundreds digit), never reused.

use chinwag_protocol::{ApiError, ErrorCode as ServerCode};

/// What went wrong, as a stable number per cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    Ok = 0,
    // 1xx: the caller's arguments.
    NullArgument = 100,
    InvalidUtf8 = 101,
    InvalidArgument = 102,
    TextTooLong = 103,
    // 2xx: the client's state does not allow the call.
    NotLoggedIn = 200,
    LoginInProgress = 201,
    NotConnected = 202,
    LoggedOut = 203,
    ClientFreed = 204,
    ReentrantCall = 205,
    Cancelled = 206,
    ListenerExists = 207,
    CallInProgress = 208,
    // 3xx: network and transport.
    Network = 300,
    Timeout = 301,
    Tls = 302,
    Protocol = 303,
    // 4xx: the server said no.
    AuthFailed = 400,
    SessionExpired = 401,
    UserDeactivated = 402,
    AppMismatch = 403,
    RateLimited = 404,
    FeatureThrottled = 405,
    Forbidden = 406,
    NotFound = 407,
    ServerRejected = 408,
    UserExists = 409,
    // 5xx: the send queue.
    QueueFull = 500,
    QueueExpired = 501,
    Disconnected = 502,
    // 9xx: this library.
    Storage = 900,
    Internal = 901,
    Panic = 902,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::Ok,
        ErrorCode::NullArgument,
        ErrorCode::InvalidUtf8,
        ErrorCode::InvalidArgument,
        ErrorCode::TextTooLong,
        ErrorCode::NotLoggedIn,
        ErrorCode::LoginInProgress,
        ErrorCode::NotConnected,
        ErrorCode::LoggedOut,
        ErrorCode::ClientFreed,
        ErrorCode::ReentrantCall,
        ErrorCode::Cancelled,
        ErrorCode::ListenerExists,
        ErrorCode::CallInProgress,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::Tls,
        ErrorCode::Protocol,
        ErrorCode::AuthFailed,
        ErrorCode::SessionExpired,
        ErrorCode::UserDeactivated,
        ErrorCode::AppMismatch,
        ErrorCode::RateLimited,
        ErrorCode::FeatureThrottled,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::ServerRejected,
        ErrorCode::UserExists,
        ErrorCode::QueueFull,
        ErrorCode::QueueExpired,
        ErrorCode::Disconnected,
        ErrorCode::Storage,
        ErrorCode::Internal,
        ErrorCode::Panic,
    ];

    /// The code's name, e.g. `"NOT_LOGGED_IN"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "OK",
            ErrorCode::NullArgument => "NULL_ARGUMENT",
            ErrorCode::InvalidUtf8 => "INVALID_UTF8",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::TextTooLong => "TEXT_TOO_LONG",
            ErrorCode::NotLoggedIn => "NOT_LOGGED_IN",
            ErrorCode::LoginInProgress => "LOGIN_IN_PROGRESS",
            ErrorCode::NotConnected => "NOT_CONNECTED",
            ErrorCode::LoggedOut => "LOGGED_OUT",
            ErrorCode::ClientFreed => "CLIENT_FREED",
            ErrorCode::ReentrantCall => "REENTRANT_CALL",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::ListenerExists => "LISTENER_EXISTS",
            ErrorCode::CallInProgress => "CALL_IN_PROGRESS",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Tls => "TLS",
            ErrorCode::Protocol => "PROTOCOL",
            ErrorCode::AuthFailed => "AUTH_FAILED",
            ErrorCode::SessionExpired => "SESSION_EXPIRED",
            ErrorCode::UserDeactivated => "USER_DEACTIVATED",
            ErrorCode::AppMismatch => "APP_MISMATCH",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::FeatureThrottled => "FEATURE_THROTTLED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::ServerRejected => "SERVER_REJECTED",
            ErrorCode::UserExists => "USER_EXISTS",
            ErrorCode::QueueFull => "QUEUE_FULL",
            ErrorCode::QueueExpired => "QUEUE_EXPIRED",
            ErrorCode::Disconnected => "DISCONNECTED",
            ErrorCode::Storage => "STORAGE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Panic => "PANIC",
        }
    }

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
