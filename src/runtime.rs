//! One tokio runtime for every client of the process, started on first use.

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: Lazy<std::io::Result<Runtime>> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("chinwag-rt")
        .enable_all()
        .build()
});

/// The shared runtime, or why it could not start.
pub fn get() -> crate::error::Result<&'static Runtime> {
    RUNTIME.as_ref().map_err(|e| {
        crate::error::Error::new(
            crate::error::ErrorCode::Internal,
            format!("cannot start the SDK runtime: {e}"),
        )
    })
}
