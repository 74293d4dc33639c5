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

pub async fn list(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<ConversationsQuery>,
) -> HttpResult<Json<ConversationList>> {
    Ok(Json(app.conversations(&c.uid, q).await?))
}

pub async fn unread(State(app): State<AppRef>, c: UserCaller) -> HttpResult<Json<UnreadCounts>> {
    Ok(Json(app.unread_counts(&c.uid).await?))
}

pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path((kind, with)): Path<(String, String)>,
) -> HttpResult<Json<Conversation>> {
    Ok(Json(app.conversation(&c.uid, &kind, &with).await?))
}

pub async fn delete(
    State(app): State<AppRef>,
    c: UserCaller,
    Path((kind, with)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    app.delete_conversation(Origin::rest(&c.uid), &kind, &with)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
