//! Conversations: the list, the unread badges, and deleting one for oneself. The rows are
//! written by `send_message` and `receipt` in their own transactions (see `record_message` and
//! `record_receipt`); this module reads them and turns them into wire objects.

use chinwag_protocol::conversations::{
    Conversation, ConversationList, ConversationsQuery, UnreadCounts,
};
use chinwag_protocol::model::{
    group_conversation_id, user_conversation_id, Message, ReceiptKind, ReceiverType,
};
use chinwag_protocol::{ApiError, ErrorCode, Event};

use super::users::PresenceView;
use super::{check_id, fan_out, invalid, page_limit, require_member, App, Deliveries};
use crate::hub::Origin;
use crate::store::conversations::{self as rows, ConversationRow, PageFilter};
use crate::store::{self, now_ms, Db};

/// Records a stored message in its conversation, in the message's transaction: each
/// recipient's row of a direct conversation; the head of a group's (one row for any number of
/// members), with the message counted as seen by its sender and by members who blocked the
/// sender (it does not reach them).
pub fn record_message(conn: &Db, m: &Message, recipients: &[String]) -> Result<(), ApiError> {
    if m.receiver_type == ReceiverType::Group {
        rows::on_group_message(conn, &m.conversation_id, m.id, m.sent_at)?;
        if !rows::seen_one(conn, &m.sender, &m.conversation_id)? {
            // A member without a row (none is made outside `joined`; kept safe anyway).
            rows::joined(
                conn,
                &m.sender,
                &m.receiver,
                &m.conversation_id,
                m.sent_at,
                true,
            )?;
        }
        for blocker in store::blocks::blockers_of(conn, &m.sender)? {
            rows::seen_one(conn, &blocker, &m.conversation_id)?;
        }
        return Ok(());
    }
    for uid in recipients {
        let with = if *uid == m.sender {
            &m.receiver
        } else {
            &m.sender
        };
        rows::on_message(
            conn,
            uid,
            &m.conversation_id,
            m.receiver_type,
            with,
            m.id,
            *uid != m.sender,
            m.sent_at,
        )?;
    }
    Ok(())
}

/// Moves `uid`'s read or delivered position in the message's conversation (inside the receipt's
/// transaction); when it moved, a `conversation_updated` event for all of `uid`'s devices.
pub fn record_receipt(
    conn: &Db,
    uid: &str,
    kind: ReceiptKind,
    m: &Message,
) -> Result<Option<Deliveries>, ApiError> {
    let at = now_ms();
    let moved = match kind {
        ReceiptKind::Read => rows::mark_read(conn, uid, &m.conversation_id, m.id, at)?,
        ReceiptKind::Delivered => rows::mark_delivered(conn, uid, &m.conversation_id, m.id, at)?,
    };
    if !moved {
        return Ok(None);
    }
    updated_event(conn, uid, &m.conversation_id, false).map(Some)
}

/// The `conversation_updated` event of `uid`'s row, fanned out to `uid` alone.
fn updated_event(
    conn: &Db,
    uid: &str,
    conversation_id: &str,
    deleted: bool,
) -> Result<Deliveries, ApiError> {
    let row = rows::get(conn, uid, conversation_id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Internal,
            "conversation row vanished in its transaction",
        )
    })?;
    let mut conversation = build(conn, uid, row, &|u| hidden_presence(u))?;
    conversation.deleted = deleted;
    fan_out(
        conn,
        &[uid.to_string()],
        &Event::ConversationUpdated(Box::new(conversation)),
    )
}

/// Events do not carry presence (it changes without them); the user listener does.
fn hidden_presence(mut u: chinwag_protocol::model::User) -> chinwag_protocol::model::User {
    u.status = chinwag_protocol::model::UserStatus::Offline;
    u.last_active_at = None;
    u
}

/// A row as the wire object: the other user or the group, and the last message.
fn build(
    conn: &Db,
    uid: &str,
    row: ConversationRow,
    presence: &dyn Fn(chinwag_protocol::model::User) -> chinwag_protocol::model::User,
) -> Result<Conversation, ApiError> {
    let (user, group) = match row.conversation_type {
        ReceiverType::User => {
            let mut user = store::users::get(conn, &row.with_id)?.map(presence);
            if let Some(u) = &mut user {
                u.blocked_by_me = store::blocks::has_blocked(conn, uid, &u.uid)?;
            }
            (user, None)
        }
        ReceiverType::Group => {
            let group = store::groups::get(conn, &row.with_id)?.map(|mut g| {
                g.scope = store::groups::scope_of(conn, &g.guid, uid).ok().flatten();
                g
            });
            (None, group)
        }
    };
    Ok(Conversation {
        conversation_id: row.conversation_id,
        conversation_type: row.conversation_type,
        with: row.with_id,
        user,
        group,
        last_message: store::messages::get(conn, row.last_message_id)?,
        unread_count: row.unread_count,
        last_read_message_id: row.last_read_id,
        last_delivered_message_id: row.last_delivered_id,
        updated_at: row.updated_at,
        deleted: false,
    })
}

fn conversation_type_param(s: &str) -> Result<ReceiverType, ApiError> {
    ReceiverType::parse(s)
        .ok_or_else(|| invalid(format!("conversation type {s:?} is not user or group")))
}

/// The conversation id of `uid` with a user or a group, after checking the other side exists
/// and `uid` may see it.
fn conversation_id_of(
    conn: &Db,
    uid: &str,
    kind: ReceiverType,
    with: &str,
) -> Result<String, ApiError> {
    check_id("with", with)?;
    match kind {
        ReceiverType::User => {
            if !store::users::exists(conn, with)? {
                return Err(ApiError::new(
                    ErrorCode::UserNotFound,
                    format!("no user {with:?}"),
                ));
            }
            Ok(user_conversation_id(uid, with))
        }
        ReceiverType::Group => {
            require_member(conn, with, uid)?;
            Ok(group_conversation_id(with))
        }
    }
}

impl App {
    /// One page of the caller's conversations, newest last message first.
    pub async fn conversations(
        &self,
        uid: &str,
        q: ConversationsQuery,
    ) -> Result<ConversationList, ApiError> {
        let limit = page_limit(q.limit)?;
        let kind = q.kind.as_deref().map(conversation_type_param).transpose()?;
        if let Some(b) = q.before {
            if b <= 0 {
                return Err(invalid(format!("before {b} is not a message id")));
            }
        }
        let view = self.presence_view(Some(uid)).await?;
        let uid = uid.to_string();
        let list = self
            .store
            .read(move |c| {
                let found = rows::page(
                    c,
                    &PageFilter {
                        uid: &uid,
                        before: q.before.unwrap_or(i64::MAX),
                        // One extra row tells whether there is a next page.
                        limit: limit + 1,
                        conversation_type: kind,
                        unread_only: q.unread_only.unwrap_or(false),
                    },
                )?;
                let more = found.len() > limit as usize;
                let mut conversations = Vec::with_capacity(found.len());
                for row in found.into_iter().take(limit as usize) {
                    conversations.push(build(c, &uid, row, &|u| u)?);
                }
                let next_before = if more {
                    conversations
                        .last()
                        .map(|x: &Conversation| x.last_message.as_ref().map_or(0, |m| m.id))
                } else {
                    None
                };
                Ok((conversations, next_before))
            })
            .await?;
        let (mut conversations, next_before) = list;
        for conv in &mut conversations {
            if let Some(u) = conv.user.take() {
                conv.user = Some(self.status_for(u, &view));
            }
        }
        Ok(ConversationList {
            conversations,
            next_before,
        })
    }

    /// The caller's conversation with a user or a group (`USER_NOT_FOUND`, the group's
    /// membership errors; `NOT_FOUND` when there is none yet or it was deleted).
    pub async fn conversation(
        &self,
        uid: &str,
        kind: &str,
        with: &str,
    ) -> Result<Conversation, ApiError> {
        let kind = conversation_type_param(kind)?;
        let view: PresenceView = self.presence_view(Some(uid)).await?;
        let (uid, with) = (uid.to_string(), with.to_string());
        let mut conv = self
            .store
            .read(move |c| {
                let id = conversation_id_of(c, &uid, kind, &with)?;
                match rows::get(c, &uid, &id)? {
                    Some(row) if !row.hidden => build(c, &uid, row, &|u| u),
                    _ => Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("no conversation with {with:?} yet"),
                    )),
                }
            })
            .await?;
        if let Some(u) = conv.user.take() {
            conv.user = Some(self.status_for(u, &view));
        }
        Ok(conv)
    }

    /// Unread messages of the caller: overall, per user and per group.
    pub async fn unread_counts(&self, uid: &str) -> Result<UnreadCounts, ApiError> {
        let uid = uid.to_string();
        self.store
            .read(move |c| {
                let mut counts = UnreadCounts::default();
                for (kind, with, n) in rows::unread(c, &uid)? {
                    counts.total += n;
                    match kind {
                        ReceiverType::User => counts.users.insert(with, n),
                        ReceiverType::Group => counts.groups.insert(with, n),
                    };
                }
                Ok(counts)
            })
            .await
    }

    /// Deletes a conversation for the caller alone: hidden (and read) until a new message
    /// arrives; the caller's devices hear `conversation_updated` with `deleted`. Deleting one
    /// that does not exist or is already deleted succeeds and changes nothing.
    pub async fn delete_conversation(
        &self,
        origin: Origin,
        kind: &str,
        with: &str,
    ) -> Result<(), ApiError> {
        let kind = conversation_type_param(kind)?;
        let (uid, with) = (origin.uid.clone(), with.to_string());
        self.commit(origin, move |c| {
            let id = conversation_id_of(c, &uid, kind, &with)?;
            if !rows::hide(c, &uid, &id, now_ms())? {
                return Ok(((), Deliveries::default()));
            }
            Ok(((), updated_event(c, &uid, &id, true)?))
        })
        .await
        .map(|_| ())
    }
}
