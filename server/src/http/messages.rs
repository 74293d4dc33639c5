//! `/v1/messages/...` and `/v1/calls/...`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::model::{Call, Message, NewMessage};
use chinwag_protocol::rest::{EditMessage, EventResult, HistoryQuery, MessageList};
use chinwag_protocol::EventFrame;
use chinwag_protocol::{ApiError, ErrorCode};

use super::extract::{Body, HttpResult, Params, Path, UserCaller};
use crate::hub::Origin;
use crate::service::AppRef;

pub(super) fn message_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("{raw:?} is not a message id"),
        )
    })
}

#[utoipa::path(get, path = "/v1/messages", tag = "messages", security(("bearer" = [])), params(HistoryQuery), responses((status = 200, body = MessageList, description = "A page of one conversation's history, oldest first")))]
pub async fn history(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<HistoryQuery>,
) -> HttpResult<Json<MessageList>> {
    Ok(Json(app.history(&c.uid, q).await?))
}

#[utoipa::path(post, path = "/v1/messages", tag = "messages", security(("bearer" = [])), request_body = NewMessage, responses((status = 201, body = EventFrame, description = "The stored message as the caller's event")))]
pub async fn send(
    State(app): State<AppRef>,
    c: UserCaller,
    Body(m): Body<NewMessage>,
) -> HttpResult<(StatusCode, Json<EventResult>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.send_message(Origin::rest(&c.uid), m).await?),
    ))
}

#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", security(("bearer" = [])), params(("id" = String, Path, description = "A message id (a positive integer)", example = "1")), responses((status = 200, body = Message, description = "The message")))]
pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(id): Path<String>,
) -> HttpResult<Json<Message>> {
    Ok(Json(app.get_message(&c.uid, message_id(&id)?).await?))
}

#[utoipa::path(patch, path = "/v1/messages/{id}", tag = "messages", security(("bearer" = [])), params(("id" = String, Path, description = "A message id (a positive integer)", example = "1")), request_body = EditMessage, responses((status = 200, body = EventFrame, description = "The edit as the caller's event")))]
pub async fn edit(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(id): Path<String>,
    Body(e): Body<EditMessage>,
) -> HttpResult<Json<EventResult>> {
    Ok(Json(
        app.edit_message(Origin::rest(&c.uid), message_id(&id)?, e)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/v1/messages/{id}", tag = "messages", security(("bearer" = [])), params(("id" = String, Path, description = "A message id (a positive integer)", example = "1")), responses((status = 200, body = EventFrame, description = "The deletion as the caller's event")))]
pub async fn delete(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(id): Path<String>,
) -> HttpResult<Json<EventResult>> {
    Ok(Json(
        app.delete_message(Origin::rest(&c.uid), message_id(&id)?)
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/calls/{session_id}", tag = "messages", security(("bearer" = [])), params(("session_id" = String, Path, description = "A call's session id")), responses((status = 200, body = Call, description = "The call")))]
pub async fn get_call(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(sid): Path<String>,
) -> HttpResult<Json<Call>> {
    Ok(Json(app.get_call(&c.uid, &sid).await?))
}
