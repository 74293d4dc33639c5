//! Conversations: the first screen of a chat app (newest first, each with its last message and
//! unread badge), the unread totals, and deleting a conversation for oneself. Marking read or
//! delivered is `Client::mark` (a receipt); the user's devices then hear
//! `Event::ConversationUpdated`, so they agree on the badge.

use std::sync::{Arc, Mutex};

use chinwag_protocol::conversations::{Conversation, ConversationList, UnreadCounts};
use chinwag_protocol::limits::{check_id, check_page_limit};
use chinwag_protocol::model::ReceiverType;

use super::requests::Page;
use super::{segment, Delete, Get};
use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct ConversationCursor {
    /// `next_before` of the last page fetched.
    before: Option<i64>,
    exhausted: bool,
}

/// The user's conversations, paged newest first. Clones share the cursor.
#[derive(Debug, Clone)]
pub struct ConversationsRequest {
    limit: u32,
    conversation_type: Option<ReceiverType>,
    unread_only: bool,
    cursor: Arc<Mutex<ConversationCursor>>,
}

impl Default for ConversationsRequest {
    fn default() -> Self {
        Self::new()
    }
}

impl ConversationsRequest {
    /// All conversations, 30 per page.
    pub fn new() -> Self {
        ConversationsRequest {
            limit: 30,
            conversation_type: None,
            unread_only: false,
            cursor: Arc::default(),
        }
    }

    pub fn limit(mut self, limit: u32) -> Result<Self> {
        self.limit = check_page_limit(limit).map_err(Error::invalid)?;
        Ok(self)
    }

    /// Only one-to-one (`User`) or only group conversations.
    pub fn conversation_type(mut self, kind: ReceiverType) -> Self {
        self.conversation_type = Some(kind);
        self
    }

    /// Only conversations with unread messages.
    pub fn unread_only(mut self, unread_only: bool) -> Self {
        self.unread_only = unread_only;
        self
    }
}

fn check_with(with: &str) -> Result<()> {
    check_id("with", with).map_err(Error::invalid)
}

fn conversation_path(kind: ReceiverType, with: &str) -> String {
    format!("/v1/conversations/{}/{}", kind.as_str(), segment(with))
}

impl Client {
    /// The next page of conversations, newest last message first; an empty page once the list
    /// is exhausted.
    pub fn fetch_conversations(
        &self,
        request: &ConversationsRequest,
        done: Option<Callback<Page<Conversation>>>,
    ) -> Result<()> {
        let mut query = vec![("limit", request.limit.to_string())];
        if let Some(k) = request.conversation_type {
            query.push(("type", k.as_str().to_string()));
        }
        if request.unread_only {
            query.push(("unread_only", "true".to_string()));
        }
        let (before, exhausted) = {
            let c = request.cursor.lock().unwrap_or_else(|p| p.into_inner());
            (c.before, c.exhausted)
        };
        if let Some(b) = before {
            query.push(("before", b.to_string()));
        }
        let request = request.clone();
        self.rest(done, move |http, token| async move {
            if exhausted {
                return Ok(Page {
                    items: Vec::new(),
                    has_more: false,
                });
            }
            let list: ConversationList = http
                .call(&token, Get, "/v1/conversations", &query, None)
                .await?;
            let has_more = list.next_before.is_some();
            {
                let mut c = request.cursor.lock().unwrap_or_else(|p| p.into_inner());
                c.before = list.next_before;
                c.exhausted = !has_more;
            }
            Ok(Page {
                items: list.conversations,
                has_more,
            })
        })
    }

    /// The conversation with a user (`User`, a uid) or of a group (`Group`, a guid). Fails with
    /// `NOT_FOUND` when no message was exchanged yet (or it was deleted and nothing came since).
    pub fn get_conversation(
        &self,
        kind: ReceiverType,
        with: &str,
        done: Option<Callback<Conversation>>,
    ) -> Result<()> {
        check_with(with)?;
        let path = conversation_path(kind, with);
        self.rest(done, move |http, token| async move {
            http.call(&token, Get, &path, &[], None).await
        })
    }

    /// Unread messages overall, per user and per group.
    pub fn unread_counts(&self, done: Option<Callback<UnreadCounts>>) -> Result<()> {
        self.rest(done, move |http, token| async move {
            http.call(&token, Get, "/v1/conversations/unread", &[], None)
                .await
        })
    }

    /// Deletes a conversation for this user only: hidden (and read) until a new message comes.
    /// The user's devices hear `ConversationUpdated` with `deleted`.
    pub fn delete_conversation(
        &self,
        kind: ReceiverType,
        with: &str,
        done: Option<Callback<()>>,
    ) -> Result<()> {
        check_with(with)?;
        let path = conversation_path(kind, with);
        self.rest(done, move |http, token| async move {
            http.call(&token, Delete, &path, &[], None).await
        })
    }
}
