//! The listeners: adding (with a greeting for late connection listeners), removing, releasing,
//! and delivering an event to every listener of its kind.

use super::*;

pub(super) struct Entry {
    pub(super) kind: ListenerKind,
    pub(super) id: String,
    pub(super) removed: AtomicBool,
    pub(super) slot: Mutex<Option<Box<dyn Listener>>>,
    /// The state its peers last heard, for a connection listener added after init: delivered
    /// to it before anything else (taken under `slot`).
    pub(super) greeting: Mutex<Option<Event>>,
}

pub(super) struct Listeners {
    pub(super) list: Vec<Arc<Entry>>,
    /// The state of the last state event handed to the connection listeners (updated under
    /// this lock as the targets are taken, so a listener added meanwhile greets with it).
    pub(super) state: ConnectionState,
    /// Set when the listeners were released for good; later adds are refused.
    pub(super) closed: bool,
}

impl Shared {
    /// Adds a listener; an existing one with the same kind and id is removed (and released)
    /// first. Gives the listener back when the dispatcher has stopped for good.
    pub fn add(
        &self,
        kind: ListenerKind,
        id: &str,
        listener: Box<dyn Listener>,
    ) -> std::result::Result<(), Box<dyn Listener>> {
        self.add_entry(kind, id, listener, false)
    }

    /// As [`Shared::add`], for a listener added after init: a connection listener first hears
    /// the current state (see the module doc), and held events of its kind go to it.
    pub fn add_greeted(
        &self,
        kind: ListenerKind,
        id: &str,
        listener: Box<dyn Listener>,
    ) -> std::result::Result<(), Box<dyn Listener>> {
        self.add_entry(kind, id, listener, true)
    }

    pub(super) fn add_entry(
        &self,
        kind: ListenerKind,
        id: &str,
        listener: Box<dyn Listener>,
        greet: bool,
    ) -> std::result::Result<(), Box<dyn Listener>> {
        let (old, entry) = {
            let mut l = lock(&self.listeners);
            if l.closed {
                return Err(listener);
            }
            let old = l
                .list
                .iter()
                .position(|e| e.kind == kind && e.id == id)
                .map(|i| l.list.remove(i));
            let greeting = (greet && kind == ListenerKind::Connection).then(|| {
                Event::State(StateChange {
                    previous: l.state,
                    current: l.state,
                    reason: Reason::ListenerAdded,
                    message: "the state when the listener was added".into(),
                    retry_in_ms: None,
                })
            });
            let entry = Arc::new(Entry {
                kind,
                id: id.to_string(),
                removed: AtomicBool::new(false),
                slot: Mutex::new(Some(listener)),
                greeting: Mutex::new(greeting),
            });
            l.list.push(entry.clone());
            (old, entry)
        };
        if let Some(entry) = old {
            self.release(&entry);
        }
        if lock(&entry.greeting).is_some() {
            // Greets even when no other event comes; an earlier event greets it first.
            self.post(Item::Run(Box::new(move || {
                let mut slot = lock(&entry.slot);
                if !entry.removed.load(Ordering::SeqCst) {
                    greet_entry(&entry, &mut slot);
                }
            })));
        }
        if !lock(&self.hold).held.is_empty() {
            // Events may wait for this listener.
            self.post(Item::ReleaseHeld);
        }
        Ok(())
    }

    /// Removes a listener; returns whether one was registered. See the module doc for when it
    /// is released.
    pub fn remove(&self, kind: ListenerKind, id: &str) -> bool {
        let entry = {
            let mut l = lock(&self.listeners);
            match l.list.iter().position(|e| e.kind == kind && e.id == id) {
                Some(i) => l.list.remove(i),
                None => return false,
            }
        };
        self.release(&entry);
        true
    }

    pub(super) fn release(&self, entry: &Entry) {
        entry.removed.store(true, Ordering::SeqCst);
        if self.on_dispatcher_thread() {
            // If it is the one running now, the dispatcher releases it when it returns.
            match entry.slot.try_lock() {
                Ok(mut slot) => drop(slot.take()),
                Err(TryLockError::Poisoned(p)) => drop(p.into_inner().take()),
                Err(TryLockError::WouldBlock) => {}
            }
        } else {
            // Waits for a running callback of this listener to return.
            drop(lock(&entry.slot).take());
        }
    }

    pub(super) fn deliver(&self, epoch: u64, seq: Option<u64>, event: &Event) {
        if event.is_realtime() && epoch != self.epoch() {
            return;
        }
        // A durable event reaches the app once, even when a replay overlaps what it saw.
        if seq.is_some_and(|s| s <= self.delivered_seq()) {
            return;
        }
        let mut unmarked = seq;
        let kind = event.kind();
        let targets: Vec<Arc<Entry>> = {
            let mut l = lock(&self.listeners);
            if let Event::State(change) = event {
                l.state = change.current;
            }
            l.list.iter().filter(|e| e.kind == kind).cloned().collect()
        };
        for entry in targets {
            if event.is_realtime() && epoch != self.epoch() {
                return;
            }
            // The client was freed by an earlier callback of this event: no more callbacks.
            if self.is_stopping() {
                return;
            }
            // Delivered from the moment its first callback may start, not before the checks
            // above: an event dropped by them must be replayed, not counted as seen.
            if let Some(seq) = unmarked.take() {
                self.delivered.fetch_max(seq, Ordering::SeqCst);
            }
            let mut slot = lock(&entry.slot);
            if entry.removed.load(Ordering::SeqCst) {
                slot.take();
                continue;
            }
            greet_entry(&entry, &mut slot);
            if let Some(listener) = slot.as_mut() {
                if catch_unwind(AssertUnwindSafe(|| listener.on_event(event))).is_err() {
                    // A Rust listener panicked; the app keeps running and so does delivery.
                }
            }
            // Removed from inside its own callback: release it now that it returned.
            if entry.removed.load(Ordering::SeqCst) {
                slot.take();
            }
        }
        // No listener for it: handled all the same. (Events reach this in order: the hold
        // keeps everything behind a held event, so this never passes one.)
        if let Some(seq) = unmarked {
            self.delivered.fetch_max(seq, Ordering::SeqCst);
        }
    }
}

/// Delivers a listener's pending greeting (its first event), with its slot locked.
pub(super) fn greet_entry(entry: &Entry, slot: &mut Option<Box<dyn Listener>>) {
    let Some(greeting) = lock(&entry.greeting).take() else {
        return;
    };
    if let Some(listener) = slot.as_mut() {
        let _ = catch_unwind(AssertUnwindSafe(|| listener.on_event(&greeting)));
    }
}

pub(super) fn release_all(shared: &Shared) {
    let entries: Vec<Arc<Entry>> = {
        let mut l = lock(&shared.listeners);
        l.closed = true;
        l.list.drain(..).collect()
    };
    for e in entries {
        e.removed.store(true, Ordering::SeqCst);
        drop(lock(&e.slot).take());
    }
}
