//! Call signalling state.

use super::json_column;
use super::sql::{Db, Row};
use super::DbResult;
use crate::args;
use chinwag_protocol::model::{Call, CallStatus, CallType, ReceiverType};

const COLUMNS: &str = "session_id, initiator, receiver_type, receiver, call_type, status, by_uid, \
     initiated_at, joined_at, ended_at, metadata";

fn from_row(r: &Row<'_, '_>) -> DbResult<Call> {
    let receiver_type: String = r.get(2)?;
    let call_type: String = r.get(4)?;
    let status: String = r.get(5)?;
    Ok(Call {
        session_id: r.get(0)?,
        initiator: r.get(1)?,
        receiver_type: ReceiverType::parse(&receiver_type).unwrap_or(ReceiverType::User),
        receiver: r.get(3)?,
        call_type: CallType::parse(&call_type).unwrap_or(CallType::Audio),
        status: CallStatus::parse(&status).unwrap_or(CallStatus::Ended),
        by: r.get(6)?,
        initiated_at: r.get(7)?,
        joined_at: r.get(8)?,
        ended_at: r.get(9)?,
        metadata: json_column(r.get(10)?),
    })
}

pub fn get(conn: &Db, session_id: &str) -> DbResult<Option<Call>> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM calls WHERE session_id = ?1"),
        args![session_id],
        from_row,
    )
}

/// [`get`] in a transaction that changes the call: on PostgreSQL the row stays locked until
/// commit, so nodes changing it at once (a timeout on one, an answer on another) take turns and
/// each sees the other's change.
pub fn get_for_change(conn: &Db, session_id: &str) -> DbResult<Option<Call>> {
    let lock = if conn.is_postgres() {
        " FOR UPDATE"
    } else {
        ""
    };
    conn.opt(
        &format!("SELECT {COLUMNS} FROM calls WHERE session_id = ?1{lock}"),
        args![session_id],
        from_row,
    )
}

/// Inserts a call; `false` when the session id is taken.
pub fn insert(conn: &Db, c: &Call) -> DbResult<bool> {
    let n = conn.execute(
        "INSERT INTO calls (session_id, initiator, receiver_type, receiver, call_type,
             status, by_uid, initiated_at, metadata)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
        args![
            &c.session_id,
            &c.initiator,
            c.receiver_type.as_str(),
            &c.receiver,
            c.call_type.as_str(),
            c.status.as_str(),
            &c.by,
            c.initiated_at,
            &c.metadata.to_string()
        ],
    )?;
    Ok(n == 1)
}

pub fn update(conn: &Db, c: &Call) -> DbResult<()> {
    conn.execute(
        "UPDATE calls SET status = ?2, by_uid = ?3, joined_at = ?4, ended_at = ?5 WHERE session_id = ?1",
        args![&c.session_id, c.status.as_str(), &c.by, c.joined_at, c.ended_at],
    )?;
    Ok(())
}

/// Calls still ringing, with when they started.
pub fn ringing(conn: &Db) -> DbResult<Vec<(String, i64)>> {
    conn.all(
        "SELECT session_id, initiated_at FROM calls WHERE status = 'initiated'",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}
