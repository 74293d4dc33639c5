//! Paged requests with a cursor: conversation history (fetch previous / fetch next, to fill the
//! hole after a gap notice) and user lists. A request object remembers where it stopped.

use std::sync::{Arc, Mutex};

use chinwag_protocol::limits::check_page_limit;
use chinwag_protocol::model::{Message, ReceiverType, User};
use chinwag_protocol::rest::{MessageList, UserList};

use super::Get;
use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct Cursor {
    /// Oldest message id fetched so far (fetch previous continues below it).
    oldest: Option<i64>,
    /// Newest message id fetched so far (fetch next continues above it).
    newest: Option<i64>,
}

/// One conversation's history, paged. Cheap to clone; clones share the cursor.
#[derive(Debug, Clone)]
pub struct MessagesRequest {
    receiver_type: ReceiverType,
    receiver: String,
    limit: u32,
    category: Option<String>,
    kind: Option<String>,
    /// The replies to this message (a thread) instead of the conversation.
    thread: Option<i64>,
    cursor: Arc<Mutex<Cursor>>,
}

/// One page and whether more lie beyond it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl MessagesRequest {
    /// History with another user (`User`) or of a group (`Group`), 30 per page.
    pub fn new(receiver_type: ReceiverType, receiver: &str) -> Result<Self> {
        chinwag_protocol::limits::check_id("receiver", receiver).map_err(Error::invalid)?;
        Ok(MessagesRequest {
            receiver_type,
            receiver: receiver.to_string(),
            limit: 30,
            category: None,
            kind: None,
            thread: None,
            cursor: Arc::default(),
        })
    }

    /// The replies to message `parent_id` (its thread), 30 per page; paged, filtered and
    /// started around a message like a conversation's history.
    pub fn thread(parent_id: i64) -> Result<Self> {
        if parent_id <= 0 {
            return Err(Error::invalid(format!(
                "parent message id {parent_id} is not positive"
            )));
        }
        Ok(MessagesRequest {
            receiver_type: ReceiverType::User,
            receiver: String::new(),
            limit: 30,
            category: None,
            kind: None,
            thread: Some(parent_id),
            cursor: Arc::default(),
        })
    }

    /// The path this request pages.
    fn path(&self) -> String {
        match self.thread {
            Some(id) => format!("/v1/messages/{id}/thread"),
            None => "/v1/messages".to_string(),
        }
    }

    pub fn limit(mut self, limit: u32) -> Result<Self> {
        self.limit = check_page_limit(limit).map_err(Error::invalid)?;
        Ok(self)
    }

    /// Only `message` or `custom` messages.
    pub fn category(mut self, category: &str) -> Self {
        self.category = Some(category.to_string());
        self
    }

    /// Only messages of this type (`text`, `image`, a custom type...).
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = Some(kind.to_string());
        self
    }

    /// Starts paging around a message: previous pages end below it, next pages start above it.
    pub fn from_message(self, message_id: i64) -> Self {
        {
            let mut c = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            c.oldest = Some(message_id);
            c.newest = Some(message_id);
        }
        self
    }

    fn query(&self, before: Option<i64>, after: Option<i64>) -> Vec<(&'static str, String)> {
        let mut q = vec![("limit", self.limit.to_string())];
        if self.thread.is_none() {
            q.push(("receiver_type", self.receiver_type.as_str().to_string()));
            q.push(("receiver", self.receiver.clone()));
        }
        if let Some(b) = before {
            q.push(("before", b.to_string()));
        }
        if let Some(a) = after {
            q.push(("after", a.to_string()));
        }
        if let Some(c) = &self.category {
            q.push(("category", c.clone()));
        }
        if let Some(k) = &self.kind {
            q.push(("type", k.clone()));
        }
        q
    }

    fn record(&self, messages: &[Message]) {
        let mut c = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(first), Some(last)) = (messages.first(), messages.last()) {
            c.oldest = Some(c.oldest.map_or(first.id, |o| o.min(first.id)));
            c.newest = Some(c.newest.map_or(last.id, |n| n.max(last.id)));
        }
    }
}

impl Client {
    /// The page of older messages (the newest page on the first call), oldest first.
    pub fn fetch_previous(
        &self,
        request: &MessagesRequest,
        done: Option<Callback<Page<Message>>>,
    ) -> Result<()> {
        let before = request
            .cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .oldest;
        self.fetch_messages(request, before, None, done)
    }

    /// The page of newer messages after the newest one fetched so far, oldest first.
    pub fn fetch_next(
        &self,
        request: &MessagesRequest,
        done: Option<Callback<Page<Message>>>,
    ) -> Result<()> {
        let after = request
            .cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .newest
            .unwrap_or(0);
        self.fetch_messages(request, None, Some(after), done)
    }

    fn fetch_messages(
        &self,
        request: &MessagesRequest,
        before: Option<i64>,
        after: Option<i64>,
        done: Option<Callback<Page<Message>>>,
    ) -> Result<()> {
        let query = request.query(before, after);
        let path = request.path();
        let request = request.clone();
        self.rest(done, move |http, token| async move {
            let list: MessageList = http.call(&token, Get, &path, &query, None).await?;
            request.record(&list.messages);
            Ok(Page {
                items: list.messages,
                has_more: list.has_more,
            })
        })
    }
}

/// A paged list of users with optional filters. Clones share the cursor.
#[derive(Debug, Clone, Default)]
pub struct UsersRequest {
    filters: UserFilters,
    after: Arc<Mutex<Option<String>>>,
    done: Arc<Mutex<bool>>,
}

/// Filters of a [`UsersRequest`].
#[derive(Debug, Clone, Default)]
pub struct UserFilters {
    pub limit: Option<u32>,
    pub search: Option<String>,
    /// `online` or `offline`.
    pub status: Option<String>,
    pub role: Option<String>,
}

impl UsersRequest {
    pub fn new(filters: UserFilters) -> Self {
        UsersRequest {
            filters,
            ..Default::default()
        }
    }
}

impl Client {
    /// The next page of users; an empty page once the list is exhausted.
    pub fn fetch_users(
        &self,
        request: &UsersRequest,
        done: Option<Callback<Page<User>>>,
    ) -> Result<()> {
        let f = &request.filters;
        if let Some(l) = f.limit {
            check_page_limit(l).map_err(Error::invalid)?;
        }
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some(l) = f.limit {
            query.push(("limit", l.to_string()));
        }
        for (k, v) in [
            ("search", &f.search),
            ("status", &f.status),
            ("role", &f.role),
        ] {
            if let Some(v) = v {
                query.push((k, v.clone()));
            }
        }
        if let Some(a) = request
            .after
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            query.push(("after", a));
        }
        let exhausted = *request.done.lock().unwrap_or_else(|p| p.into_inner());
        let request = request.clone();
        self.rest(done, move |http, token| async move {
            if exhausted {
                return Ok(Page {
                    items: Vec::new(),
                    has_more: false,
                });
            }
            let list: UserList = http.call(&token, Get, "/v1/users", &query, None).await?;
            let has_more = list.next_after.is_some();
            *request.after.lock().unwrap_or_else(|p| p.into_inner()) = list.next_after;
            *request.done.lock().unwrap_or_else(|p| p.into_inner()) = !has_more;
            Ok(Page {
                items: list.users,
                has_more,
            })
        })
    }
}
