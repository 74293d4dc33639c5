//! Writes the saved session to the client's store off the SDK runtime. A store may block for
//! long (the file store fsyncs at login; an app's store callback may wait for a keychain), and
//! every client of the process shares the runtime's two workers: a save on a worker would stall
//! the heartbeat and the messages of all of them.
//!
//! The in-memory session (see [`crate::client::Inner::session`]) is the truth; the store follows
//! it. A caller changes the memory under its lock, then asks for a [`Saver::sync`]: a job on the
//! runtime's blocking pool copies the memory (lock held only for the copy) and writes it, or
//! clears the store when there is no session. Syncs asked for while one is waiting coalesce into
//! one write of the latest state, so a burst of position updates costs one write. At most one job
//! per client runs at a time (the store is never called concurrently for one client), and none
//! holds a thread while nothing is waiting: an idle client costs no thread.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::dispatch::{Item, Shared};
use crate::error::Result;
use crate::event::{Event, LogLevel};
use crate::store::{SavedSession, SessionStore};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// Set while this thread runs a store call of some client's saver.
    static IN_STORE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is inside a session store call (an app's store callback):
/// waiting there for the saver would wait for itself.
pub(crate) fn in_store_call() -> bool {
    IN_STORE.with(|c| c.get())
}

/// Told the outcome of the write that covered a sync.
pub(crate) type Done = tokio::sync::oneshot::Sender<Result<()>>;

#[derive(Default)]
struct Pending {
    /// A sync was asked for and not started yet.
    wanted: bool,
    /// One of the coalesced syncs needs the write to survive a crash (login).
    durable: bool,
    done: Vec<Done>,
}

#[derive(Default)]
struct State {
    pending: Pending,
    /// A job is running (on the blocking pool).
    running: bool,
}

pub(crate) struct Saver {
    session: Arc<Mutex<Option<SavedSession>>>,
    store: Box<dyn SessionStore>,
    /// Where a failed write that nobody waits for is reported (the client's log listeners).
    dispatch: Arc<Shared>,
    state: Mutex<State>,
    idle: Condvar,
}

impl Saver {
    pub fn new(
        session: Arc<Mutex<Option<SavedSession>>>,
        store: Box<dyn SessionStore>,
        dispatch: Arc<Shared>,
    ) -> Saver {
        Saver {
            session,
            store,
            dispatch,
            state: Mutex::new(State::default()),
            idle: Condvar::new(),
        }
    }

    /// The store itself, for `init`'s first load (on the app's thread, before any sync).
    pub fn store(&self) -> &dyn SessionStore {
        &*self.store
    }

    /// Asks for the store to catch up with the in-memory session; returns at once. `done`
    /// hears the outcome of the write that covers this sync.
    pub fn sync(self: &Arc<Self>, durable: bool, done: Option<Done>) {
        let start = {
            let mut s = lock(&self.state);
            s.pending.wanted = true;
            s.pending.durable |= durable;
            s.pending.done.extend(done);
            !std::mem::replace(&mut s.running, true)
        };
        if !start {
            return;
        }
        let saver = self.clone();
        let spawned = crate::runtime::get().map(|rt| {
            rt.spawn_blocking(move || saver.drain());
        });
        if spawned.is_err() {
            // No runtime (it failed to start, so no client exists either): write here.
            self.drain();
        }
    }

    /// Runs the syncs asked for until none is left.
    fn drain(&self) {
        loop {
            let pending = {
                let mut s = lock(&self.state);
                if !s.pending.wanted {
                    s.running = false;
                    self.idle.notify_all();
                    return;
                }
                std::mem::take(&mut s.pending)
            };
            let snapshot = lock(&self.session).clone();
            IN_STORE.with(|c| c.set(true));
            let result = match &snapshot {
                Some(session) => self.store.save(session, pending.durable),
                None => self.store.clear(),
            };
            IN_STORE.with(|c| c.set(false));
            if let (Err(e), true) = (&result, pending.done.is_empty()) {
                self.dispatch.post(Item::Event {
                    epoch: self.dispatch.epoch(),
                    seq: None,
                    event: Event::Log {
                        level: LogLevel::Warn,
                        target: "chinwag::session",
                        message: format!("cannot save the session: {e}"),
                    },
                });
            }
            for done in pending.done {
                let _ = done.send(result.clone());
            }
        }
    }

    /// Waits until every sync asked for so far was written, at most `bound`; whether it was.
    /// Never waits from inside a store call (that call is what it would wait for).
    pub fn wait_idle(&self, bound: Duration) -> bool {
        if in_store_call() {
            return false;
        }
        let deadline = Instant::now() + bound;
        let mut s = lock(&self.state);
        while s.running || s.pending.wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .idle
                .wait_timeout(s, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }
}
