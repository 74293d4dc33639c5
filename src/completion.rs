//! Completions of asynchronous calls: each runs exactly once, on the dispatcher thread, with
//! success, an error, or `CANCELLED` when the work is dropped unfinished.

use std::sync::Arc;

use crate::dispatch::{Item, Shared};
use crate::error::{Error, ErrorCode, Result};

pub type Callback<T> = Box<dyn FnOnce(Result<T>) + Send>;

pub struct Completer<T: Send + 'static> {
    callback: Option<Callback<T>>,
    dispatch: Arc<Shared>,
}

impl<T: Send + 'static> Completer<T> {
    pub fn new(dispatch: Arc<Shared>, callback: Callback<T>) -> Self {
        Completer {
            callback: Some(callback),
            dispatch,
        }
    }

    /// A completer nobody listens to.
    pub fn ignore(dispatch: Arc<Shared>) -> Self {
        Completer {
            callback: None,
            dispatch,
        }
    }

    pub fn complete(mut self, result: Result<T>) {
        self.finish(result);
    }

    fn finish(&mut self, result: Result<T>) {
        if let Some(cb) = self.callback.take() {
            self.dispatch.post(Item::Run(Box::new(move || cb(result))));
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
