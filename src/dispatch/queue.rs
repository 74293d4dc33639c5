//! The dispatcher's queue: items in order, the completions not resolved yet, and app mode's
//! readiness descriptor.

use super::*;

pub(super) struct Queue {
    pub(super) items: VecDeque<Item>,
    pub(super) stopping: bool,
    /// Stopped for good: completions resolved from now on run on the resolving thread.
    pub(super) exited: bool,
    /// Completions not resolved yet, oldest first; cancelled when the dispatcher stops.
    pub(super) pending: BTreeMap<u64, Canceller>,
    pub(super) next_completion: u64,
    /// App mode: readable while `items` is not empty; closed (dropped) once stopped.
    pub(super) readiness: Option<Readiness>,
}

impl Queue {
    /// Called before the dispatcher thread waits on an empty queue: gives its slots back (an
    /// item is a few hundred bytes), so neither a burst's peak nor the few events of a connect
    /// stay with an idle client. Within a burst the thread does not wait, so this costs one
    /// allocation per burst.
    pub(super) fn shrink_idle(&mut self) {
        if self.items.capacity() > 0 {
            self.items = VecDeque::new();
        }
    }

    pub(super) fn push(&mut self, item: Item) {
        self.items.push_back(item);
        if let Some(r) = &mut self.readiness {
            r.raise();
        }
    }

    /// Stopping: the next queued item; once none is left, the unresolved completions are
    /// cancelled and queued; `None` when there are none either (and from then on `exited`).
    pub(super) fn next_when_stopping(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.items.pop_front() {
                return Some(item);
            }
            let pending = std::mem::take(&mut self.pending);
            let cancelled: Vec<Thunk> = pending.into_values().filter_map(|c| c()).collect();
            if cancelled.is_empty() {
                self.exited = true;
                return None;
            }
            self.items.extend(cancelled.into_iter().map(Item::Run));
        }
    }
}
