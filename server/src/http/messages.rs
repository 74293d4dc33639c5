//! `/v1/messages/...` and `/v1/calls/...`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chinwag_protocol::model::{Call, Message, NewMessage};
use chinwag_protocol::rest::{EditMessage, EventResult, HistoryQuery, MessageList};
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

pub async fn history(
    State(app): State<AppRef>,
    c: UserCaller,
    Params(q): Params<HistoryQuery>,
) -> HttpResult<Json<MessageList>> {
    Ok(Json(app.history(&c.uid, q).await?))
}

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

pub async fn get(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(id): Path<String>,
) -> HttpResult<Json<Message>> {
    Ok(Json(app.get_message(&c.uid, message_id(&id)?).await?))
}

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

pub async fn get_call(
    State(app): State<AppRef>,
    c: UserCaller,
    Path(sid): Path<String>,
) -> HttpResult<Json<Call>> {
    Ok(Json(app.get_call(&c.uid, &sid).await?))
}
