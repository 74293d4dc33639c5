//! The readiness descriptor of app-driven dispatch ([`crate::settings::DispatchMode::App`]): a
//! file descriptor that is readable exactly while a client has items waiting for `dispatch`.
//!
//! It is one end of a non-blocking, close-on-exec Unix socket pair (`socketpair(2)`), made with
//! std only: unlike `std::io::pipe`, std can make a socket non-blocking without `unsafe`, and a
//! socket polls like a pipe's read end (`poll`, `select`, epoll, kqueue, asyncio's
//! `add_reader`). The other end is written by the SDK: one byte when the queue turns non-empty
//! ([`Readiness::raise`]); `dispatch` drains it and raises it again if items remain
//! ([`Readiness::lower`]). Both are called under the dispatch queue's lock, which keeps "one
//! byte is pending" and "items wait" in step.
//!
//! On platforms without Unix sockets there is no descriptor: the app calls `dispatch` on its own
//! schedule.

#[cfg(unix)]
mod imp {
    use std::io::{ErrorKind, Read, Write};
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::net::UnixStream;

    pub(crate) struct Readiness {
        /// The end the app polls.
        reader: UnixStream,
        /// The end the SDK writes.
        writer: UnixStream,
        /// A byte was written and not drained yet.
        raised: bool,
    }

    impl Readiness {
        pub(crate) fn new() -> std::io::Result<Readiness> {
            // std creates both ends close-on-exec (SOCK_CLOEXEC, or FD_CLOEXEC where that
            // flag does not exist).
            let (reader, writer) = UnixStream::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            Ok(Readiness {
                reader,
                writer,
                raised: false,
            })
        }

        pub(crate) fn fd(&self) -> RawFd {
            self.reader.as_raw_fd()
        }

        #[cfg(test)]
        pub(crate) fn is_raised(&self) -> bool {
            self.raised
        }

        /// Makes the descriptor readable (once: later calls do nothing until `lower`).
        pub(crate) fn raise(&mut self) {
            if self.raised {
                return;
            }
            match (&self.writer).write(&[1]) {
                Ok(_) => self.raised = true,
                // Full: bytes are pending, so it is readable all the same.
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.raised = true,
                // Tried again on the next item.
                Err(_) => {}
            }
        }

        /// Drains the descriptor (also any byte an app read or wrote by mistake).
        pub(crate) fn lower(&mut self) {
            let mut buf = [0u8; 64];
            loop {
                match (&self.reader).read(&mut buf) {
                    Ok(n) if n == buf.len() => continue,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    // Less than a full buffer, empty (WouldBlock) or an error: nothing more.
                    _ => break,
                }
            }
            self.raised = false;
        }
    }
}

#[cfg(not(unix))]
mod imp {
    /// No descriptor on this platform: the app calls `dispatch` on its own schedule.
    pub(crate) struct Readiness;

    impl Readiness {
        pub(crate) fn new() -> std::io::Result<Readiness> {
            Ok(Readiness)
        }

        pub(crate) fn raise(&mut self) {}

        pub(crate) fn lower(&mut self) {}
    }
}

pub(crate) use imp::Readiness;
