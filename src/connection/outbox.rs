//! Sends waiting for the socket or for their ack (docs/behaviour.md, section 5): order kept,
//! resent with the same muid on the next socket, exactly one completion each.

use std::collections::{BTreeMap, VecDeque};

use chinwag_protocol::model::{Message, NewMessage};

use crate::completion::Completer;
use crate::error::{Error, ErrorCode, Result};

pub struct Pending {
    pub message: NewMessage,
    pub done: Completer<Message>,
}

#[derive(Default)]
pub struct Outbox {
    capacity: usize,
    next: u64,
    /// Not yet written to a socket, oldest first.
    queue: VecDeque<(u64, Pending)>,
    /// Written, waiting for the ack; keyed by order number (the request id).
    in_flight: BTreeMap<u64, Pending>,
}

impl Outbox {
    pub fn new(capacity: usize) -> Self {
        Outbox {
            capacity,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.queue.len() + self.in_flight.len()
    }

    /// Queues a send; a full queue fails it at once.
    pub fn push(&mut self, p: Pending) -> Option<u64> {
        if self.len() >= self.capacity {
            p.done.complete(Err(Error::new(
                ErrorCode::QueueFull,
                format!("{} sends are already waiting", self.capacity),
            )));
            return None;
        }
        self.next += 1;
        self.queue.push_back((self.next, p));
        Some(self.next)
    }

    /// Takes the next queued send to write, returning its request id.
    pub fn next_to_write(&mut self) -> Option<(u64, NewMessage)> {
        let (id, p) = self.queue.pop_front()?;
        let msg = p.message.clone();
        self.in_flight.insert(id, p);
        Some((id, msg))
    }

    /// Completes the send with request id `req`.
    pub fn finish(&mut self, req: &str, result: Result<Message>) -> bool {
        let Some(id) = req.strip_prefix('s').and_then(|n| n.parse::<u64>().ok()) else {
            return false;
        };
        match self.in_flight.remove(&id) {
            Some(p) => {
                p.done.complete(result);
                true
            }
            None => false,
        }
    }

    /// Completes the send with this muid, wherever it waits (its ack was lost and the replay of
    /// the stored message arrived instead).
    pub fn finish_by_muid(&mut self, muid: &str, result: Result<Message>) -> bool {
        let is = |p: &Pending| p.message.muid.as_deref() == Some(muid);
        if let Some(id) = self
            .in_flight
            .iter()
            .find(|(_, p)| is(p))
            .map(|(id, _)| *id)
        {
            if let Some(p) = self.in_flight.remove(&id) {
                p.done.complete(result);
                return true;
            }
        }
        if let Some(i) = self.queue.iter().position(|(_, p)| is(p)) {
            if let Some((_, p)) = self.queue.remove(i) {
                p.done.complete(result);
                return true;
            }
        }
        false
    }

    /// The socket is gone: unacknowledged sends go back to the front, in their original order.
    pub fn requeue_in_flight(&mut self) {
        let in_flight = std::mem::take(&mut self.in_flight);
        for (id, p) in in_flight.into_iter().rev() {
            self.queue.push_front((id, p));
        }
    }

    /// Fails everything waiting or in flight.
    pub fn fail_all(&mut self, code: ErrorCode, message: &str) {
        for (_, p) in std::mem::take(&mut self.in_flight) {
            p.done.complete(Err(Error::new(code, message)));
        }
        for (_, p) in self.queue.drain(..) {
            p.done.complete(Err(Error::new(code, message)));
        }
    }
}

/// The request id on the wire for an outbox entry.
pub fn req_id(id: u64) -> String {
    format!("s{id}")
}
