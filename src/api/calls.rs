//! Call signalling (docs/behaviour.md, section 6): initiate, accept, reject, cancel, end. One
//! active call per client; the server cancels unanswered calls after its timeout. The media
//! itself does not pass through Chinwag.

use chinwag_protocol::model::{Call, CallStatus, CallType, ReceiverType, RejectStatus};
use chinwag_protocol::{ClientFrame, Event as WireEvent};

use crate::client::Client;
use crate::completion::Callback;
use crate::error::{Error, ErrorCode, Result};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn call_of(event: WireEvent) -> Result<Call> {
    match event {
        WireEvent::CallInitiated(c)
        | WireEvent::CallAccepted(c)
        | WireEvent::CallRejected(c)
        | WireEvent::CallCancelled(c)
        | WireEvent::CallEnded(c) => Ok(c),
        _ => Err(Error::new(
            ErrorCode::Protocol,
            "the server answered a call request with another event",
        )),
    }
}

/// Whether a call in this status still occupies the client.
pub fn is_active(status: CallStatus) -> bool {
    matches!(status, CallStatus::Initiated | CallStatus::Ongoing)
}

impl Client {
    /// The call this client is in: one it started (ringing or ongoing) or accepted. A ringing
    /// incoming call is not active until accepted.
    pub fn active_call(&self) -> Option<Call> {
        self.inner().active_call()
    }

    /// Calls a user or a group. Fails with `CALL_IN_PROGRESS` while another call is active.
    ///
    /// The call is this client's active call from the moment this returns (a second call at
    /// once, even before the server answered the first, gets `CALL_IN_PROGRESS`), with the
    /// server's state once it answers; a refused or failed call leaves no active call behind.
    pub fn initiate_call(
        &self,
        receiver_type: ReceiverType,
        receiver: &str,
        call_type: CallType,
        done: Option<Callback<Call>>,
    ) -> Result<String> {
        chinwag_protocol::limits::check_id("receiver", receiver).map_err(Error::invalid)?;
        let me = self
            .inner()
            .session()
            .ok_or_else(|| Error::new(ErrorCode::NotLoggedIn, "log in first"))?
            .user
            .uid;
        let session_id = chinwag_protocol::ids::new_muid();
        let pending = Call {
            session_id: session_id.clone(),
            initiator: me.clone(),
            receiver_type,
            receiver: receiver.to_string(),
            call_type,
            status: CallStatus::Initiated,
            by: me,
            initiated_at: now_ms(),
            joined_at: None,
            ended_at: None,
            metadata: serde_json::json!({}),
        };
        // Claimed before the frame goes out, so a second call at once is refused here.
        let inner = self.inner().clone();
        if let Err(active) = inner.claim_call(pending) {
            return Err(Error::new(
                ErrorCode::CallInProgress,
                format!("call {active} is still active"),
            ));
        }
        let frame = ClientFrame::CallInitiate {
            req: String::new(),
            session_id: Some(session_id.clone()),
            call_type,
            receiver_type,
            receiver: receiver.to_string(),
            metadata: None,
        };
        let (holder, sid) = (inner.clone(), session_id.clone());
        let finish: Callback<Call> = Box::new(move |result: Result<Call>| {
            if result.is_err() {
                // Refused (FORBIDDEN, NOT_FOUND, ...) or never answered: the slot is free again.
                holder.release_call(&sid);
            }
            if let Some(done) = done {
                done(result);
            }
        });
        if let Err(e) = self.socket_request(frame, Some(finish), call_of) {
            inner.release_call(&session_id);
            return Err(e);
        }
        Ok(session_id)
    }

    /// Accepts an incoming call. Fails with `CALL_IN_PROGRESS` while another call is active.
    pub fn accept_call(&self, session_id: &str, done: Option<Callback<Call>>) -> Result<()> {
        chinwag_protocol::limits::check_id("call session id", session_id)
            .map_err(Error::invalid)?;
        self.require_session()?;
        if let Some(active) = self.active_call() {
            if active.session_id != session_id {
                return Err(Error::new(
                    ErrorCode::CallInProgress,
                    format!("call {} is still active", active.session_id),
                ));
            }
        }
        self.call_frame(
            ClientFrame::CallAccept {
                req: String::new(),
                session_id: session_id.to_string(),
            },
            done,
        )
    }

    /// Rejects an incoming call, as `rejected` or `busy`.
    pub fn reject_call(
        &self,
        session_id: &str,
        busy: bool,
        done: Option<Callback<Call>>,
    ) -> Result<()> {
        let status = if busy {
            RejectStatus::Busy
        } else {
            RejectStatus::Rejected
        };
        self.call_frame(
            ClientFrame::CallReject {
                req: String::new(),
                session_id: session_id.to_string(),
                status,
            },
            done,
        )
    }

    /// Cancels an outgoing call that was not answered yet.
    pub fn cancel_call(&self, session_id: &str, done: Option<Callback<Call>>) -> Result<()> {
        self.call_frame(
            ClientFrame::CallCancel {
                req: String::new(),
                session_id: session_id.to_string(),
            },
            done,
        )
    }

    /// Ends an ongoing call.
    pub fn end_call(&self, session_id: &str, done: Option<Callback<Call>>) -> Result<()> {
        self.call_frame(
            ClientFrame::CallEnd {
                req: String::new(),
                session_id: session_id.to_string(),
            },
            done,
        )
    }

    fn call_frame(&self, frame: ClientFrame, done: Option<Callback<Call>>) -> Result<()> {
        let sid = match &frame {
            ClientFrame::CallAccept { session_id, .. }
            | ClientFrame::CallReject { session_id, .. }
            | ClientFrame::CallCancel { session_id, .. }
            | ClientFrame::CallEnd { session_id, .. } => session_id.clone(),
            _ => String::new(),
        };
        chinwag_protocol::limits::check_id("call session id", &sid).map_err(Error::invalid)?;
        self.socket_request(frame, done, call_of)
    }
}
