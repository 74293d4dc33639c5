//! `/v1/conversations/...`: the caller's conversation list, unread badges, and deleting a
//! conversation for oneself.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::conversations::{
    Conversation, ConversationList, ConversationsQuery, UnreadCounts,
};

use super::extract::{HttpResult, Params, Path, UserCaller};
use crate::hub::Origin;
use crate::service::AppRef;

#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", security(("bearer" = [])), params(ConversationsQuery), responses((status = 200, body = ConversationList, description = "A page of the caller's conversations, newest first")))]
pub async fn list(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<ConversationsQuery>,
) -> HttpResult<Json<ConversationList>> {
    Ok(Json(app.conversations(&c.uid, q).await?))
}

#[utoipa::path(get, path = "/v1/conversations/unread", tag = "conversations", security(("bearer" = [])), responses((status = 200, body = UnreadCounts, description = "Unread messages overall, per user and per group")))]
pub async fn unread(State(app): State<AppRef>, c: UserCaller) -> HttpResult<Json<UnreadCounts>> {
    Ok(Json(app.unread_counts(&c.uid).await?))
}

#[utoipa::path(get, path = "/v1/conversations/{kind}/{with}", tag = "conversations", security(("bearer" = [])), params(("kind" = String, Path, description = "`user` or `group`", example = "user"), ("with" = String, Path, description = "The other user's uid, or the guid", example = "bob")), responses((status = 200, body = Conversation, description = "The conversation")))]
pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path((kind, with)): Path<(String, String)>,
) -> HttpResult<Json<Conversation>> {
    Ok(Json(app.conversation(&c.uid, &kind, &with).await?))
}

#[utoipa::path(delete, path = "/v1/conversations/{kind}/{with}", tag = "conversations", security(("bearer" = [])), params(("kind" = String, Path, description = "`user` or `group`", example = "user"), ("with" = String, Path, description = "The other user's uid, or the guid", example = "bob")), responses((status = 204, description = "Deleted for the caller")))]
pub async fn delete(
    State(app): State<AppRef>,
    c: UserCaller,
    Path((kind, with)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    app.delete_conversation(Origin::rest(&c.uid), &kind, &with)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
