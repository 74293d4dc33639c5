//! Completions of asynchronous calls: each runs exactly once, on the dispatcher thread, with
//! success, an error, or `CANCELLED` when the work is dropped unfinished or the client is freed
//! first (the dispatcher cancels every unresolved completion before its thread ends).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::dispatch::{Shared, Thunk};
use crate::error::{Error, ErrorCode, Result};

pub type Callback<T> = Box<dyn FnOnce(Result<T>) + Send>;

type Cell<T> = Arc<Mutex<Option<Callback<T>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct Completer<T: Send + 'static> {
    /// The registration id and the callback, shared with the dispatcher's canceller.
    slot: Option<(u64, Cell<T>)>,
    dispatch: Arc<Shared>,
}

impl<T: Send + 'static> Completer<T> {
    pub fn new(dispatch: Arc<Shared>, callback: Callback<T>) -> Self {
        let cell: Cell<T> = Arc::new(Mutex::new(Some(callback)));
        let theirs = cell.clone();
        let id = dispatch.register_completion(Box::new(move || {
            lock(&theirs).take().map(|cb| {
                Box::new(move || {
                    cb(Err(Error::new(
                        ErrorCode::Cancelled,
                        "the client was freed before the operation finished",
                    )))
                }) as Thunk
            })
        }));
        Completer {
            slot: Some((id, cell)),
            dispatch,
        }
    }

    /// A completer for an optional callback (nobody listens when it is `None`).
    pub fn optional(dispatch: Arc<Shared>, callback: Option<Callback<T>>) -> Self {
        match callback {
            Some(cb) => Completer::new(dispatch, cb),
            None => Completer::ignore(dispatch),
        }
    }

    /// A completer nobody listens to.
    pub fn ignore(dispatch: Arc<Shared>) -> Self {
        Completer {
            slot: None,
            dispatch,
        }
    }

    pub fn complete(mut self, result: Result<T>) {
        self.finish(result);
    }

    fn finish(&mut self, result: Result<T>) {
        if let Some((id, cell)) = self.slot.take() {
            self.dispatch.resolve_completion(id, move || {
                lock(&cell)
                    .take()
                    .map(|cb| Box::new(move || cb(result)) as Thunk)
            });
        }
    }
}

impl<T: Send + 'static> Drop for Completer<T> {
    fn drop(&mut self) {
        self.finish(Err(Error::new(
            ErrorCode::Cancelled,
            "the operation was cancelled",
        )));
    }
}
