//! `/v1/me/blocked/...`: the caller's blocked users.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::rest::{BlockUsers, UserList};

use super::extract::{Body, HttpResult, Path, UserCaller};
use crate::service::AppRef;

#[utoipa::path(post, path = "/v1/me/blocked", tag = "users", security(("bearer" = [])), request_body = BlockUsers, responses((status = 200, body = UserList, description = "Every user the caller blocks")))]
pub async fn block(
    State(app): State<AppRef>,
    c: UserCaller,
    Body(req): Body<BlockUsers>,
) -> HttpResult<Json<UserList>> {
    Ok(Json(app.block_users(&c.uid, req.uids).await?))
}

#[utoipa::path(get, path = "/v1/me/blocked", tag = "users", security(("bearer" = [])), responses((status = 200, body = UserList, description = "Every user the caller blocks")))]
pub async fn list(State(app): State<AppRef>, c: UserCaller) -> HttpResult<Json<UserList>> {
    Ok(Json(app.blocked_users(&c.uid).await?))
}

#[utoipa::path(delete, path = "/v1/me/blocked/{uid}", tag = "users", security(("bearer" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 204, description = "Unblocked")))]
pub async fn unblock(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(uid): Path<String>,
) -> HttpResult<StatusCode> {
    app.unblock_user(&c.uid, &uid).await?;
    Ok(StatusCode::NO_CONTENT)
}
