//! `/v1/login`, `/v1/logout`, `/v1/me` and `/v1/users/...`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chinwag_protocol::model::User;
use chinwag_protocol::rest::{
    CreateUser, FriendRequests, FriendsRequest, ListUsersQuery, LoginRequest, Position,
    TokenResponse, UpdateUser, UserList,
};
use chinwag_protocol::{ApiError, ErrorCode};

use super::extract::{
    check_app, AdminCaller, Body, Caller, ClientIp, HttpResult, Params, Path, UserCaller,
};
use crate::service::users::PresenceView;
use crate::service::AppRef;

pub async fn login(
    State(app): State<AppRef>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(req): Body<LoginRequest>,
) -> HttpResult<Json<TokenResponse>> {
    check_app(&app, &headers)?;
    let result = app.login(&req.uid, &req.auth_key, ip).await;
    crate::metrics::get().login(match &result {
        Ok(_) => "ok",
        Err(e) if e.code == chinwag_protocol::ErrorCode::RateLimited => "rate_limited",
        Err(_) => "failed",
    });
    Ok(Json(result?))
}

pub async fn logout(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<StatusCode> {
    app.logout(&caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<Json<User>> {
    Ok(Json(app.get_user(&caller.uid, &PresenceView::All).await?))
}

/// The caller's newest event sequence: where a client that logged in with a token resumes.
pub async fn position(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<Json<Position>> {
    Ok(Json(app.position(&caller.uid).await?))
}

/// Creating users takes the API key or, for development, the auth key.
pub async fn create(
    State(app): State<AppRef>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(req): Body<CreateUser>,
) -> HttpResult<(StatusCode, Json<User>)> {
    check_app(&app, &headers)?;
    let api = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let auth = headers.get("x-auth-key").and_then(|v| v.to_str().ok());
    match (api, auth) {
        (Some(k), _) => app.check_key(
            k,
            &app.config.api_key,
            ip,
            ErrorCode::InvalidApiKey,
            "API key",
        )?,
        (None, Some(k)) => app.check_key(
            k,
            &app.config.auth_key,
            ip,
            ErrorCode::InvalidAuthKey,
            "auth key",
        )?,
        (None, None) => {
            return Err(
                ApiError::new(ErrorCode::Unauthorized, "send X-Api-Key or X-Auth-Key").into(),
            )
        }
    }
    Ok((StatusCode::CREATED, Json(app.create_user(req).await?)))
}

pub async fn list(
    State(app): State<AppRef>,
    caller: Caller,
    Params(q): Params<ListUsersQuery>,
) -> HttpResult<Json<UserList>> {
    let view = app.presence_view(caller.uid()).await?;
    let mut list = app.list_users(q, &view).await?;
    list.users = app.flag_blocked_for(caller.uid(), list.users).await?;
    Ok(Json(list))
}

pub async fn get(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
) -> HttpResult<Json<User>> {
    let view = app.presence_view(caller.uid()).await?;
    let user = app.get_user(&uid, &view).await?;
    let mut flagged = app.flag_blocked_for(caller.uid(), vec![user]).await?;
    match flagged.pop() {
        Some(user) => Ok(Json(user)),
        None => Err(chinwag_protocol::ApiError::new(ErrorCode::Internal, "user vanished").into()),
    }
}

pub async fn update(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
    Body(req): Body<UpdateUser>,
) -> HttpResult<Json<User>> {
    caller.require_self_or_admin(&uid)?;
    if req.role.is_some() && !matches!(caller, Caller::Admin) {
        // Roles decide who sees whose presence; only the app's backend assigns them.
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only the app's backend (X-Api-Key) can change a role",
        )
        .into());
    }
    Ok(Json(app.update_user(&uid, req).await?))
}

pub async fn mint_token(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<(StatusCode, Json<TokenResponse>)> {
    Ok((StatusCode::CREATED, Json(app.mint_token(&uid).await?)))
}

pub async fn revoke_tokens(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<serde_json::Value>> {
    let revoked = app.revoke_tokens(&uid).await?;
    Ok(Json(serde_json::json!({ "revoked": revoked })))
}

pub async fn deactivate(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<User>> {
    Ok(Json(app.set_deactivated(&uid, true).await?))
}

pub async fn activate(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<User>> {
    Ok(Json(app.set_deactivated(&uid, false).await?))
}

pub async fn list_friends(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
) -> HttpResult<Json<UserList>> {
    caller.require_self_or_admin(&uid)?;
    Ok(Json(app.list_friends(&uid).await?))
}

pub async fn add_friends(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
    Body(req): Body<FriendsRequest>,
) -> HttpResult<Json<UserList>> {
    caller.require_self_or_admin(&uid)?;
    let by_backend = matches!(caller, Caller::Admin);
    Ok(Json(app.add_friends(&uid, req.uids, by_backend).await?))
}

pub async fn friend_requests(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
) -> HttpResult<Json<FriendRequests>> {
    caller.require_self_or_admin(&uid)?;
    Ok(Json(app.friend_requests(&uid).await?))
}

pub async fn remove_friend(
    State(app): State<AppRef>,
    caller: Caller,
    Path((uid, friend)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    caller.require_self_or_admin(&uid)?;
    app.remove_friend(&uid, &friend).await?;
    Ok(StatusCode::NO_CONTENT)
}
