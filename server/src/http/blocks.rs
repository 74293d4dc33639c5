//! `/v1/me/blocked/...`: the caller's blocked users.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::rest::{BlockUsers, UserList};

use super::extract::{Body, HttpResult, Path, UserCaller};
use crate::service::AppRef;

pub async fn block(
    State(app): State<AppRef>,
    c: UserCaller,
    Body(req): Body<BlockUsers>,
) -> HttpResult<Json<UserList>> {
    Ok(Json(app.block_users(&c.uid, req.uids).await?))
}

pub async fn list(State(app): State<AppRef>, c: UserCaller) -> HttpResult<Json<UserList>> {
    Ok(Json(app.blocked_users(&c.uid).await?))
}

pub async fn unblock(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(uid): Path<String>,
) -> HttpResult<StatusCode> {
    app.unblock_user(&c.uid, &uid).await?;
    Ok(StatusCode::NO_CONTENT)
}
