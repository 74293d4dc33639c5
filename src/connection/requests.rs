//! Requests over the socket that want an answer but are not queued like messages (edits,
//! deletes, call signalling): written only while CONNECTED, answered by the ack or error with
//! their request id, failed if the socket goes first.

use std::collections::HashMap;

use chinwag_protocol::{ClientFrame, EventFrame};

use crate::completion::Completer;
use crate::error::{Error, ErrorCode, Result};

#[derive(Default)]
pub struct Requests {
    next: u64,
    in_flight: HashMap<String, Completer<EventFrame>>,
}

impl Requests {
    /// Tags the frame with a fresh request id and remembers who waits for it.
    pub fn start(&mut self, mut frame: ClientFrame, done: Completer<EventFrame>) -> ClientFrame {
        self.next += 1;
        let req = format!("q{}", self.next);
        frame.set_req(req.clone());
        self.in_flight.insert(req, done);
        frame
    }

    /// Completes the request with this id; `false` if it is not one of ours.
    pub fn finish(&mut self, req: &str, result: Result<EventFrame>) -> bool {
        match self.in_flight.remove(req) {
            Some(done) => {
                done.complete(result);
                true
            }
            None => false,
        }
    }

    /// The socket is gone before the answers came: the outcome is unknown.
    pub fn fail_all(&mut self) {
        for (_, done) in self.in_flight.drain() {
            done.complete(Err(Error::new(
                ErrorCode::Network,
                "the connection dropped before the server answered; the request may or may not have taken effect",
            )));
        }
    }
}
