//! Blocking: nothing of a blocked user (messages, typing, transient messages, calls) reaches
//! the user who blocked them. In a direct conversation either side is refused with `BLOCKED`
//! (`check_direct`, called by `check_can_address`); in a group the blockers are left out of
//! the audience (`without_blockers`). Lists flag blocked users (`flag_blocked`).

use chinwag_protocol::model::{ReceiverType, User};
use chinwag_protocol::rest::UserList;
use chinwag_protocol::{ApiError, ErrorCode};

use super::users::require_user;
use super::{check_id, invalid, App, Deliveries};
use crate::hub::Origin;
use crate::store::{self, now_ms, Db};

/// Most users one user may block: the blocked list is answered whole.
pub const MAX_BLOCKED: u32 = 1_000;

/// Refuses a direct message, typing indicator, transient message or call between two users
/// when either blocked the other.
pub fn check_direct(conn: &Db, sender: &str, receiver: &str) -> Result<(), ApiError> {
    if store::blocks::has_blocked(conn, receiver, sender)? {
        return Err(ApiError::new(
            ErrorCode::Blocked,
            format!("{receiver:?} has blocked you: nothing you send reaches them"),
        ));
    }
    if store::blocks::has_blocked(conn, sender, receiver)? {
        return Err(ApiError::new(
            ErrorCode::Blocked,
            format!("you blocked {receiver:?}: unblock them to write to them"),
        ));
    }
    Ok(())
}

/// The audience of something `sender` sends to a group, without the members who blocked
/// `sender` (one indexed lookup; most senders are blocked by nobody).
pub fn without_blockers(
    conn: &Db,
    receiver_type: ReceiverType,
    sender: &str,
    mut recipients: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    if receiver_type == ReceiverType::Group {
        let blockers = store::blocks::blockers_of(conn, sender)?;
        if !blockers.is_empty() {
            recipients.retain(|u| !blockers.contains(u));
        }
    }
    Ok(recipients)
}

/// Sets `blocked_by_me` on the users `viewer` blocked.
pub fn flag_blocked(conn: &Db, viewer: &str, users: &mut [User]) -> Result<(), ApiError> {
    let blocked = store::blocks::blocked_by(conn, viewer, "", MAX_BLOCKED)?;
    if blocked.is_empty() {
        return Ok(());
    }
    for u in users {
        u.blocked_by_me = blocked.contains(&u.uid);
    }
    Ok(())
}

fn blocked_list(conn: &Db, uid: &str) -> Result<Vec<User>, ApiError> {
    let mut out = Vec::new();
    for b in store::blocks::blocked_by(conn, uid, "", MAX_BLOCKED)? {
        if let Some(mut user) = store::users::get(conn, &b)? {
            user.blocked_by_me = true;
            out.push(user);
        }
    }
    Ok(out)
}

impl App {
    /// Blocks users for the caller; answers the caller's complete blocked list.
    pub async fn block_users(&self, uid: &str, uids: Vec<String>) -> Result<UserList, ApiError> {
        if uids.is_empty() {
            return Err(invalid("uids must not be empty"));
        }
        for b in &uids {
            check_id("uid", b)?;
            if b == uid {
                return Err(invalid("a user cannot block themselves"));
            }
        }
        let u = uid.to_string();
        let (users, _) = self
            .commit(Origin::rest(uid), move |c| {
                for b in &uids {
                    require_user(c, b)?;
                }
                let now = now_ms();
                for b in &uids {
                    store::blocks::add(c, &u, b, now)?;
                }
                if store::blocks::blocked_by(c, &u, "", MAX_BLOCKED + 1)?.len()
                    > MAX_BLOCKED as usize
                {
                    return Err(ApiError::new(
                        ErrorCode::QuotaExceeded,
                        format!("a user blocks at most {MAX_BLOCKED} users"),
                    ));
                }
                Ok((blocked_list(c, &u)?, Deliveries::default()))
            })
            .await?;
        Ok(UserList {
            users,
            next_after: None,
        })
    }

    /// Unblocks a user for the caller (`USER_NOT_FOUND` for an unknown uid; unblocking one
    /// who is not blocked changes nothing).
    pub async fn unblock_user(&self, uid: &str, other: &str) -> Result<(), ApiError> {
        check_id("uid", other)?;
        let (u, o) = (uid.to_string(), other.to_string());
        self.commit(Origin::rest(uid), move |c| {
            require_user(c, &o)?;
            store::blocks::remove(c, &u, &o)?;
            Ok(((), Deliveries::default()))
        })
        .await
        .map(|_| ())
    }

    /// The caller's blocked users, complete (at most `MAX_BLOCKED`), in uid order.
    pub async fn blocked_users(&self, uid: &str) -> Result<UserList, ApiError> {
        let u = uid.to_string();
        let users = self.store.read(move |c| blocked_list(c, &u)).await?;
        Ok(UserList {
            users,
            next_after: None,
        })
    }
}

impl App {
    /// `users` as `viewer` sees them: `blocked_by_me` set on those `viewer` blocked (the API
    /// key sees no flags).
    pub async fn flag_blocked_for(
        &self,
        viewer: Option<&str>,
        mut users: Vec<User>,
    ) -> Result<Vec<User>, ApiError> {
        let Some(viewer) = viewer.map(String::from) else {
            return Ok(users);
        };
        self.store
            .read(move |c| {
                flag_blocked(c, &viewer, &mut users)?;
                Ok(users)
            })
            .await
    }
}
