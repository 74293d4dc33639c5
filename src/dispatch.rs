//! The per-client dispatcher (docs/behaviour.md, section 8): every callback of a client runs on
//! one thread at a time, one at a time, in event order, with no SDK lock held while app code
//! runs.
//!
//! Two modes ([`crate::settings::DispatchMode`]). Thread mode ([`Dispatcher::start`]): a
//! dispatcher thread of the client's own runs the callbacks. App mode ([`Dispatcher::start_app`]):
//! no thread is started; a readiness descriptor ([`Shared::dispatch_fd`]) is readable exactly
//! while items wait, and [`Shared::dispatch`] runs them on the calling thread, one such call at
//! a time (a concurrent call from another thread waits for the running one to return).
//! Below, "the dispatching thread" is the thread that runs callbacks at that moment: the
//! dispatcher thread, or the thread inside `dispatch` (or finishing a stop).
//!
//! Removal: from another thread, `remove` waits until the listener is not running and then
//! drops it (running its `user_data_free`); from inside a callback (the dispatching thread), the
//! running listener is dropped right after its callback returns.
//!
//! Listeners added after `init` miss nothing (docs/behaviour.md, section 6). A connection
//! listener added with [`Shared::add_greeted`] first hears the state its earlier peers last
//! heard (a `LISTENER_ADDED` state event with `previous == current`), before any later event,
//! so every change after it arrives once. And while the hold that `init` starts lasts
//! ([`Shared::hold_realtime_until`]), a real-time event of a kind that has no listener yet is
//! held, with every real-time event and acknowledged position after it (their order is kept),
//! until a listener of its kind is added or the hold ends; then it is delivered as usual.
//! Held events do not count as delivered, so the saved resume position never passes them.
//!
//! Stopping: pending events are dropped, queued completions still run, and every completion
//! that is still unresolved is resolved with `CANCELLED` before the stop finishes, so a stop from
//! outside a callback returns only after each completion has run exactly once. Thread mode runs
//! them on the dispatcher thread; app mode on the stopping thread (or on a thread dispatching at
//! that moment, which finishes the stop before the stopping thread gets its turn). A stop from
//! inside a callback does not wait: the dispatcher thread, or the `dispatch` call running that
//! callback, finishes it after the callback returns.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::{JoinHandle, ThreadId};
use std::time::Instant;

use crate::error::{Error, ErrorCode, Result};
use crate::event::{Event, ListenerKind};
use crate::readiness::Readiness;
use crate::state::{ConnectionState, Reason, StateChange};

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

/// Work that runs once on the dispatching thread.
pub type Thunk = Box<dyn FnOnce() + Send>;

/// Takes an unresolved completion's callback and returns it bound to `CANCELLED`; `None` when
/// it was resolved meanwhile.
pub type Canceller = Box<dyn FnOnce() -> Option<Thunk> + Send>;

/// Work for the dispatching thread.
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
    /// Delivers what the hold keeps and may go now (a listener was added, or the hold ended).
    ReleaseHeld,
}

/// A real-time event, or an acknowledged position, kept by the hold (see the module doc).
#[allow(clippy::large_enum_variant)] // events are the common case, as in `Item`
enum Held {
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
struct Hold {
    /// Real-time events wait for a listener of their kind until then; `None`: no hold.
    until: Option<Instant>,
    held: VecDeque<Held>,
}

struct Entry {
    kind: ListenerKind,
    id: String,
    removed: AtomicBool,
    slot: Mutex<Option<Box<dyn Listener>>>,
    /// The state its peers last heard, for a connection listener added after init: delivered
    /// to it before anything else (taken under `slot`).
    greeting: Mutex<Option<Event>>,
}

struct Queue {
    items: VecDeque<Item>,
    stopping: bool,
    /// Stopped for good: completions resolved from now on run on the resolving thread.
    exited: bool,
    /// Completions not resolved yet, oldest first; cancelled when the dispatcher stops.
    pending: BTreeMap<u64, Canceller>,
    next_completion: u64,
    /// App mode: readable while `items` is not empty; closed (dropped) once stopped.
    readiness: Option<Readiness>,
}

impl Queue {
    /// Called before the dispatcher thread waits on an empty queue: gives its slots back (an
    /// item is a few hundred bytes), so neither a burst's peak nor the few events of a connect
    /// stay with an idle client. Within a burst the thread does not wait, so this costs one
    /// allocation per burst.
    fn shrink_idle(&mut self) {
        if self.items.capacity() > 0 {
            self.items = VecDeque::new();
        }
    }

    fn push(&mut self, item: Item) {
        self.items.push_back(item);
        if let Some(r) = &mut self.readiness {
            r.raise();
        }
    }

    /// Stopping: the next queued item; once none is left, the unresolved completions are
    /// cancelled and queued; `None` when there are none either (and from then on `exited`).
    fn next_when_stopping(&mut self) -> Option<Item> {
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

struct Listeners {
    list: Vec<Arc<Entry>>,
    /// The state of the last state event handed to the connection listeners (updated under
    /// this lock as the targets are taken, so a listener added meanwhile greets with it).
    state: ConnectionState,
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
    /// The thread that runs callbacks: the dispatcher thread for its whole life (thread mode);
    /// the thread inside `dispatch` or finishing a stop, `None` otherwise (app mode).
    thread: Mutex<Option<ThreadId>>,
    /// App mode only: held by each `dispatch` call (and the stop) for its whole run, so one
    /// thread at a time runs callbacks.
    turn: Option<Mutex<()>>,
    /// Touched on the dispatching thread, and by `init` before any event.
    hold: Mutex<Hold>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Marks the calling thread as the dispatching one (app mode) until dropped.
struct Running<'a>(&'a Shared);

impl<'a> Running<'a> {
    fn enter(shared: &'a Shared) -> Running<'a> {
        *lock(&shared.thread) = Some(std::thread::current().id());
        Running(shared)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        *lock(&self.0.thread) = None;
    }
}

impl Shared {
    fn new(readiness: Option<Readiness>) -> Arc<Shared> {
        let app = readiness.is_some();
        Arc::new(Shared {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                stopping: false,
                exited: false,
                pending: BTreeMap::new(),
                next_completion: 0,
                readiness,
            }),
            ready: Condvar::new(),
            listeners: Mutex::new(Listeners {
                list: Vec::new(),
                state: ConnectionState::Disconnected,
                closed: false,
            }),
            epoch: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            thread: Mutex::new(None),
            turn: app.then(|| Mutex::new(())),
            hold: Mutex::new(Hold::default()),
        })
    }

    pub fn post(&self, item: Item) {
        let mut q = lock(&self.queue);
        if q.stopping {
            match item {
                // Completions still run exactly once: by the stop while it drains, on the
                // caller's thread once it has finished.
                Item::Run(f) if q.exited => {
                    drop(q);
                    f();
                }
                Item::Run(f) => {
                    q.push(Item::Run(f));
                    self.ready.notify_one();
                }
                Item::Event { .. } | Item::ReleaseHeld => {}
            }
            return;
        }
        self.push_and_wake(q, item);
    }

    /// Queues an item and wakes the dispatcher thread, after the lock is released (woken
    /// under it, the thread would first block on the lock) and only when the queue was empty
    /// (otherwise the thread is still draining it and looks again before it waits): one
    /// wake-up per burst, not one futex call per event.
    fn push_and_wake(&self, mut q: MutexGuard<'_, Queue>, item: Item) {
        let was_empty = q.items.is_empty();
        q.push(item);
        drop(q);
        if was_empty {
            self.ready.notify_one();
        }
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
            self.push_and_wake(q, Item::Run(thunk));
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

    /// Marks a sequence as handled without a callback (our own send's ack). Called on the
    /// dispatching thread while the hold keeps events, it waits behind them.
    pub fn note_delivered(&self, seq: u64) {
        if self.on_dispatcher_thread() {
            let mut h = lock(&self.hold);
            if !h.held.is_empty() {
                let epoch = self.epoch();
                h.held.push_back(Held::Mark { epoch, seq });
                return;
            }
        }
        self.delivered.fetch_max(seq, Ordering::SeqCst);
    }

    /// Starts the hold of the module doc: until `until`, real-time events of a kind without a
    /// listener wait for one. Post [`Item::ReleaseHeld`] at `until` so that the rest goes then.
    pub fn hold_realtime_until(&self, until: Instant) {
        lock(&self.hold).until = Some(until);
    }

    /// Whether the hold takes this real-time event (it then keeps it, in order).
    fn hold_event(&self, epoch: u64, seq: Option<u64>, event: Event) -> Option<Event> {
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

    fn has_listener(&self, kind: ListenerKind) -> bool {
        lock(&self.listeners).list.iter().any(|e| e.kind == kind)
    }

    /// On the dispatching thread: delivers held items from the front while their kind has a
    /// listener (or they are stale); everything once the hold has ended, which ends it.
    fn release_held(&self) {
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

    /// Whether the calling thread is the one running this client's callbacks (so it is inside
    /// one of them, or inside the dispatcher's own work between them).
    pub fn on_dispatcher_thread(&self) -> bool {
        *lock(&self.thread) == Some(std::thread::current().id())
    }

    /// Whether the app drives delivery (app mode).
    pub fn app_driven(&self) -> bool {
        self.turn.is_some()
    }

    /// App mode: the descriptor that is readable while items wait; `None` in thread mode and
    /// once stopped (it is closed then).
    #[cfg(unix)]
    pub fn dispatch_fd(&self) -> Option<std::os::fd::RawFd> {
        lock(&self.queue).readiness.as_ref().map(|r| r.fd())
    }

    /// App mode: whether a byte is pending on the descriptor.
    #[cfg(all(test, unix))]
    fn raised(&self) -> bool {
        lock(&self.queue)
            .readiness
            .as_ref()
            .is_some_and(|r| r.is_raised())
    }

    /// App mode: runs up to `max` waiting items (0: the items waiting when it starts) on the
    /// calling thread, in order, and returns how many it took from the queue (a delivered
    /// event, an event dropped as stale, a completion). Leaves the descriptor readable if
    /// items remain, drained otherwise. When it finds the dispatcher stopping (a stop from
    /// inside one of its callbacks, or from another thread meanwhile) it finishes the stop.
    ///
    /// Errors: `INVALID_ARGUMENT` in thread mode, `REENTRANT_CALL` from inside a callback of
    /// this client, `CLIENT_FREED` once stopped. A call from another thread while one runs
    /// waits for it to return.
    pub fn dispatch(&self, max: usize) -> Result<usize> {
        let Some(turn) = &self.turn else {
            return Err(Error::invalid(
                "dispatch needs the app dispatch mode: this client runs its callbacks on its own \
                 dispatcher thread",
            ));
        };
        if self.on_dispatcher_thread() {
            return Err(Error::new(
                ErrorCode::ReentrantCall,
                "dispatch was called from inside a callback of the same client: return from the \
                 callback instead; the next dispatch runs what is waiting",
            ));
        }
        let _turn = lock(turn);
        let limit = {
            let q = lock(&self.queue);
            if q.exited {
                return Err(Error::new(ErrorCode::ClientFreed, "the client was freed"));
            }
            if max == 0 {
                q.items.len()
            } else {
                max
            }
        };
        let _running = Running::enter(self);
        let mut taken = 0;
        while taken < limit {
            let item = {
                let mut q = lock(&self.queue);
                if q.stopping {
                    break;
                }
                q.items.pop_front()
            };
            let Some(item) = item else {
                break;
            };
            taken += 1;
            self.run_item(item);
        }
        {
            let mut guard = lock(&self.queue);
            let q = &mut *guard;
            if !q.stopping {
                if let Some(r) = &mut q.readiness {
                    r.lower();
                    if !q.items.is_empty() {
                        r.raise();
                    }
                }
                return Ok(taken);
            }
        }
        Ok(taken + self.finish_stop())
    }

    /// Runs one item on the dispatching thread; events are dropped once stopping.
    fn run_item(&self, item: Item) {
        match item {
            Item::Run(f) => {
                let _ = catch_unwind(AssertUnwindSafe(f));
            }
            Item::Event { epoch, seq, event } => {
                if self.is_stopping() {
                    return;
                }
                let event = if event.is_realtime() {
                    match self.hold_event(epoch, seq, event) {
                        Some(e) => e,
                        None => return,
                    }
                } else {
                    event
                };
                self.deliver(epoch, seq, &event);
            }
            Item::ReleaseHeld => {
                if !self.is_stopping() {
                    self.release_held();
                }
            }
        }
    }

    /// App mode, with the turn held and the calling thread dispatching: runs what the stop
    /// leaves (queued completions, then the unresolved ones cancelled), releases the
    /// listeners, then closes the descriptor. Returns how many items it took; nothing to do
    /// once done.
    fn finish_stop(&self) -> usize {
        let mut taken = 0;
        loop {
            let item = {
                let mut q = lock(&self.queue);
                if q.exited {
                    return taken;
                }
                q.next_when_stopping()
            };
            let Some(item) = item else {
                break;
            };
            taken += 1;
            self.run_item(item);
        }
        release_all(self);
        let readiness = lock(&self.queue).readiness.take();
        drop(readiness);
        taken
    }

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

    fn add_entry(
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

/// Owns the dispatching side of one client: its dispatcher thread (thread mode), or the
/// readiness descriptor that app threads poll (app mode).
pub struct Dispatcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Thread mode: starts the client's dispatcher thread.
    pub fn start(name: &str) -> std::io::Result<Dispatcher> {
        let shared = Shared::new(None);
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

    /// App mode: no thread; the app runs the items with [`Shared::dispatch`].
    pub fn start_app() -> std::io::Result<Dispatcher> {
        Ok(Dispatcher {
            shared: Shared::new(Some(Readiness::new()?)),
            thread: None,
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

    /// Stops after the current callback. Called on the dispatching thread (the app freed the
    /// client from a callback), it does not wait; elsewhere it joins the thread (thread mode)
    /// or waits for its turn and finishes the stop itself (app mode). Pending events are
    /// dropped; queued completions run, unresolved ones are cancelled; listeners are released.
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
        } else if let Some(turn) = &self.shared.turn {
            if !self.shared.on_dispatcher_thread() {
                let _turn = lock(turn);
                let _running = Running::enter(&self.shared);
                self.shared.finish_stop();
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Delivers a listener's pending greeting (its first event), with its slot locked.
fn greet_entry(entry: &Entry, slot: &mut Option<Box<dyn Listener>>) {
    let Some(greeting) = lock(&entry.greeting).take() else {
        return;
    };
    if let Some(listener) = slot.as_mut() {
        let _ = catch_unwind(AssertUnwindSafe(|| listener.on_event(&greeting)));
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

/// The dispatcher thread (thread mode).
fn run(shared: Arc<Shared>) {
    loop {
        let item = {
            let mut q = lock(&shared.queue);
            loop {
                if let Some(item) = q.items.pop_front() {
                    break Some(item);
                }
                q.shrink_idle();
                if q.stopping {
                    // Everything queued ran: cancel what is still unresolved, then end.
                    break q.next_when_stopping();
                }
                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        match item {
            None => break,
            Some(item) => shared.run_item(item),
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

    // ----- listeners added after init ---------------------------------------------------------

    fn message(n: u64) -> Event {
        Event::Gap(chinwag_protocol::frames::Gap {
            from_seq: n,
            to_seq: n,
        })
    }

    fn post_durable(shared: &Shared, seq: u64, event: Event) {
        shared.post(Item::Event {
            epoch: 0,
            seq: Some(seq),
            event,
        });
    }

    /// Reports each event as a string, on the dispatcher thread.
    fn namer(tx: mpsc::Sender<String>) -> Box<dyn Listener> {
        Box::new(move |e: &Event| {
            let name = match e {
                Event::Gap(g) => format!("message {}", g.from_seq),
                Event::GroupMember(g) => format!("group {}", g.guid),
                Event::State(c) => format!(
                    "{}->{} {}",
                    c.previous.name(),
                    c.current.name(),
                    c.reason.name()
                ),
                other => format!("{other:?}"),
            };
            let _ = tx.send(name);
        })
    }

    fn group(guid: &str) -> Event {
        Event::GroupMember(chinwag_protocol::model::GroupMemberEvent {
            guid: guid.into(),
            ..serde_json::from_value(serde_json::json!({
                "guid": "g", "group_name": "G", "action": "joined", "member": "m", "by": "m", "at": 0
            }))
            .unwrap()
        })
    }

    #[test]
    #[cfg(unix)]
    fn the_hold_keeps_order_and_position_until_a_listener_of_the_kind_exists() {
        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
        let (tx, rx) = mpsc::channel();
        d.shared()
            .add_greeted(ListenerKind::Group, "g", namer(tx.clone()))
            .ok()
            .unwrap();
        post_durable(&shared, 1, message(1)); // no message listener: held
        post_durable(&shared, 2, group("behind")); // behind a held event: held too
        shared.post(Item::Run(Box::new({
            let s = shared.clone();
            move || s.note_delivered(3) // an acknowledged position: waits behind them
        })));
        shared.dispatch(0).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), Vec::<String>::new());
        assert_eq!(
            shared.delivered_seq(),
            0,
            "nothing held counts as delivered"
        );
        shared
            .add_greeted(ListenerKind::Message, "m", namer(tx.clone()))
            .ok()
            .unwrap();
        shared.dispatch(0).unwrap();
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            ["message 1", "group behind"],
            "in order, once a listener of the first one's kind exists"
        );
        assert_eq!(shared.delivered_seq(), 3);
        post_durable(&shared, 4, message(4));
        shared.dispatch(0).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["message 4"]);
    }

    #[test]
    #[cfg(unix)]
    fn held_events_of_an_older_epoch_hold_nothing_up() {
        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
        let (tx, rx) = mpsc::channel();
        shared
            .add_greeted(ListenerKind::Group, "g", namer(tx))
            .ok()
            .unwrap();
        post_durable(&shared, 1, message(1)); // held: no message listener
        shared.dispatch(0).unwrap();
        let epoch = shared.bump_epoch(); // disconnect(): the held message is stale
        shared.post(Item::Event {
            epoch,
            seq: None,
            event: group("next"),
        });
        shared.dispatch(0).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["group next"]);
        assert_eq!(
            shared.delivered_seq(),
            0,
            "the stale one was dropped, not delivered"
        );
    }

    #[test]
    #[cfg(unix)]
    fn the_end_of_the_hold_releases_everything() {
        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
        post_durable(&shared, 1, message(1));
        shared.dispatch(0).unwrap();
        assert_eq!(shared.delivered_seq(), 0, "held");
        // The grace ends (moved to now rather than waited for); its timer posts the release.
        shared.hold_realtime_until(Instant::now());
        shared.post(Item::ReleaseHeld);
        shared.dispatch(0).unwrap();
        assert_eq!(
            shared.delivered_seq(),
            1,
            "handed to nobody, as without the hold"
        );
        let (tx, rx) = mpsc::channel();
        shared
            .add_greeted(ListenerKind::Message, "m", namer(tx))
            .ok()
            .unwrap();
        post_durable(&shared, 2, message(2));
        shared.dispatch(0).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["message 2"]);
    }

    #[test]
    #[cfg(unix)]
    fn a_connection_listener_added_later_first_hears_the_state_its_peers_last_heard() {
        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        let change = |from, to| {
            Event::State(StateChange {
                previous: from,
                current: to,
                reason: Reason::ConnectRequested,
                message: String::new(),
                retry_in_ms: None,
            })
        };
        use ConnectionState::*;
        shared.post(Item::Event {
            epoch: 0,
            seq: None,
            event: change(Disconnected, Connecting),
        });
        shared.dispatch(0).unwrap();
        // Queued before the add but dispatched after it: the new listener hears it, after its
        // first event, which is the state the others last heard (CONNECTING).
        shared.post(Item::Event {
            epoch: 0,
            seq: None,
            event: change(Connecting, Connected),
        });
        let (tx, rx) = mpsc::channel();
        shared
            .add_greeted(ListenerKind::Connection, "late", namer(tx))
            .ok()
            .unwrap();
        shared.dispatch(0).unwrap();
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            [
                "CONNECTING->CONNECTING LISTENER_ADDED",
                "CONNECTING->CONNECTED CONNECT_REQUESTED"
            ]
        );
    }

    // ----- app mode --------------------------------------------------------------------------

    fn post_logs(shared: &Shared, range: std::ops::Range<u64>) {
        for n in range {
            shared.post(Item::Event {
                epoch: 0,
                seq: None,
                event: log_event(n),
            });
        }
    }

    /// A connection listener that reports (thread, message) of each error event.
    fn reporter(tx: mpsc::Sender<(ThreadId, String)>) -> Box<dyn Listener> {
        Box::new(move |e: &Event| {
            if let Event::ConnectionError(err) = e {
                let _ = tx.send((std::thread::current().id(), err.message.clone()));
            }
        })
    }

    #[test]
    #[cfg(unix)]
    fn app_mode_runs_items_on_the_calling_thread_in_order_within_max() {
        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        assert!(shared.dispatch_fd().is_some());
        let (tx, rx) = mpsc::channel();
        d.add(ListenerKind::Connection, "r", reporter(tx));
        assert_eq!(shared.dispatch(0), Ok(0));
        assert!(!shared.raised());
        post_logs(&shared, 0..5);
        assert!(shared.raised(), "raised when the queue turned non-empty");
        assert_eq!(rx.try_recv().ok(), None, "nothing runs before dispatch");
        assert_eq!(shared.dispatch(2), Ok(2));
        assert!(shared.raised(), "still raised: three wait");
        assert_eq!(shared.dispatch(0), Ok(3));
        assert!(!shared.raised(), "drained");
        let me = std::thread::current().id();
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got, (0..5).map(|n| (me, n.to_string())).collect::<Vec<_>>());
        // 0 takes only what waits when the call starts.
        post_logs(&shared, 5..7);
        assert_eq!(shared.dispatch(0), Ok(2));
        assert_eq!(shared.dispatch(1), Ok(0));
    }

    #[test]
    fn dispatch_needs_app_mode_and_refuses_reentry() {
        let d = Dispatcher::start("t").unwrap();
        assert_eq!(
            d.shared().dispatch(0).map_err(|e| e.code),
            Err(ErrorCode::InvalidArgument)
        );

        let d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        let (tx, rx) = mpsc::channel();
        let weak = Arc::downgrade(&shared);
        d.add(
            ListenerKind::Connection,
            "r",
            Box::new(move |_: &Event| {
                let s = weak.upgrade().unwrap();
                tx.send((s.on_dispatcher_thread(), s.dispatch(0).map_err(|e| e.code)))
                    .unwrap();
            }),
        );
        post_logs(&shared, 0..2);
        assert!(!shared.on_dispatcher_thread());
        assert_eq!(shared.dispatch(0), Ok(2));
        assert!(!shared.on_dispatcher_thread());
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got, vec![(true, Err(ErrorCode::ReentrantCall)); 2]);
    }

    #[test]
    fn app_stop_runs_completions_on_the_stopping_thread_and_closes() {
        use crate::completion::Completer;
        let mut d = Dispatcher::start_app().unwrap();
        let shared = d.shared();
        let (tx, rx) = mpsc::channel();
        let me = std::thread::current().id();
        let mut completers = Vec::new();
        for n in 0..3 {
            let tx = tx.clone();
            completers.push(Completer::<u32>::new(
                shared.clone(),
                Box::new(move |r| {
                    tx.send((n, r.map_err(|e| e.code), std::thread::current().id()))
                        .unwrap()
                }),
            ));
        }
        completers.remove(1).complete(Ok(7));
        let (ltx, lrx) = mpsc::channel();
        d.add(ListenerKind::Message, "x", Box::new(Dropped(ltx)));
        post_logs(&shared, 0..3);
        d.stop();
        let mut got: Vec<_> = rx.try_iter().collect();
        got.sort_by_key(|(n, _, _)| *n);
        assert_eq!(
            got,
            vec![
                (0, Err(ErrorCode::Cancelled), me),
                (1, Ok(7), me),
                (2, Err(ErrorCode::Cancelled), me)
            ],
            "each ran once, on the stopping thread, before stop returned"
        );
        assert_eq!(lrx.try_recv(), Ok("dropped"), "listeners released");
        #[cfg(unix)]
        assert_eq!(shared.dispatch_fd(), None, "closed");
        assert_eq!(
            shared.dispatch(0).map_err(|e| e.code),
            Err(ErrorCode::ClientFreed)
        );
        drop(completers);
        assert_eq!(rx.try_recv().ok(), None);
    }

    #[test]
    fn app_stop_inside_a_callback_is_finished_by_that_dispatch() {
        use crate::completion::Completer;
        let d = Arc::new(Mutex::new(Some(Dispatcher::start_app().unwrap())));
        let shared = lock(&d).as_ref().unwrap().shared();
        let (tx, rx) = mpsc::channel::<String>();
        let pending = {
            let tx = tx.clone();
            Completer::<u32>::new(
                shared.clone(),
                Box::new(move |r| {
                    tx.send(format!("completion {:?}", r.map_err(|e| e.code)))
                        .unwrap()
                }),
            )
        };
        let (holder, tx2) = (d.clone(), tx.clone());
        let stopper: Box<dyn Listener> = Box::new(move |e: &Event| {
            if let Event::ConnectionError(err) = e {
                tx2.send(format!("event {}", err.message)).unwrap();
                if err.message == "1" {
                    // As Client::close does: taken out first, then stopped.
                    let taken = lock(&holder).take();
                    if let Some(mut d) = taken {
                        d.stop();
                    }
                    tx2.send("stop returned".into()).unwrap();
                }
            }
        });
        shared
            .add(ListenerKind::Connection, "stopper", stopper)
            .ok()
            .unwrap();
        post_logs(&shared, 0..4);
        let taken = shared.dispatch(0).unwrap();
        assert!(taken >= 2, "took {taken}");
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            got,
            vec![
                "event 0",
                "event 1",
                "stop returned",
                "completion Err(Cancelled)"
            ],
            "deferred: the rest dropped, the completion cancelled after the callback returned"
        );
        assert_eq!(
            shared.dispatch(0).map_err(|e| e.code),
            Err(ErrorCode::ClientFreed)
        );
        drop(pending);
        assert_eq!(rx.try_recv().ok(), None, "exactly once");
    }
}
