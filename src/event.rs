//! What the SDK tells the app, and which listener kind hears it.

use chinwag_protocol::conversations::Conversation;
use chinwag_protocol::frames::{Feature, Gap, TransientMessage, TypingIndicator};
use chinwag_protocol::model::{Call, GroupMemberEvent, Message, Presence, Receipt, User};

use crate::error::Error;
use crate::state::StateChange;

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

/// Which call event happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum CallEventKind {
    /// Someone calls us (or our other device started a call).
    Initiated = 0,
    Accepted = 1,
    /// Rejected or busy (see the call's status).
    Rejected = 2,
    /// Cancelled by the caller or unanswered (see the call's status).
    Cancelled = 3,
    Ended = 4,
}

/// One event for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    State(StateChange),
    /// An error that did not change the state, or the reason for FAILED.
    ConnectionError(Error),
    FeatureThrottled {
        feature: Feature,
        duration_ms: u64,
    },
    FeatureUnthrottled {
        feature: Feature,
    },
    LoginSuccess(User),
    LoginFailure(Error),
    LogoutSuccess,
    LogoutFailure(Error),
    /// The server rejected or revoked the token; the app should log in again.
    SessionExpired(Error),
    Message(Message),
    MessageEdited(Message),
    MessageDeleted(Message),
    TypingStarted(TypingIndicator),
    TypingEnded(TypingIndicator),
    Receipt(Receipt),
    /// The user's view of a conversation changed (read or delivered up to a message on one of
    /// their devices, or deleted for them: `deleted`). Boxed: it carries a user, a group and a
    /// message.
    ConversationUpdated(Box<Conversation>),
    /// A thread got a reply: its parent message with the new `reply_count` and
    /// `last_reply_at`.
    ThreadUpdated(Message),
    Transient(TransientMessage),
    Presence(Presence),
    /// Events in this range were missed and will not be replayed: fetch history.
    Gap(Gap),
    GroupMember(GroupMemberEvent),
    Call {
        kind: CallEventKind,
        call: Call,
    },
    Log {
        level: LogLevel,
        target: &'static str,
        message: String,
    },
}

/// Listener families; each is added and removed by its own string ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ListenerKind {
    Connection = 0,
    Login = 1,
    Message = 2,
    User = 3,
    Group = 4,
    Call = 5,
    Log = 6,
}

impl Event {
    pub fn kind(&self) -> ListenerKind {
        match self {
            Event::State(_)
            | Event::ConnectionError(_)
            | Event::FeatureThrottled { .. }
            | Event::FeatureUnthrottled { .. } => ListenerKind::Connection,
            Event::LoginSuccess(_)
            | Event::LoginFailure(_)
            | Event::LogoutSuccess
            | Event::LogoutFailure(_)
            | Event::SessionExpired(_) => ListenerKind::Login,
            Event::Message(_)
            | Event::MessageEdited(_)
            | Event::MessageDeleted(_)
            | Event::TypingStarted(_)
            | Event::TypingEnded(_)
            | Event::Receipt(_)
            | Event::ConversationUpdated(_)
            | Event::ThreadUpdated(_)
            | Event::Transient(_)
            | Event::Gap(_) => ListenerKind::Message,
            Event::Presence(_) => ListenerKind::User,
            Event::GroupMember(_) => ListenerKind::Group,
            Event::Call { .. } => ListenerKind::Call,
            Event::Log { .. } => ListenerKind::Log,
        }
    }

    /// Real-time events stop the moment `disconnect()` returns.
    pub fn is_realtime(&self) -> bool {
        matches!(
            self.kind(),
            ListenerKind::Message | ListenerKind::User | ListenerKind::Group | ListenerKind::Call
        )
    }
}
