//! `/v1/messages/{id}/thread`: the replies to one message, paged.

use axum::extract::State;
use axum::Json;
use chinwag_protocol::rest::{MessageList, ThreadQuery};

use super::extract::{HttpResult, Params, Path, UserCaller};
use super::messages::message_id;
use crate::service::AppRef;

#[utoipa::path(get, path = "/v1/messages/{id}/thread", tag = "messages", security(("bearer" = [])), params(("id" = String, Path, description = "The parent message's id (a positive integer)", example = "1"), ThreadQuery), responses((status = 200, body = MessageList, description = "A page of the replies to the message, oldest first")))]
pub async fn thread(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(id): Path<String>,
    Params(q): Params<ThreadQuery>,
) -> HttpResult<Json<MessageList>> {
    Ok(Json(app.thread(&c.uid, message_id(&id)?, q).await?))
}
