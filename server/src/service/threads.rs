//! Threads: a reply (a message with `parent_id`) gives its parent one more reply and a new last
//! reply time, in the reply's transaction, and everyone who hears the reply hears
//! `thread_updated` with the parent; the thread's replies are paged like a history.

use chinwag_protocol::model::Message;
use chinwag_protocol::rest::{MessageList, ThreadQuery};
use chinwag_protocol::{ApiError, Event};

use super::messaging::{check_category_filter, require_access, require_message};
use super::{fan_out, invalid, page_limit, App, Deliveries};
use crate::store::{self, Db};

/// Counts a stored reply on its parent and tells the reply's recipients (inside the reply's
/// transaction). Nothing for a message that is no reply.
pub fn record_reply(
    conn: &Db,
    reply: &Message,
    recipients: &[String],
) -> Result<Option<Deliveries>, ApiError> {
    let Some(parent_id) = reply.parent_id else {
        return Ok(None);
    };
    store::messages::add_reply(conn, parent_id, reply.sent_at)?;
    let parent = require_message(conn, parent_id)?;
    fan_out(conn, recipients, &Event::ThreadUpdated(parent)).map(Some)
}

impl App {
    /// One page of the replies to a message the caller may see, oldest first.
    pub async fn thread(
        &self,
        uid: &str,
        parent_id: i64,
        q: ThreadQuery,
    ) -> Result<MessageList, ApiError> {
        let limit = page_limit(q.limit)?;
        for (what, cursor) in [("before", q.before), ("after", q.after)] {
            if cursor.is_some_and(|c| c < 0) {
                return Err(invalid(format!("{what} must not be negative")));
            }
        }
        check_category_filter(q.category.as_deref())?;
        let uid = uid.to_string();
        self.store
            .read(move |c| {
                let parent = require_message(c, parent_id)?;
                require_access(c, &parent, &uid)?;
                let page = store::messages::thread(
                    c,
                    parent_id,
                    &store::messages::HistoryFilter {
                        conversation_id: &parent.conversation_id,
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
}
