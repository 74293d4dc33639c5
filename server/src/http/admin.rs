//! `/v1/admin/...`: operator actions with the API key.

use axum::extract::State;
use axum::http::StatusCode;
use chinwag_protocol::rest::ThrottleRequest;
use chinwag_protocol::ApiError;

use super::extract::{AdminCaller, Body, HttpResult};
use crate::service::AppRef;

/// Switches a feature off for every user for `duration_ms` (at most one hour).
pub async fn throttle(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Body(req): Body<ThrottleRequest>,
) -> HttpResult<StatusCode> {
    if req.duration_ms == 0 || req.duration_ms > 3_600_000 {
        return Err(ApiError::new(
            chinwag_protocol::ErrorCode::InvalidArgument,
            "duration_ms must be 1..=3600000",
        )
        .into());
    }
    app.throttle_globally(
        req.feature,
        std::time::Duration::from_millis(req.duration_ms),
    );
    Ok(StatusCode::NO_CONTENT)
}
