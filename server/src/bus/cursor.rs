//! Where a socket is in its user's log, and what to do with the next queued frame.
//!
//! On one node every event reaches the socket in sequence order (one writer hands them over in
//! commit order), so a socket only skips what its replay already covered. With the bus, events
//! come from several nodes and may be lost or late: the socket sends each seq once, in order;
//! a jump is filled from the database at once (a lower seq always commits before a higher one:
//! the user's head row stays locked until commit, so the hole is readable), and what arrives
//! after its turn is dropped.

use crate::hub::{Outbound, Payload};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Already sent (by the replay, a fill, or another path): drop it.
    Skip,
    /// Send it.
    Send,
    /// Read `(after, up_to]` from the database and send it first, then this frame; then call
    /// [`Cursor::filled`].
    Fill { after: u64, up_to: u64 },
}

#[derive(Debug, Clone)]
pub struct Cursor {
    /// The highest seq this socket has (replayed, sent or filled).
    sent: u64,
    /// Whether seqs can arrive out of order or not at all (a bus is configured).
    fill: bool,
}

impl Cursor {
    /// After a replay up to `covered`.
    pub fn new(covered: u64, fill: bool) -> Self {
        Cursor {
            sent: covered,
            fill,
        }
    }

    /// Whether a frame queued before a close still goes out (the flush): not when it was sent.
    pub fn is_new(&self, out: &Outbound) -> bool {
        out.seq.is_none_or(|s| s > self.sent)
    }

    /// What to do with `out`, the next queued frame.
    pub fn step(&mut self, out: &Outbound) -> Step {
        if !self.fill {
            // One node: the replay's bound is all there is to skip.
            return if self.is_new(out) {
                Step::Send
            } else {
                Step::Skip
            };
        }
        let (seq, is_ack) = match (out.seq, &out.payload) {
            (Some(s), _) => (s, false),
            // An ack is the origin socket's copy of its event: it is always sent (an answer),
            // but it also takes its place in the sequence.
            (None, Payload::Ack { seq, .. }) => (*seq, true),
            (None, _) => return Step::Send,
        };
        if seq <= self.sent {
            return if is_ack { Step::Send } else { Step::Skip };
        }
        if seq == self.sent + 1 {
            self.sent = seq;
            return Step::Send;
        }
        Step::Fill {
            after: self.sent,
            up_to: seq - 1,
        }
    }

    /// The hole before `seq` was filled and `seq` is being sent.
    pub fn filled(&mut self, seq: u64) {
        self.sent = self.sent.max(seq);
    }

    /// The frame's seq, for [`Cursor::filled`].
    pub fn seq_of(out: &Outbound) -> Option<u64> {
        match (out.seq, &out.payload) {
            (Some(s), _) => Some(s),
            (None, Payload::Ack { seq, .. }) => Some(*seq),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn event(seq: u64) -> Outbound {
        Outbound {
            seq: Some(seq),
            payload: Payload::Event {
                seq,
                body: Arc::from("{}"),
            },
        }
    }

    fn ack(seq: u64) -> Outbound {
        Outbound {
            seq: None,
            payload: Payload::Ack {
                req: "r".into(),
                seq,
                body: Arc::from("{}"),
            },
        }
    }

    #[test]
    fn without_a_bus_only_the_replayed_range_is_skipped() {
        let mut c = Cursor::new(5, false);
        assert_eq!(c.step(&event(5)), Step::Skip);
        assert_eq!(c.step(&event(9)), Step::Send);
        // No tracking beyond the replay: unchanged behaviour of one node.
        assert_eq!(c.step(&event(7)), Step::Send);
    }

    #[test]
    fn with_a_bus_each_seq_goes_out_once_in_order_and_jumps_are_filled() {
        let mut c = Cursor::new(5, true);
        assert_eq!(c.step(&event(4)), Step::Skip);
        assert_eq!(c.step(&event(6)), Step::Send);
        assert_eq!(c.step(&event(6)), Step::Skip, "a duplicate");
        assert_eq!(c.step(&event(9)), Step::Fill { after: 6, up_to: 8 });
        c.filled(9);
        assert_eq!(c.step(&event(8)), Step::Skip, "late: filled already");
        assert_eq!(c.step(&ack(10)), Step::Send);
        assert_eq!(c.step(&event(10)), Step::Skip);
        assert_eq!(
            c.step(&ack(12)),
            Step::Fill {
                after: 10,
                up_to: 11
            }
        );
        c.filled(12);
        assert_eq!(c.step(&ack(3)), Step::Send, "an ack is always an answer");
        assert_eq!(c.step(&event(13)), Step::Send);
    }
}
