//! Messages, edits, deletes, receipts, typing and transient messages.

use crate::store::Db;
use chinwag_protocol::frames::{Feature, TransientMessage, TypingIndicator, TypingTarget};
use chinwag_protocol::limits::{
    check_attachment, check_text, TextError, MAX_ATTACHMENTS, MAX_MESSAGE_BYTES,
};
use chinwag_protocol::model::{
    group_conversation_id, user_conversation_id, Category, Message, NewMessage, Receipt,
    ReceiptKind, ReceiverType, Scope, MEDIA_TYPES,
};
use chinwag_protocol::rest::{EditMessage, HistoryQuery, MessageList};
use chinwag_protocol::{ApiError, ErrorCode, Event, EventFrame, ServerFrame};

use super::quota::Durable;
use super::{
    check_can_address, check_id, check_json, fan_out, fan_out_encoded, invalid, page_limit,
    participants, require_member, App, Deliveries,
};
use crate::hub::Origin;
use crate::store::{self, now_ms};

fn text_error(e: TextError) -> ApiError {
    match e {
        TextError::TooLong(_) => ApiError::new(ErrorCode::TextTooLong, e.to_string()),
        TextError::Empty => invalid(e.to_string()),
    }
}

/// Checks the shape of an edit before anything touches the database.
fn check_edit(edit: &EditMessage) -> Result<(), ApiError> {
    if edit.text.is_none() && edit.data.is_none() && edit.metadata.is_none() {
        return Err(invalid("an edit needs text, data or metadata"));
    }
    if let Some(t) = &edit.text {
        check_text(t).map_err(text_error)?;
    }
    if let Some(d) = &edit.data {
        check_json("data", d, false)?;
    }
    if let Some(m) = &edit.metadata {
        check_json("metadata", m, true)?;
    }
    Ok(())
}

/// Checks the shape of a new message before anything touches the database.
fn validate_new(m: &NewMessage) -> Result<(), ApiError> {
    if let Some(muid) = &m.muid {
        check_id("muid", muid)?;
    }
    check_id("receiver", &m.receiver)?;
    match m.category {
        Category::Message if m.kind == "text" => {
            check_text(m.text.as_deref().unwrap_or("")).map_err(text_error)?;
        }
        Category::Message if MEDIA_TYPES.contains(&m.kind.as_str()) => {
            if m.attachments.is_empty() {
                return Err(invalid(format!("a {} message needs an attachment", m.kind)));
            }
            if let Some(caption) = &m.text {
                check_text(caption).map_err(text_error)?;
            }
        }
        Category::Message => {
            return Err(invalid(format!(
                "type {:?} is not text, image, video, audio or file; use category custom",
                m.kind
            )))
        }
        Category::Custom => {
            check_id("type", &m.kind)?;
            if let Some(text) = &m.text {
                check_text(text).map_err(text_error)?;
            }
            match &m.data {
                Some(d) => check_json("data", d, false)?,
                None => return Err(invalid("a custom message needs data")),
            }
        }
    }
    if m.attachments.len() > MAX_ATTACHMENTS {
        return Err(invalid(format!(
            "a message has at most {MAX_ATTACHMENTS} attachments, not {}",
            m.attachments.len()
        )));
    }
    for a in &m.attachments {
        check_attachment(a).map_err(invalid)?;
    }
    if let Some(md) = &m.metadata {
        check_json("metadata", md, true)?;
    }
    Ok(())
}

/// Checks the total size of a message as stored and sent, so that any event carrying it fits in
/// the frame every client accepts (`limits::MAX_INBOUND_FRAME_BYTES`). Measured on the body of
/// its event named `event` (serialized once, for storage, this check and every socket), less
/// what the event adds around the message: `{"event":"NAME","data":` and `}`.
fn check_message_size(event_body: &str, event: &str) -> Result<(), ApiError> {
    let wrapper = r#"{"event":"","data":}"#.len() + event.len();
    let size = event_body.len().saturating_sub(wrapper);
    if size > MAX_MESSAGE_BYTES {
        return Err(ApiError::new(
            ErrorCode::MessageTooLarge,
            format!("the message is {size} bytes serialized; the limit is {MAX_MESSAGE_BYTES}"),
        ));
    }
    Ok(())
}

/// A history or thread page's category filter: `message` or `custom`, when given.
pub(super) fn check_category_filter(category: Option<&str>) -> Result<(), ApiError> {
    match category {
        Some(c) if Category::parse(c).is_none() => {
            Err(invalid(format!("category {c:?} is not message or custom")))
        }
        _ => Ok(()),
    }
}

pub(super) fn require_message(conn: &Db, id: i64) -> Result<Message, ApiError> {
    store::messages::get(conn, id)?
        .ok_or_else(|| ApiError::new(ErrorCode::MessageNotFound, format!("no message {id}")))
}

/// Checks that `uid` may see a stored message, returning the caller's group scope if any.
pub(super) fn require_access(conn: &Db, m: &Message, uid: &str) -> Result<Option<Scope>, ApiError> {
    match m.receiver_type {
        ReceiverType::User if m.sender == uid || m.receiver == uid => Ok(None),
        // Not the caller's conversation: answer as if it did not exist.
        ReceiverType::User => Err(ApiError::new(
            ErrorCode::MessageNotFound,
            format!("no message {}", m.id),
        )),
        // A private group the caller cannot see: not even which group the message is in.
        ReceiverType::Group => match require_member(conn, &m.receiver, uid) {
            Err(e) if e.code == ErrorCode::GroupNotFound => Err(ApiError::new(
                ErrorCode::MessageNotFound,
                format!("no message {}", m.id),
            )),
            other => other.map(Some),
        },
    }
}

fn receiver_type_param(s: &str) -> Result<ReceiverType, ApiError> {
    ReceiverType::parse(s)
        .ok_or_else(|| invalid(format!("receiver_type {s:?} is not user or group")))
}

impl App {
    /// Stores a message once per (sender, muid) and delivers it to the conversation.
    pub async fn send_message(
        &self,
        origin: Origin,
        msg: NewMessage,
    ) -> Result<EventFrame, ApiError> {
        // Checked here, off the writer; a failure still goes through it, so that over a socket
        // every answer keeps request order.
        let check = validate_new(&msg)
            .and_then(|()| super::mentions::parse_bounded(msg.text.as_deref()))
            .and_then(|m| self.check_durable(&origin.uid, Durable::Send).map(|()| m));
        let weight = super::DEFAULT_WEIGHT
            + msg.text.as_ref().map_or(0, String::len)
            + msg.data.as_ref().map_or(0, |_| 1024)
            + msg.attachments.len() * 256;
        let sender = origin.uid.clone();
        let (stored, own) = self
            .commit_sized(origin, weight, move |c| {
                let mentioned = check?;
                let repeat = match &msg.muid {
                    Some(muid) => store::messages::by_muid(c, &sender, muid)?,
                    // A muid the server makes up now cannot have been stored before.
                    None => None,
                };
                let muid = msg
                    .muid
                    .clone()
                    .unwrap_or_else(chinwag_protocol::ids::new_muid);
                if let Some((existing, seq)) = repeat {
                    let answer = EventFrame {
                        seq,
                        event: Event::Message(existing),
                    };
                    return Ok((
                        false,
                        Deliveries {
                            answer: Some(answer),
                            ..Deliveries::default()
                        },
                    ));
                }
                check_can_address(c, msg.receiver_type, &msg.receiver, &sender)?;
                let conversation_id = match msg.receiver_type {
                    ReceiverType::User => user_conversation_id(&sender, &msg.receiver),
                    ReceiverType::Group => group_conversation_id(&msg.receiver),
                };
                for (what, id) in [("parent_id", msg.parent_id), ("quoted_id", msg.quoted_id)] {
                    if let Some(id) = id {
                        let found = store::messages::get(c, id)?;
                        if found.is_none_or(|m| m.conversation_id != conversation_id) {
                            return Err(invalid(format!(
                                "{what} {id} is not a message of this conversation"
                            )));
                        }
                    }
                }
                let mut message = Message {
                    id: 0,
                    muid,
                    sender: sender.clone(),
                    receiver_type: msg.receiver_type,
                    receiver: msg.receiver.clone(),
                    conversation_id,
                    category: msg.category,
                    kind: msg.kind,
                    text: msg.text,
                    data: msg.data,
                    attachments: msg.attachments,
                    metadata: msg.metadata.unwrap_or_else(|| serde_json::json!({})),
                    parent_id: msg.parent_id,
                    quoted_id: msg.quoted_id,
                    sent_at: now_ms(),
                    edited_at: None,
                    deleted_at: None,
                    deleted_by: None,
                    mentioned_users: super::mentions::existing(c, mentioned)?,
                    mentions_me: false,
                    reply_count: 0,
                    last_reply_at: None,
                };
                let recipients = super::blocks::without_blockers(
                    c,
                    message.receiver_type,
                    &sender,
                    participants(c, message.receiver_type, &message.receiver, &sender)?,
                )?;
                // The sender's own seq is taken first and stored with the message, so that a
                // repeated muid is answered with it (one write instead of an insert and an update).
                let sender_seq = if recipients.contains(&sender) {
                    Some(store::users::next_seq(c, &sender)?)
                } else {
                    None
                };
                message.id = store::messages::insert(c, &message, sender_seq.unwrap_or(0))?;
                let event = Event::Message(message);
                let body = super::encode_event(&event)?;
                check_message_size(&body, "message")?;
                if let Event::Message(message) = &event {
                    super::conversations::record_message(c, message, &recipients)?;
                }
                let mut deliveries = fan_out_encoded(
                    c,
                    &recipients,
                    event,
                    body,
                    sender_seq.map(|s| (&*sender, s)),
                )?;
                // A reply's thread event comes after the reply in every recipient's log.
                let thread = match deliveries.events.first().map(|f| &f.event) {
                    Some(Event::Message(m)) => super::threads::record_reply(c, m, &recipients)?,
                    _ => None,
                };
                if let Some(thread) = thread {
                    deliveries.events.extend(thread.events);
                }
                Ok((true, deliveries))
            })
            .await?;
        if stored {
            crate::metrics::get().message_stored();
        }
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "message stored without a copy for its sender",
            )
        })
    }

    /// Edits one's own message and tells the conversation.
    pub async fn edit_message(
        &self,
        origin: Origin,
        id: i64,
        edit: EditMessage,
    ) -> Result<EventFrame, ApiError> {
        let check = check_edit(&edit).and_then(|()| self.check_durable(&origin.uid, Durable::Send));
        let uid = origin.uid.clone();
        let (_, own) = self
            .commit(origin, move |c| {
                check?;
                let mut m = require_message(c, id)?;
                require_access(c, &m, &uid)?;
                if m.sender != uid {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "only the sender can edit a message",
                    ));
                }
                if m.deleted_at.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::MessageDeleted,
                        format!("message {id} was deleted"),
                    ));
                }
                if edit.data.is_some() && m.category != Category::Custom {
                    return Err(invalid("only custom messages have data"));
                }
                if let Some(t) = edit.text {
                    m.text = Some(t);
                }
                if let Some(d) = edit.data {
                    m.data = Some(d);
                }
                if let Some(md) = edit.metadata {
                    m.metadata = md;
                }
                m.edited_at = Some(now_ms());
                store::messages::update(c, &m)?;
                let recipients = super::blocks::without_blockers(
                    c,
                    m.receiver_type,
                    &m.sender,
                    participants(c, m.receiver_type, &m.receiver, &m.sender)?,
                )?;
                let event = Event::MessageEdited(m);
                let body = super::encode_event(&event)?;
                check_message_size(&body, "message_edited")?;
                Ok(((), fan_out_encoded(c, &recipients, event, body, None)?))
            })
            .await?;
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "edit stored without a copy for its author",
            )
        })
    }

    /// Soft-deletes a message: its sender, or a group's moderators and admins.
    pub async fn delete_message(&self, origin: Origin, id: i64) -> Result<EventFrame, ApiError> {
        let check = self.check_durable(&origin.uid, Durable::Send);
        let uid = origin.uid.clone();
        let (_, own) = self
            .commit(origin, move |c| {
                check?;
                let mut m = require_message(c, id)?;
                let scope = require_access(c, &m, &uid)?;
                let moderates = scope.is_some_and(|s| s >= Scope::Moderator);
                if m.sender != uid && !moderates {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "only the sender or a group moderator can delete a message",
                    ));
                }
                if m.deleted_at.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::MessageDeleted,
                        format!("message {id} was already deleted"),
                    ));
                }
                m.text = None;
                m.data = None;
                m.attachments.clear();
                m.deleted_at = Some(now_ms());
                m.deleted_by = Some(uid.clone());
                store::messages::update(c, &m)?;
                let mut recipients = super::blocks::without_blockers(
                    c,
                    m.receiver_type,
                    &m.sender,
                    participants(c, m.receiver_type, &m.receiver, &m.sender)?,
                )?;
                if !recipients.contains(&uid) {
                    recipients.push(uid.clone());
                }
                Ok(((), fan_out(c, &recipients, &Event::MessageDeleted(m))?))
            })
            .await?;
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "delete stored without a copy for its author",
            )
        })
    }

    /// Records that the caller received or read everything up to a message, for its sender and
    /// the caller's other devices.
    pub async fn receipt(
        &self,
        origin: Origin,
        kind: ReceiptKind,
        message_id: i64,
    ) -> Result<EventFrame, ApiError> {
        let check = self.check_feature(&origin.uid, Feature::Receipts);
        let uid = origin.uid.clone();
        let (_, own) = self
            .commit(origin, move |c| {
                check?;
                let m = require_message(c, message_id)?;
                require_access(c, &m, &uid)?;
                if m.sender == uid {
                    return Err(invalid("a receipt is for a message someone else sent"));
                }
                let receipt = Receipt {
                    kind,
                    by: uid.clone(),
                    message_id,
                    message_sender: m.sender.clone(),
                    conversation_id: m.conversation_id.clone(),
                    receiver_type: m.receiver_type,
                    receiver: m.receiver.clone(),
                    at: now_ms(),
                };
                let recipients = vec![m.sender.clone(), uid.clone()];
                // The receipt first (its copy is the caller's answer), then the caller's
                // conversation: sequence numbers in delivery order.
                let mut deliveries = fan_out(c, &recipients, &Event::Receipt(receipt))?;
                if let Some(u) = super::conversations::record_receipt(c, &uid, kind, &m)? {
                    deliveries.events.extend(u.events);
                }
                Ok(((), deliveries))
            })
            .await?;
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "receipt stored without a copy for its author",
            )
        })
    }

    /// Who hears an ephemeral frame from `sender` to this receiver (everyone but the sender).
    async fn ephemeral_audience(
        &self,
        sender: &str,
        receiver_type: ReceiverType,
        receiver: &str,
    ) -> Result<Vec<String>, ApiError> {
        let (s, r) = (sender.to_string(), receiver.to_string());
        self.store
            .read(move |c| {
                check_can_address(c, receiver_type, &r, &s)?;
                let mut people = super::blocks::without_blockers(
                    c,
                    receiver_type,
                    &s,
                    participants(c, receiver_type, &r, &s)?,
                )?;
                people.retain(|u| *u != s);
                Ok(people)
            })
            .await
    }

    /// Relays a typing indicator; never stored.
    pub async fn typing(
        &self,
        origin: &Origin,
        target: TypingTarget,
        started: bool,
    ) -> Result<(), ApiError> {
        self.check_feature(&origin.uid, Feature::Typing)?;
        if let Some(md) = &target.metadata {
            check_json("metadata", md, true)?;
        }
        let audience = self
            .ephemeral_audience(&origin.uid, target.receiver_type, &target.receiver)
            .await?;
        let indicator = TypingIndicator {
            sender: origin.uid.clone(),
            receiver_type: target.receiver_type,
            receiver: target.receiver,
            metadata: target.metadata,
        };
        let frame = if started {
            ServerFrame::TypingStarted(indicator)
        } else {
            ServerFrame::TypingEnded(indicator)
        };
        self.hub
            .send_to_users(audience.iter().map(String::as_str), &frame, None);
        Ok(())
    }

    /// Relays a transient message to whoever is online; never stored.
    pub async fn transient(
        &self,
        origin: &Origin,
        receiver_type: ReceiverType,
        receiver: String,
        data: serde_json::Value,
    ) -> Result<(), ApiError> {
        self.check_feature(&origin.uid, Feature::Transient)?;
        check_json("data", &data, false)?;
        let audience = self
            .ephemeral_audience(&origin.uid, receiver_type, &receiver)
            .await?;
        let frame = ServerFrame::Transient(TransientMessage {
            sender: origin.uid.clone(),
            receiver_type,
            receiver,
            data,
        });
        self.hub
            .send_to_users(audience.iter().map(String::as_str), &frame, None);
        Ok(())
    }

    /// One page of a conversation the caller takes part in.
    pub async fn history(&self, uid: &str, q: HistoryQuery) -> Result<MessageList, ApiError> {
        let receiver_type = receiver_type_param(&q.receiver_type)?;
        check_id("receiver", &q.receiver)?;
        let limit = page_limit(q.limit)?;
        check_category_filter(q.category.as_deref())?;
        let uid = uid.to_string();
        self.store
            .read(move |c| {
                let conversation_id = match receiver_type {
                    ReceiverType::User => user_conversation_id(&uid, &q.receiver),
                    ReceiverType::Group => {
                        require_member(c, &q.receiver, &uid)?;
                        group_conversation_id(&q.receiver)
                    }
                };
                let page = store::messages::history(
                    c,
                    &store::messages::HistoryFilter {
                        conversation_id: &conversation_id,
                        before: q.before,
                        after: q.after,
                        limit,
                        max_bytes: chinwag_protocol::limits::MAX_PAGE_BYTES,
                        category: q.category.as_deref(),
                        kind: q.kind.as_deref(),
                    },
                )?;
                Ok(page.for_reader(&uid))
            })
            .await
    }

    /// One message, if the caller may see it.
    pub async fn get_message(&self, uid: &str, id: i64) -> Result<Message, ApiError> {
        let uid = uid.to_string();
        self.store
            .read(move |c| {
                let m = require_message(c, id)?;
                require_access(c, &m, &uid)?;
                Ok(m.for_reader(&uid))
            })
            .await
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn the_size_checked_is_the_message_s_own_serialized_size() {
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": 7, "muid": "m", "sender": "a", "receiver_type": "user", "receiver": "b",
            "conversation_id": "user:a:b", "category": "message", "type": "text",
            "text": "héllo", "sent_at": 1
        }))
        .expect("message");
        let own = serde_json::to_string(&m).expect("json").len();
        for (event, name) in [
            (Event::Message(m.clone()), "message"),
            (Event::MessageEdited(m), "message_edited"),
        ] {
            let body = serde_json::to_string(&event).expect("json");
            let wrapper = r#"{"event":"","data":}"#.len() + name.len();
            assert_eq!(body.len() - wrapper, own, "{body}");
        }
    }
}
