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

#[utoipa::path(post, path = "/v1/login", tag = "session", security(()), request_body = LoginRequest, responses((status = 200, body = TokenResponse, description = "A new token for the user")))]
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

#[utoipa::path(post, path = "/v1/logout", tag = "session", security(("bearer" = [])), responses((status = 204, description = "The caller's token is revoked")))]
pub async fn logout(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<StatusCode> {
    app.logout(&caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me", tag = "session", security(("bearer" = [])), responses((status = 200, body = User, description = "The caller")))]
pub async fn me(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<Json<User>> {
    Ok(Json(app.get_user(&caller.uid, &PresenceView::All).await?))
}

/// The caller's newest event sequence: where a client that logged in with a token resumes.
#[utoipa::path(get, path = "/v1/me/position", tag = "session", security(("bearer" = [])), responses((status = 200, body = Position, description = "The caller's newest event sequence")))]
pub async fn position(State(app): State<AppRef>, caller: UserCaller) -> HttpResult<Json<Position>> {
    Ok(Json(app.position(&caller.uid).await?))
}

/// Creating users takes the API key or, for development, the auth key.
#[utoipa::path(post, path = "/v1/users", tag = "users", security(("api_key" = []), ("auth_key" = [])), request_body = CreateUser, responses((status = 201, body = User, description = "The user, created")))]
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

#[utoipa::path(get, path = "/v1/users", tag = "users", security(("bearer" = []), ("api_key" = [])), params(ListUsersQuery), responses((status = 200, body = UserList, description = "A page of users")))]
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

#[utoipa::path(get, path = "/v1/users/{uid}", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = User, description = "The user")))]
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

#[utoipa::path(patch, path = "/v1/users/{uid}", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), request_body = UpdateUser, responses((status = 200, body = User, description = "The user, updated (the user itself or the backend; only the backend changes `role`)")))]
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

#[utoipa::path(post, path = "/v1/users/{uid}/tokens", tag = "users", security(("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 201, body = TokenResponse, description = "A new token for the user")))]
pub async fn mint_token(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<(StatusCode, Json<TokenResponse>)> {
    Ok((StatusCode::CREATED, Json(app.mint_token(&uid).await?)))
}

#[utoipa::path(delete, path = "/v1/users/{uid}/tokens", tag = "users", security(("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = Revoked, description = "Every token of the user is revoked")))]
pub async fn revoke_tokens(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<Revoked>> {
    let revoked = app.revoke_tokens(&uid).await?;
    Ok(Json(Revoked {
        revoked: revoked as u64,
    }))
}

/// Answer of `DELETE /v1/users/{uid}/tokens`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// How many tokens were revoked.
    pub revoked: u64,
}

#[utoipa::path(post, path = "/v1/users/{uid}/deactivate", tag = "users", security(("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = User, description = "The user, deactivated")))]
pub async fn deactivate(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<User>> {
    Ok(Json(app.set_deactivated(&uid, true).await?))
}

#[utoipa::path(post, path = "/v1/users/{uid}/activate", tag = "users", security(("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = User, description = "The user, active again")))]
pub async fn activate(
    State(app): State<AppRef>,
    _admin: AdminCaller,
    Path(uid): Path<String>,
) -> HttpResult<Json<User>> {
    Ok(Json(app.set_deactivated(&uid, false).await?))
}

#[utoipa::path(get, path = "/v1/users/{uid}/friends", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = UserList, description = "The user's friends")))]
pub async fn list_friends(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
) -> HttpResult<Json<UserList>> {
    caller.require_self_or_admin(&uid)?;
    Ok(Json(app.list_friends(&uid).await?))
}

#[utoipa::path(post, path = "/v1/users/{uid}/friends", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), request_body = FriendsRequest, responses((status = 200, body = UserList, description = "The user's friends afterwards (a user's own ask waits for the other's)")))]
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

#[utoipa::path(get, path = "/v1/users/{uid}/friend_requests", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice")), responses((status = 200, body = FriendRequests, description = "Asks waiting for an answer")))]
pub async fn friend_requests(
    State(app): State<AppRef>,
    caller: Caller,
    Path(uid): Path<String>,
) -> HttpResult<Json<FriendRequests>> {
    caller.require_self_or_admin(&uid)?;
    Ok(Json(app.friend_requests(&uid).await?))
}

#[utoipa::path(delete, path = "/v1/users/{uid}/friends/{friend}", tag = "users", security(("bearer" = []), ("api_key" = [])), params(("uid" = String, Path, description = "A user's uid", example = "alice"), ("friend" = String, Path, description = "The friend's uid", example = "bob")), responses((status = 204, description = "No longer friends (or the ask is withdrawn or declined)")))]
pub async fn remove_friend(
    State(app): State<AppRef>,
    caller: Caller,
    Path((uid, friend)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    caller.require_self_or_admin(&uid)?;
    app.remove_friend(&uid, &friend).await?;
    Ok(StatusCode::NO_CONTENT)
}
