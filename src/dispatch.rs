//! The per-client dispatcher (behaviour contract, section 8): one thread runs every callback of
//! a client, one at a time, in event order, holding no SDK lock while app code runs.
//!
//! Removal: from another thread, `remove` waits until the listener is not running and then
//! drops it (running its `user_data_free`); from inside a callback (the dispatcher thread), the
//! running listener is dropped right after its callback returns.
//!
//! Stopping: pending events are dropped, queued completions still run, and every completion
//! that is still unresolved is resolved with `CANCELLED` on this thread before it ends, so a
//! stop from another thread returns only after each completion has run exactly once.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::{JoinHandle, ThreadId};

use crate::event::{Event, ListenerKind};

/// Receives events of one kind. Implemented by the FFI layer over C function pointers, and by
/// Rust apps directly.
pub trait Listener: Send {
    fn on_event(&mut self, event: &Event);
}

impl<F: FnMut(&Event) + Send> Listener for F {
    fn on_event(&mut self, event: &Event) {
        self(event)
    }
}

/// Work that runs once on the dispatcher thread.
pub type Thunk = Box<dyn FnOnce() + Send>;

/// Takes an unresolved completion's callback and returns it bound to `CANCELLED`; `None` when
/// it was resolved meanwhile.
pub type Canceller = Box<dyn FnOnce() -> Option<Thunk> + Send>;

/// Work for the dispatcher thread.
#[allow(clippy::large_enum_variant)] // events are the common case; boxing them costs more
pub enum Item {
    /// An event, tagged with the connection epoch it belongs to and, for durable events, its
    /// sequence number.
    Event {
        epoch: u64,
        seq: Option<u64>,
        event: Event,
    },
    /// A completion (runs exactly once).
    Run(Thunk),
}

struct Entry {
    kind: ListenerKind,
    id: String,
    removed: AtomicBool,
    slot: Mutex<Option<Box<dyn Listener>>>,
}

struct Queue {
    items: VecDeque<Item>,
    stopping: bool,
    /// The thread has ended: completions resolved from now on run on the resolving thread.
    exited: bool,
    /// Completions not resolved yet, oldest first; cancelled when the dispatcher stops.
    pending: BTreeMap<u64, Canceller>,
    next_completion: u64,
}

struct Listeners {
    list: Vec<Arc<Entry>>,
    /// Set when the listeners were released for good; later adds are refused.
    closed: bool,
}

pub struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    listeners: Mutex<Listeners>,
    /// Real-time events of older epochs are dropped (disconnect() bumps it).
    epoch: AtomicU64,
    /// Highest durable sequence handed to the app (the resume position worth saving).
    delivered: AtomicU64,
    thread: Mutex<Option<ThreadId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn post(&self, item: Item) {
        let mut q = lock(&self.queue);
        if q.stopping {
            match item {
                // Completions still run exactly once: on the dispatcher while it drains, on
                // the caller's thread once it has ended.
                Item::Run(f) if q.exited => {
                    drop(q);
                    f();
                }
                Item::Run(f) => {
                    q.items.push_back(Item::Run(f));
                    self.ready.notify_one();
                }
                Item::Event { .. } => {}
            }
            return;
        }
        q.items.push_back(item);
        self.ready.notify_one();
    }

    /// Registers an unresolved completion; the dispatcher cancels it if it stops first.
    pub(crate) fn register_completion(&self, cancel: Canceller) -> u64 {
        let mut q = lock(&self.queue);
        q.next_completion += 1;
        let id = q.next_completion;
        if q.exited {
            // Nobody will drain it: cancel at once, on this thread.
            drop(q);
            if let Some(thunk) = cancel() {
                thunk();
            }
        } else {
            q.pending.insert(id, cancel);
            self.ready.notify_one();
        }
        id
    }

    /// Resolves completion `id`: `take` yields its callback bound to the result, unless a stop
    /// cancelled it first. Taking and queueing happen under one lock, so exactly one of the two
    /// runs the callback.
    pub(crate) fn resolve_completion(&self, id: u64, take: impl FnOnce() -> Option<Thunk>) {
        let mut q = lock(&self.queue);
        let canceller = q.pending.remove(&id);
        let Some(thunk) = take() else {
            return;
        };
        if q.exited {
            drop(q);
            drop(canceller);
            thunk();
        } else {
            q.items.push_back(Item::Run(thunk));
            self.ready.notify_one();
        }
    }

    fn is_stopping(&self) -> bool {
        lock(&self.queue).stopping
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Starts a new epoch: real-time events queued for older ones will not be delivered.
    pub fn bump_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn delivered_seq(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    pub fn set_delivered_seq(&self, seq: u64) {
        self.delivered.store(seq, Ordering::SeqCst);
    }

    /// Marks a sequence as handled without a callback (our own send's ack).
    pub fn note_delivered(&self, seq: u64) {
        self.delivered.fetch_max(seq, Ordering::SeqCst);
    }

    pub fn on_dispatcher_thread(&self) -> bool {
        *lock(&self.thread) == Some(std::thread::current().id())
    }

    /// Adds a listener; an existing one with the same kind and id is removed (and released)
    /// first. Gives the listener back when the dispatcher has stopped for good.
    pub fn add(
        &self,
        kind: ListenerKind,
        id: &str,
        listener: Box<dyn Listener>,
    ) -> std::result::Result<(), Box<dyn Listener>> {
        let old = {
            let mut l = lock(&self.listeners);
            if l.closed {
                return Err(listener);
            }
            let old = l
                .list
                .iter()
                .position(|e| e.kind == kind && e.id == id)
                .map(|i| l.list.remove(i));
            l.list.push(Arc::new(Entry {
                kind,
                id: id.to_string(),
                removed: AtomicBool::new(false),
                slot: Mutex::new(Some(listener)),
            }));
            old
        };
        if let Some(entry) = old {
            self.release(&entry);
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

    fn release(&self, entry: &Entry) {
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

    fn deliver(&self, epoch: u64, seq: Option<u64>, event: &Event) {
        if event.is_realtime() && epoch != self.epoch() {
            return;
        }
        // A durable event reaches the app once, even when a replay overlaps what it saw.
        if seq.is_some_and(|s| s <= self.delivered_seq()) {
            return;
        }
        let mut unmarked = seq;
        let kind = event.kind();
        let targets: Vec<Arc<Entry>> = lock(&self.listeners)
            .list
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect();
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
                self.note_delivered(seq);
            }
            let mut slot = lock(&entry.slot);
            if entry.removed.load(Ordering::SeqCst) {
                slot.take();
                continue;
            }
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
        // No listener for it: handled all the same.
        if let Some(seq) = unmarked {
            self.note_delivered(seq);
        }
    }
}

/// Owns the dispatcher thread of one client.
pub struct Dispatcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    pub fn start(name: &str) -> std::io::Result<Dispatcher> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                stopping: false,
                exited: false,
                pending: BTreeMap::new(),
                next_completion: 0,
            }),
            ready: Condvar::new(),
            listeners: Mutex::new(Listeners {
                list: Vec::new(),
                closed: false,
            }),
            epoch: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            thread: Mutex::new(None),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(s))?;
        *lock(&shared.thread) = Some(thread.thread().id());
        Ok(Dispatcher {
            shared,
            thread: Some(thread),
        })
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Adds a listener; an existing one with the same kind and id is removed first.
    pub fn add(&self, kind: ListenerKind, id: &str, listener: Box<dyn Listener>) {
        // Refused only after `stop`, which takes `self`'s thread: then dropping it is right.
        let _ = self.shared.add(kind, id, listener);
    }

    /// Removes a listener; returns whether one was registered. See the module doc for when it
    /// is released.
    pub fn remove(&self, kind: ListenerKind, id: &str) -> bool {
        self.shared.remove(kind, id)
    }

    /// Stops the thread after the current callback. Called on the dispatcher thread (the app
    /// freed the client from a callback), it does not wait; elsewhere it joins the thread.
    /// Pending events are dropped; queued completions run, unresolved ones are cancelled;
    /// listeners are released.
    pub fn stop(&mut self) {
        {
            let mut q = lock(&self.shared.queue);
            q.stopping = true;
            self.shared.ready.notify_all();
        }
        if let Some(t) = self.thread.take() {
            if !self.shared.on_dispatcher_thread() {
                let _ = t.join();
                release_all(&self.shared);
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn release_all(shared: &Shared) {
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

fn run(shared: Arc<Shared>) {
    loop {
        let item = {
            let mut q = lock(&shared.queue);
            loop {
                if let Some(item) = q.items.pop_front() {
                    break Some(item);
                }
                if q.stopping {
                    // Everything queued ran: cancel what is still unresolved, then end.
                    let pending = std::mem::take(&mut q.pending);
                    let cancelled: Vec<Thunk> = pending.into_values().filter_map(|c| c()).collect();
                    if cancelled.is_empty() {
                        q.exited = true;
                        break None;
                    }
                    q.items.extend(cancelled.into_iter().map(Item::Run));
                    continue;
                }
                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let stopping = lock(&shared.queue).stopping;
        match item {
            None => break,
            Some(Item::Run(f)) => {
                let _ = catch_unwind(AssertUnwindSafe(f));
            }
            Some(Item::Event { epoch, seq, event }) => {
                if !stopping {
                    shared.deliver(epoch, seq, &event);
                }
            }
        }
    }
    // Release here too: when the client was freed from inside a callback nobody joins us.
    release_all(&shared);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorCode};
    use std::sync::mpsc;

    fn log_event(n: u64) -> Event {
        Event::ConnectionError(Error::new(ErrorCode::Network, n.to_string()))
    }

    #[test]
    fn events_run_in_order_on_one_thread() {
        let d = Dispatcher::start("t").unwrap();
        let (tx, rx) = mpsc::channel();
        d.add(
            ListenerKind::Connection,
            "a",
            Box::new(move |e: &Event| {
                if let Event::ConnectionError(err) = e {
                    tx.send((
                        std::thread::current().name().map(String::from),
                        err.message.clone(),
                    ))
                    .unwrap();
                }
            }),
        );
        for n in 0..100 {
            d.shared().post(Item::Event {
                epoch: 0,
                seq: None,
                event: log_event(n),
            });
        }
        for n in 0..100 {
            let (thread, msg) = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
            assert_eq!(thread.as_deref(), Some("t"));
            assert_eq!(msg, n.to_string());
        }
    }

    struct Dropped(mpsc::Sender<&'static str>);
    impl Listener for Dropped {
        fn on_event(&mut self, _: &Event) {}
    }
    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send("dropped");
        }
    }

    #[test]
    fn remove_releases_before_returning_and_replace_releases_the_old_one() {
        let d = Dispatcher::start("t").unwrap();
        let (tx, rx) = mpsc::channel();
        d.add(ListenerKind::Message, "x", Box::new(Dropped(tx.clone())));
        d.add(ListenerKind::Message, "x", Box::new(Dropped(tx.clone())));
        assert_eq!(rx.try_recv(), Ok("dropped"), "replacing released the first");
        assert!(d.remove(ListenerKind::Message, "x"));
        assert_eq!(
            rx.try_recv(),
            Ok("dropped"),
            "released before remove returned"
        );
        assert!(!d.remove(ListenerKind::Message, "x"));
    }

    #[test]
    fn stale_epoch_realtime_events_are_dropped() {
        let d = Dispatcher::start("t").unwrap();
        let (tx, rx) = mpsc::channel();
        d.add(
            ListenerKind::Message,
            "m",
            Box::new(move |e: &Event| {
                if let Event::Gap(g) = e {
                    tx.send(g.from_seq).unwrap();
                }
            }),
        );
        let gap = |n| {
            Event::Gap(chinwag_protocol::frames::Gap {
                from_seq: n,
                to_seq: n,
            })
        };
        d.shared().post(Item::Event {
            epoch: 0,
            seq: None,
            event: gap(1),
        });
        // Delivered before the epoch moves on (bumping right away would race with it).
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
            1
        );
        let e = d.shared().bump_epoch();
        d.shared().post(Item::Event {
            epoch: 0,
            seq: None,
            event: gap(2),
        });
        d.shared().post(Item::Event {
            epoch: e,
            seq: None,
            event: gap(3),
        });
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
            3
        );
    }

    #[test]
    fn stop_cancels_unresolved_completions_before_it_returns() {
        use crate::completion::Completer;
        let mut d = Dispatcher::start("t").unwrap();
        let (tx, rx) = mpsc::channel();
        let mut completers = Vec::new();
        for n in 0..3 {
            let tx = tx.clone();
            completers.push(Completer::<u32>::new(
                d.shared(),
                Box::new(move |r| tx.send((n, r.map_err(|e| e.code))).unwrap()),
            ));
        }
        completers.remove(1).complete(Ok(7));
        d.stop();
        let mut got: Vec<_> = rx.try_iter().collect();
        got.sort_by_key(|(n, _)| *n);
        assert_eq!(
            got,
            vec![
                (0, Err(ErrorCode::Cancelled)),
                (1, Ok(7)),
                (2, Err(ErrorCode::Cancelled))
            ],
            "each ran once, on the dispatcher, before stop returned"
        );
        // The work finishing later changes nothing; nor does a completion created afterwards
        // (it is cancelled at once).
        completers.remove(0).complete(Ok(1));
        drop(completers);
        let tx2 = tx.clone();
        drop(Completer::<u32>::new(
            d.shared(),
            Box::new(move |r| tx2.send((9, r.map_err(|e| e.code))).unwrap()),
        ));
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            vec![(9, Err(ErrorCode::Cancelled))]
        );
    }

    #[test]
    fn listeners_cannot_be_added_after_stop() {
        let mut d = Dispatcher::start("t").unwrap();
        let shared = d.shared();
        d.stop();
        let (tx, rx) = mpsc::channel();
        let back = shared.add(ListenerKind::Message, "late", Box::new(Dropped(tx)));
        assert!(back.is_err(), "refused and handed back");
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        drop(back);
        assert_eq!(rx.try_recv(), Ok("dropped"));
    }

    #[test]
    fn stop_runs_pending_completions_exactly_once() {
        let mut d = Dispatcher::start("t").unwrap();
        let (tx, rx) = mpsc::channel();
        for n in 0..10 {
            let tx = tx.clone();
            d.shared()
                .post(Item::Run(Box::new(move || tx.send(n).unwrap())));
        }
        d.stop();
        let shared = d.shared();
        let tx2 = tx.clone();
        shared.post(Item::Run(Box::new(move || tx2.send(99).unwrap())));
        let got: Vec<i32> = rx.try_iter().collect();
        assert_eq!(got, (0..10).chain([99]).collect::<Vec<_>>());
    }
}
