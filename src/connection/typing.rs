//! Remote typing indicators: each ends by a `typing_ended`, by itself after the timeout without
//! refresh, or when the connection drops.

use std::collections::HashMap;
use std::time::Duration;

use chinwag_protocol::frames::TypingIndicator;
use chinwag_protocol::model::ReceiverType;
use tokio::time::Instant;

type Key = (String, ReceiverType, String);

#[derive(Default)]
pub struct Typing {
    active: HashMap<Key, (TypingIndicator, Instant)>,
}

fn key(t: &TypingIndicator) -> Key {
    (t.sender.clone(), t.receiver_type, t.receiver.clone())
}

impl Typing {
    /// Records a start or refresh; returns whether it is new (the app hears only new ones).
    pub fn started(&mut self, t: TypingIndicator, timeout: Duration) -> bool {
        self.active
            .insert(key(&t), (t, Instant::now() + timeout))
            .is_none()
    }

    /// Records an end; returns whether the indicator was active.
    pub fn ended(&mut self, t: &TypingIndicator) -> bool {
        self.active.remove(&key(t)).is_some()
    }

    /// Indicators whose refresh is overdue, removed.
    pub fn expired(&mut self, now: Instant) -> Vec<TypingIndicator> {
        let gone: Vec<Key> = self
            .active
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        gone.into_iter()
            .filter_map(|k| self.active.remove(&k).map(|(t, _)| t))
            .collect()
    }

    /// When the first indicator runs out without refresh, if any is active.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.active.values().map(|(_, at)| *at).min()
    }

    /// Everything active, removed (the connection dropped).
    pub fn clear(&mut self) -> Vec<TypingIndicator> {
        self.active.drain().map(|(_, (t, _))| t).collect()
    }
}
