//! Call signalling: initiate, accept, reject, cancel, end, and the server's unanswered timeout.
//! Every status change is a durable event for all participants.

use std::sync::Arc;

use crate::store::Db;
use chinwag_protocol::model::{Call, CallStatus, CallType, ReceiverType, RejectStatus};
use chinwag_protocol::{ApiError, ErrorCode, Event, EventFrame};

use super::quota::Durable;
use super::{
    check_can_address, check_id, check_json, fan_out, invalid, participants, App, AppRef,
    Deliveries,
};
use crate::hub::Origin;
use crate::store::{self, now_ms};

/// What a participant asks of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAction {
    Accept,
    Reject(RejectStatus),
    Cancel,
    End,
}

fn require_call(conn: &Db, session_id: &str) -> Result<Call, ApiError> {
    store::calls::get(conn, session_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::CallNotFound, format!("no call {session_id:?}")))
}

/// [`require_call`] for a change: locked until commit on PostgreSQL (see
/// [`store::calls::get_for_change`]).
fn require_call_for_change(conn: &Db, session_id: &str) -> Result<Call, ApiError> {
    store::calls::get_for_change(conn, session_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::CallNotFound, format!("no call {session_id:?}")))
}

fn is_callee(conn: &Db, call: &Call, uid: &str) -> Result<bool, ApiError> {
    if uid == call.initiator {
        return Ok(false);
    }
    Ok(match call.receiver_type {
        ReceiverType::User => call.receiver == uid,
        ReceiverType::Group => store::groups::scope_of(conn, &call.receiver, uid)?.is_some(),
    })
}

fn state_error(call: &Call, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::CallState,
        format!(
            "cannot {what} call {:?}: it is {}",
            call.session_id,
            call.status.as_str()
        ),
    )
}

/// Applies `action` by `uid` to the stored call, returning the event to announce.
fn transition(
    conn: &Db,
    call: &mut Call,
    uid: &str,
    action: CallAction,
) -> Result<Event, ApiError> {
    let callee = is_callee(conn, call, uid)?;
    let participant = callee || uid == call.initiator;
    if !participant {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{uid:?} is not part of call {:?}", call.session_id),
        ));
    }
    let now = now_ms();
    let event = match action {
        CallAction::Accept | CallAction::Reject(_) if !callee => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "only the callee can accept or reject a call",
            ))
        }
        CallAction::Cancel if uid != call.initiator => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "only the caller can cancel a call",
            ))
        }
        CallAction::Accept if call.status == CallStatus::Initiated => {
            call.status = CallStatus::Ongoing;
            call.joined_at = Some(now);
            Event::CallAccepted
        }
        CallAction::Reject(how) if call.status == CallStatus::Initiated => {
            call.status = match how {
                RejectStatus::Rejected => CallStatus::Rejected,
                RejectStatus::Busy => CallStatus::Busy,
            };
            call.ended_at = Some(now);
            Event::CallRejected
        }
        CallAction::Cancel if call.status == CallStatus::Initiated => {
            call.status = CallStatus::Cancelled;
            call.ended_at = Some(now);
            Event::CallCancelled
        }
        CallAction::End if call.status == CallStatus::Ongoing => {
            call.status = CallStatus::Ended;
            call.ended_at = Some(now);
            Event::CallEnded
        }
        CallAction::Accept => return Err(state_error(call, "accept")),
        CallAction::Reject(_) => return Err(state_error(call, "reject")),
        CallAction::Cancel => return Err(state_error(call, "cancel")),
        CallAction::End => return Err(state_error(call, "end")),
    };
    call.by = uid.to_string();
    store::calls::update(conn, call)?;
    Ok(event(call.clone()))
}

impl App {
    /// Starts a call and arms its unanswered timeout.
    pub async fn initiate_call(
        self: &AppRef,
        origin: Origin,
        session_id: Option<String>,
        call_type: CallType,
        receiver_type: ReceiverType,
        receiver: String,
        metadata: Option<serde_json::Value>,
    ) -> Result<EventFrame, ApiError> {
        let session_id = session_id.unwrap_or_else(|| store::tokens::generate()[..32].to_string());
        // A failure goes through the writer too, so that socket answers keep request order.
        let check = check_id("session_id", &session_id)
            .and_then(|()| match &metadata {
                Some(m) => check_json("metadata", m, true),
                None => Ok(()),
            })
            .and_then(|()| self.check_durable(&origin.uid, Durable::CallInitiate));
        let uid = origin.uid.clone();
        let sid = session_id.clone();
        let (_, own) = self
            .commit(origin, move |c| {
                check?;
                check_can_address(c, receiver_type, &receiver, &uid)?;
                let call = Call {
                    session_id: sid.clone(),
                    initiator: uid.clone(),
                    receiver_type,
                    receiver: receiver.clone(),
                    call_type,
                    status: CallStatus::Initiated,
                    by: uid.clone(),
                    initiated_at: now_ms(),
                    joined_at: None,
                    ended_at: None,
                    metadata: metadata.unwrap_or_else(|| serde_json::json!({})),
                };
                if !store::calls::insert(c, &call)? {
                    // Whose call holds the id is not the caller's business: the same answer
                    // whoever it belongs to.
                    return Err(invalid(format!(
                        "call session id {sid:?} is not available; choose another or omit it"
                    )));
                }
                let recipients = super::blocks::without_blockers(
                    c,
                    receiver_type,
                    &uid,
                    participants(c, receiver_type, &receiver, &uid)?,
                )?;
                Ok(((), fan_out(c, &recipients, &Event::CallInitiated(call))?))
            })
            .await?;
        self.arm_call_timeout(session_id, self.config.call_timeout);
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "call stored without a copy for its caller",
            )
        })
    }

    pub async fn call_action(
        &self,
        origin: Origin,
        session_id: String,
        action: CallAction,
    ) -> Result<EventFrame, ApiError> {
        let uid = origin.uid.clone();
        let (_, own) = self
            .commit(origin, move |c| {
                let mut call = require_call_for_change(c, &session_id)?;
                let event = transition(c, &mut call, &uid, action)?;
                let recipients = call_participants(c, &call)?;
                Ok(((), fan_out(c, &recipients, &event)?))
            })
            .await?;
        own.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "call change stored without a copy for its author",
            )
        })
    }

    pub async fn get_call(&self, uid: &str, session_id: &str) -> Result<Call, ApiError> {
        let (uid, sid) = (uid.to_string(), session_id.to_string());
        self.store
            .read(move |c| {
                let call = require_call(c, &sid)?;
                if call.initiator != uid && !is_callee(c, &call, &uid)? {
                    return Err(ApiError::new(
                        ErrorCode::CallNotFound,
                        format!("no call {sid:?}"),
                    ));
                }
                Ok(call)
            })
            .await
    }

    /// Cancels the call as unanswered after `after` unless someone answered it first.
    pub fn arm_call_timeout(self: &AppRef, session_id: String, after: std::time::Duration) {
        let app: Arc<App> = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let system = Origin {
                uid: String::new(),
                session: None,
                req: None,
            };
            let result = app
                .commit(system, move |c| {
                    // Locked: the timeout fires once even when several nodes armed it.
                    let Some(mut call) = store::calls::get_for_change(c, &session_id)? else {
                        return Ok(((), Deliveries::default()));
                    };
                    if call.status != CallStatus::Initiated {
                        return Ok(((), Deliveries::default()));
                    }
                    call.status = CallStatus::Unanswered;
                    call.ended_at = Some(now_ms());
                    call.by = call.initiator.clone();
                    store::calls::update(c, &call)?;
                    let recipients = call_participants(c, &call)?;
                    Ok(((), fan_out(c, &recipients, &Event::CallCancelled(call))?))
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "unanswered-call timeout failed");
            }
        });
    }

    /// Re-arms the timeouts of calls still ringing when the server last stopped.
    pub async fn resume_call_timeouts(self: &AppRef) -> Result<(), ApiError> {
        let pending = self.store.read(|c| Ok(store::calls::ringing(c)?)).await?;
        let timeout = self.config.call_timeout.as_millis() as i64;
        for (sid, initiated_at) in pending {
            let left = (initiated_at + timeout - now_ms()).max(0) as u64;
            self.arm_call_timeout(sid, std::time::Duration::from_millis(left));
        }
        Ok(())
    }
}

/// The caller plus the callee (or the group's current members, without those who blocked the
/// caller: they never heard of the call).
fn call_participants(conn: &Db, call: &Call) -> Result<Vec<String>, ApiError> {
    let mut p = super::blocks::without_blockers(
        conn,
        call.receiver_type,
        &call.initiator,
        participants(conn, call.receiver_type, &call.receiver, &call.initiator)?,
    )?;
    if !p.contains(&call.initiator) {
        p.push(call.initiator.clone());
    }
    Ok(p)
}
