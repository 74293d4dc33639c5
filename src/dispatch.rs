//! The per-client dispatcher (behaviour contract, section 8): one thread runs every callback of
//! a client, one at a time, in event order, holding no SDK lock while app code runs.
//!
//! Removal: from another thread, `remove` waits until the listener is not running and then
//! drops it (running its `user_data_free`); from inside a callback (the dispatcher thread), the
//! running listener is dropped right after its callback returns.

use std::collections::VecDeque;
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
    Run(Box<dyn FnOnce() + Send>),
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
}

pub struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    listeners: Mutex<Vec<Arc<Entry>>>,
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
            // Completions still run exactly once, on the caller's thread.
            drop(q);
            if let Item::Run(f) = item {
                f();
            }
            return;
        }
        q.items.push_back(item);
        self.ready.notify_one();
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

    fn deliver(&self, epoch: u64, seq: Option<u64>, event: &Event) {
        if event.is_realtime() && epoch != self.epoch() {
            return;
        }
        if let Some(seq) = seq {
            self.note_delivered(seq);
        }
        let kind = event.kind();
        let targets: Vec<Arc<Entry>> = lock(&self.listeners)
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect();
        for entry in targets {
            if event.is_realtime() && epoch != self.epoch() {
                return;
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
            }),
            ready: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
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
        self.remove(kind, id);
        lock(&self.shared.listeners).push(Arc::new(Entry {
            kind,
            id: id.to_string(),
            removed: AtomicBool::new(false),
            slot: Mutex::new(Some(listener)),
        }));
    }

    /// Removes a listener; returns whether one was registered. See the module doc for when it
    /// is released.
    pub fn remove(&self, kind: ListenerKind, id: &str) -> bool {
        let entry = {
            let mut list = lock(&self.shared.listeners);
            match list.iter().position(|e| e.kind == kind && e.id == id) {
                Some(i) => list.remove(i),
                None => return false,
            }
        };
        entry.removed.store(true, Ordering::SeqCst);
        if self.shared.on_dispatcher_thread() {
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
        true
    }

    /// Stops the thread after the current callback. Called on the dispatcher thread (the app
    /// freed the client from a callback), it does not wait; elsewhere it joins the thread.
    /// Pending completions run; pending events are dropped; listeners are released.
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
    let entries: Vec<Arc<Entry>> = lock(&shared.listeners).drain(..).collect();
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
                    break None;
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
            1
        );
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
            3
        );
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
