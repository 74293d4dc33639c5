//! Error codes shared by REST answers (`{code, message}`) and WebSocket `error` frames.

use serde::{Deserialize, Serialize};

/// A machine-readable error code. New codes may be added; clients treat unknown ones as
/// [`ErrorCode::Internal`]-like failures and show the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request body or query is not valid JSON or misses a required field.
    BadRequest,
    /// A field has a value outside its rules (see the message).
    InvalidArgument,
    /// Text longer than 64 KiB.
    TextTooLong,
    /// A message whose serialized size is above the stored-message limit (512 KiB), so that every
    /// stored message fits in a frame any client accepts.
    MessageTooLarge,
    /// A count quota is used up (groups created, groups joined, members of a group).
    QuotaExceeded,
    /// A WebSocket frame that is not valid JSON or not a known frame type.
    MalformedFrame,
    /// No credentials where some are required.
    Unauthorized,
    /// The auth key does not match.
    InvalidAuthKey,
    /// The API key does not match.
    InvalidApiKey,
    /// The token is unknown, malformed or revoked.
    InvalidToken,
    /// The user is deactivated.
    UserDeactivated,
    /// The caller is authenticated but not allowed to do this.
    Forbidden,
    /// The caller is not a member of the group.
    NotAMember,
    /// The other user blocked the caller, or the caller blocked them (direct conversations).
    Blocked,
    /// The caller is banned from the group.
    Banned,
    /// The caller is already a member of the group.
    AlreadyMember,
    /// The group's owner cannot be kicked, banned, demoted, or leave.
    OwnerRule,
    UserNotFound,
    GroupNotFound,
    MessageNotFound,
    CallNotFound,
    UserExists,
    GroupExists,
    /// The message was deleted and cannot be edited.
    MessageDeleted,
    /// The call is not in a state that allows this (e.g. accepting an ended call).
    CallState,
    /// No such endpoint.
    NotFound,
    /// The endpoint exists but not with this HTTP method.
    MethodNotAllowed,
    /// Too many requests; retry after the given delay.
    RateLimited,
    /// The feature is switched off for now; a `throttled` frame said for how long.
    FeatureThrottled,
    /// The request named an app id this server does not serve.
    AppMismatch,
    /// The server failed; the request may be retried.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::TextTooLong => "TEXT_TOO_LONG",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::MalformedFrame => "MALFORMED_FRAME",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::InvalidAuthKey => "INVALID_AUTH_KEY",
            ErrorCode::InvalidApiKey => "INVALID_API_KEY",
            ErrorCode::InvalidToken => "INVALID_TOKEN",
            ErrorCode::UserDeactivated => "USER_DEACTIVATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotAMember => "NOT_A_MEMBER",
            ErrorCode::Blocked => "BLOCKED",
            ErrorCode::Banned => "BANNED",
            ErrorCode::AlreadyMember => "ALREADY_MEMBER",
            ErrorCode::OwnerRule => "OWNER_RULE",
            ErrorCode::UserNotFound => "USER_NOT_FOUND",
            ErrorCode::GroupNotFound => "GROUP_NOT_FOUND",
            ErrorCode::MessageNotFound => "MESSAGE_NOT_FOUND",
            ErrorCode::CallNotFound => "CALL_NOT_FOUND",
            ErrorCode::UserExists => "USER_EXISTS",
            ErrorCode::GroupExists => "GROUP_EXISTS",
            ErrorCode::MessageDeleted => "MESSAGE_DELETED",
            ErrorCode::CallState => "CALL_STATE",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::FeatureThrottled => "FEATURE_THROTTLED",
            ErrorCode::AppMismatch => "APP_MISMATCH",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The HTTP status a REST answer with this code carries.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::InvalidArgument
            | ErrorCode::TextTooLong
            | ErrorCode::MalformedFrame
            | ErrorCode::AppMismatch => 400,
            ErrorCode::Unauthorized
            | ErrorCode::InvalidAuthKey
            | ErrorCode::InvalidApiKey
            | ErrorCode::InvalidToken => 401,
            ErrorCode::UserDeactivated
            | ErrorCode::Forbidden
            | ErrorCode::NotAMember
            | ErrorCode::Blocked
            | ErrorCode::Banned
            | ErrorCode::OwnerRule
            | ErrorCode::QuotaExceeded => 403,
            ErrorCode::UserNotFound
            | ErrorCode::GroupNotFound
            | ErrorCode::MessageNotFound
            | ErrorCode::CallNotFound
            | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::MessageTooLarge => 413,
            ErrorCode::UserExists
            | ErrorCode::GroupExists
            | ErrorCode::AlreadyMember
            | ErrorCode::MessageDeleted
            | ErrorCode::CallState => 409,
            ErrorCode::RateLimited | ErrorCode::FeatureThrottled => 429,
            ErrorCode::Internal => 500,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every failed REST answer, and the payload of a WebSocket `error` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Set with `RATE_LIMITED` and `FEATURE_THROTTLED`: how long to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::FeatureThrottled,
            ErrorCode::NotAMember,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
