//! `/v1/groups/...`: every call acts as the bearer-token user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::model::{Group, GroupMember};
use chinwag_protocol::rest::{
    AddMembers, ChangeScope, CreateGroup, GroupList, ListGroupsQuery, MemberAction, MemberList,
};

use super::extract::{Body, HttpResult, Params, Path, UserCaller};
use crate::service::AppRef;

#[utoipa::path(post, path = "/v1/groups", tag = "groups", security(("bearer" = [])), request_body = CreateGroup, responses((status = 201, body = Group, description = "The group, created; the caller owns it")))]
pub async fn create(
    State(app): State<AppRef>,
    c: UserCaller,
    Body(req): Body<CreateGroup>,
) -> HttpResult<(StatusCode, Json<Group>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_group(&c.uid, req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/groups", tag = "groups", security(("bearer" = [])), params(ListGroupsQuery), responses((status = 200, body = GroupList, description = "A page of groups")))]
pub async fn list(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<ListGroupsQuery>,
) -> HttpResult<Json<GroupList>> {
    Ok(Json(app.list_groups(&c.uid, q).await?))
}

#[utoipa::path(get, path = "/v1/groups/{guid}", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), responses((status = 200, body = Group, description = "The group")))]
pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<Group>> {
    Ok(Json(app.get_group(&c.uid, &guid).await?))
}

#[utoipa::path(post, path = "/v1/groups/{guid}/join", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), responses((status = 200, body = Group, description = "Joined")))]
pub async fn join(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<Group>> {
    Ok(Json(app.join_group(&c.uid, &guid).await?))
}

#[utoipa::path(post, path = "/v1/groups/{guid}/leave", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), responses((status = 204, description = "Left")))]
pub async fn leave(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<StatusCode> {
    app.leave_group(&c.uid, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/groups/{guid}/members", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), responses((status = 200, body = MemberList, description = "The members")))]
pub async fn members(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<MemberList>> {
    Ok(Json(app.group_members(&c.uid, &guid).await?))
}

#[utoipa::path(post, path = "/v1/groups/{guid}/members", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), request_body = AddMembers, responses((status = 200, body = MemberList, description = "The members added")))]
pub async fn add_members(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<AddMembers>,
) -> HttpResult<Json<MemberList>> {
    Ok(Json(app.add_members(&c.uid, &guid, req.members).await?))
}

#[utoipa::path(post, path = "/v1/groups/{guid}/kick", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), request_body = MemberAction, responses((status = 204, description = "Kicked")))]
pub async fn kick(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.kick_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/groups/{guid}/ban", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), request_body = MemberAction, responses((status = 204, description = "Banned")))]
pub async fn ban(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.ban_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/groups/{guid}/unban", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1")), request_body = MemberAction, responses((status = 204, description = "Unbanned")))]
pub async fn unban(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.unban_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/v1/groups/{guid}/members/{uid}/scope", tag = "groups", security(("bearer" = [])), params(("guid" = String, Path, description = "A group's guid", example = "g1"), ("uid" = String, Path, description = "A user's uid", example = "alice")), request_body = ChangeScope, responses((status = 200, body = GroupMember, description = "The member with the new scope")))]
pub async fn change_scope(
    State(app): State<AppRef>,
    c: UserCaller,
    Path((guid, uid)): Path<(String, String)>,
    Body(req): Body<ChangeScope>,
) -> HttpResult<Json<GroupMember>> {
    Ok(Json(
        app.change_scope(&c.uid, &guid, &uid, req.scope).await?,
    ))
}
