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

mod hold;
mod queue;
mod registry;
#[cfg(test)]
mod tests;

use hold::{Held, Hold};
use queue::Queue;
use registry::{release_all, Listeners};

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
