//! Editing and deleting messages over the socket; the conversation hears `message_edited` /
//! `message_deleted`, the editing client gets the result in its completion (not echoed).

use chinwag_protocol::model::Message;
use chinwag_protocol::{ClientFrame, Event as WireEvent};

use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, ErrorCode, Result};

fn message_of(event: WireEvent) -> Result<Message> {
    match event {
        WireEvent::Message(m) | WireEvent::MessageEdited(m) | WireEvent::MessageDeleted(m) => Ok(m),
        _ => Err(Error::new(
            ErrorCode::Protocol,
            "the server answered with another event",
        )),
    }
}

impl Client {
    /// Replaces the text (and optionally metadata) of one's own message.
    pub fn edit_message(
        &self,
        message_id: i64,
        text: Option<&str>,
        data: Option<serde_json::Value>,
        metadata: Option<serde_json::Value>,
        done: Option<Callback<Message>>,
    ) -> Result<()> {
        if message_id <= 0 {
            return Err(Error::invalid("message id must be positive"));
        }
        if text.is_none() && data.is_none() && metadata.is_none() {
            return Err(Error::invalid("an edit needs text, data or metadata"));
        }
        if let Some(t) = text {
            chinwag_protocol::limits::check_text(t)?;
        }
        let frame = ClientFrame::Edit {
            req: String::new(),
            message_id,
            text: text.map(String::from),
            data,
            metadata,
        };
        self.socket_request(frame, done, message_of)
    }

    /// Soft-deletes a message (one's own, or any in a group one moderates).
    pub fn delete_message(&self, message_id: i64, done: Option<Callback<Message>>) -> Result<()> {
        if message_id <= 0 {
            return Err(Error::invalid("message id must be positive"));
        }
        self.socket_request(
            ClientFrame::Delete {
                req: String::new(),
                message_id,
            },
            done,
            message_of,
        )
    }
}
