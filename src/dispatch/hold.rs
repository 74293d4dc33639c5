//! The hold that `init` starts (module doc of `dispatch`): real-time events of a kind without a
//! listener wait for one, in order, with the acknowledged positions behind them.

use super::*;

/// A real-time event, or an acknowledged position, kept by the hold (see the module doc).
#[allow(clippy::large_enum_variant)] // events are the common case, as in `Item`
pub(super) enum Held {
    Event {
        epoch: u64,
        seq: Option<u64>,
        event: Event,
    },
    Mark {
        epoch: u64,
        seq: u64,
    },
}

#[derive(Default)]
pub(super) struct Hold {
    /// Real-time events wait for a listener of their kind until then; `None`: no hold.
    pub(super) until: Option<Instant>,
    pub(super) held: VecDeque<Held>,
}

impl Shared {
    /// Starts the hold of the module doc: until `until`, real-time events of a kind without a
    /// listener wait for one. Post [`Item::ReleaseHeld`] at `until` so that the rest goes then.
    pub fn hold_realtime_until(&self, until: Instant) {
        lock(&self.hold).until = Some(until);
    }

    /// Whether the hold takes this real-time event (it then keeps it, in order).
    pub(super) fn hold_event(&self, epoch: u64, seq: Option<u64>, event: Event) -> Option<Event> {
        let mut h = lock(&self.hold);
        let Some(until) = h.until else {
            return Some(event);
        };
        if Instant::now() >= until {
            drop(h);
            self.release_held();
            return Some(event);
        }
        if h.held.is_empty() && self.has_listener(event.kind()) {
            return Some(event);
        }
        let behind = !h.held.is_empty();
        h.held.push_back(Held::Event { epoch, seq, event });
        drop(h);
        if behind {
            // What holds it up may be stale now (a disconnect() since): let it go if so.
            self.release_held();
        }
        None
    }

    pub(super) fn has_listener(&self, kind: ListenerKind) -> bool {
        lock(&self.listeners).list.iter().any(|e| e.kind == kind)
    }

    /// On the dispatching thread: delivers held items from the front while their kind has a
    /// listener (or they are stale); everything once the hold has ended, which ends it.
    pub(super) fn release_held(&self) {
        loop {
            let item = {
                let mut h = lock(&self.hold);
                let ended = h.until.is_none_or(|u| Instant::now() >= u);
                let go = match h.held.front() {
                    None => {
                        if ended {
                            h.until = None;
                        }
                        return;
                    }
                    Some(_) if ended => true,
                    Some(Held::Mark { .. }) => true,
                    Some(Held::Event { epoch, event, .. }) => {
                        *epoch != self.epoch() || self.has_listener(event.kind())
                    }
                };
                if !go {
                    return;
                }
                h.held.pop_front()
            };
            match item {
                Some(Held::Event { epoch, seq, event }) => {
                    if self.is_stopping() {
                        return;
                    }
                    self.deliver(epoch, seq, &event);
                }
                Some(Held::Mark { epoch, seq }) => {
                    if epoch == self.epoch() {
                        self.delivered.fetch_max(seq, Ordering::SeqCst);
                    }
                }
                None => return,
            }
        }
    }
}
