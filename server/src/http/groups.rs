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

pub async fn list(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<ListGroupsQuery>,
) -> HttpResult<Json<GroupList>> {
    Ok(Json(app.list_groups(&c.uid, q).await?))
}

pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<Group>> {
    Ok(Json(app.get_group(&c.uid, &guid).await?))
}

pub async fn join(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<Group>> {
    Ok(Json(app.join_group(&c.uid, &guid).await?))
}

pub async fn leave(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<StatusCode> {
    app.leave_group(&c.uid, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
) -> HttpResult<Json<MemberList>> {
    Ok(Json(app.group_members(&c.uid, &guid).await?))
}

pub async fn add_members(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<AddMembers>,
) -> HttpResult<Json<MemberList>> {
    Ok(Json(app.add_members(&c.uid, &guid, req.members).await?))
}

pub async fn kick(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.kick_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn ban(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.ban_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unban(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(guid): Path<String>,
    Body(req): Body<MemberAction>,
) -> HttpResult<StatusCode> {
    app.unban_member(&c.uid, &guid, &req.uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
