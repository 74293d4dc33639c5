//! Users, tokens, login and friends.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::store::Db;
use chinwag_protocol::close;
use chinwag_protocol::model::{User, UserStatus};
use chinwag_protocol::rest::{
    CreateUser, FriendRequests, ListUsersQuery, Position, TokenResponse, UpdateUser, UserList,
};
use chinwag_protocol::{ApiError, ErrorCode};

use super::{
    check_field, check_id, check_name, check_profile_json, invalid, page_limit, App, Deliveries,
};
use crate::hub::Origin;
use crate::store::{self, tokens};
use chinwag_protocol::limits::MAX_URL_BYTES;

/// Whose presence a caller may see.
pub enum PresenceView {
    All,
    Only(HashSet<String>),
}

impl PresenceView {
    pub fn covers(&self, uid: &str) -> bool {
        match self {
            PresenceView::All => true,
            PresenceView::Only(set) => set.contains(uid),
        }
    }
}

/// A user as seen by someone who may not see their presence.
fn hide_presence(mut user: User) -> User {
    user.status = UserStatus::Offline;
    user.last_active_at = None;
    user
}

fn not_found(uid: &str) -> ApiError {
    ApiError::new(ErrorCode::UserNotFound, format!("no user {uid:?}"))
}

pub fn require_user(conn: &Db, uid: &str) -> Result<User, ApiError> {
    store::users::get(conn, uid)?.ok_or_else(|| not_found(uid))
}

impl App {
    /// Fills in the live status, which only the hub knows.
    pub fn with_status(&self, mut user: User) -> User {
        user.status = if self.hub.is_online(&user.uid) {
            UserStatus::Online
        } else {
            UserStatus::Offline
        };
        user
    }

    /// Compares a presented secret with a configured one without leaking where they differ or
    /// how long the configured one is: both are hashed to fixed-size digests first, and the
    /// digests are compared in constant time.
    pub fn key_matches(presented: &str, expected: &str) -> bool {
        use sha2::{Digest, Sha256};
        let a = Sha256::digest(presented.as_bytes());
        let b = Sha256::digest(expected.as_bytes());
        let diff = a
            .iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        // An empty configured key switches that kind of access off.
        std::hint::black_box(diff) == 0 && !expected.is_empty()
    }

    /// Checks a presented key from the client at `ip`: refused with `RATE_LIMITED` while the
    /// address is over its limit of failed checks; a mismatch counts as one.
    pub fn check_key(
        &self,
        presented: &str,
        expected: &str,
        ip: IpAddr,
        code: ErrorCode,
        what: &str,
    ) -> Result<(), ApiError> {
        self.auth_failures.check(ip)?;
        if Self::key_matches(presented, expected) {
            Ok(())
        } else {
            self.auth_failures.count(ip);
            Err(ApiError::new(code, format!("the {what} does not match")))
        }
    }

    /// [`App::authenticate`] for the client at `ip`, under the same limit as [`App::check_key`]:
    /// an unknown or revoked token counts as a failed check.
    pub async fn authenticate_from(
        &self,
        token: &str,
        ip: IpAddr,
    ) -> Result<(User, String), ApiError> {
        self.auth_failures.check(ip)?;
        let result = self.authenticate(token).await;
        if matches!(&result, Err(e) if e.code == ErrorCode::InvalidToken) {
            self.auth_failures.count(ip);
        }
        result
    }

    pub async fn create_user(&self, req: CreateUser) -> Result<User, ApiError> {
        check_id("uid", &req.uid)?;
        check_name("name", &req.name)?;
        let role = req.role.unwrap_or_else(|| "default".into());
        check_id("role", &role)?;
        let metadata = req.metadata.unwrap_or_else(|| serde_json::json!({}));
        check_profile_json("metadata", &metadata)?;
        check_field("avatar", req.avatar.as_deref(), MAX_URL_BYTES)?;
        let user = User {
            uid: req.uid,
            name: req.name,
            avatar: req.avatar,
            role,
            metadata,
            status: UserStatus::Offline,
            last_active_at: None,
            deactivated: false,
            blocked_by_me: false,
        };
        let stored = user.clone();
        let inserted = self
            .store
            .run(move |c| Ok(store::users::insert(c, &stored)?))
            .await?;
        if !inserted {
            return Err(ApiError::new(
                ErrorCode::UserExists,
                format!("user {:?} already exists", user.uid),
            ));
        }
        Ok(user)
    }

    /// The user's newest event sequence (`GET /v1/me/position`).
    pub async fn position(&self, uid: &str) -> Result<Position, ApiError> {
        let uid = uid.to_string();
        let last_seq = self
            .store
            .read(move |c| Ok(store::users::last_seq(c, &uid)?))
            .await?;
        Ok(Position { last_seq })
    }

    pub async fn get_user(&self, uid: &str, view: &PresenceView) -> Result<User, ApiError> {
        let uid = uid.to_string();
        let user = self.store.read(move |c| require_user(c, &uid)).await?;
        Ok(self.status_for(user, view))
    }

    pub async fn update_user(&self, uid: &str, req: UpdateUser) -> Result<User, ApiError> {
        if let Some(name) = &req.name {
            check_name("name", name)?;
        }
        if let Some(role) = &req.role {
            check_id("role", role)?;
        }
        if let Some(m) = &req.metadata {
            check_profile_json("metadata", m)?;
        }
        check_field("avatar", req.avatar.as_deref(), MAX_URL_BYTES)?;
        let uid = uid.to_string();
        let user = self
            .store
            .run(move |c| {
                let mut user = require_user(c, &uid)?;
                if let Some(name) = req.name {
                    user.name = name;
                }
                if let Some(avatar) = req.avatar {
                    user.avatar = Some(avatar);
                }
                if let Some(role) = req.role {
                    user.role = role;
                }
                if let Some(metadata) = req.metadata {
                    user.metadata = metadata;
                }
                store::users::update(c, &user)?;
                Ok(user)
            })
            .await?;
        Ok(self.with_status(user))
    }

    /// A page of users; status and `last_active_at` only where `view` covers the user, and
    /// the `status` filter only matches those.
    pub async fn list_users(
        &self,
        q: ListUsersQuery,
        view: &PresenceView,
    ) -> Result<UserList, ApiError> {
        let limit = page_limit(q.limit)?;
        let want_status = match q.status.as_deref() {
            None => None,
            Some("online") => Some(UserStatus::Online),
            Some("offline") => Some(UserStatus::Offline),
            Some(other) => {
                return Err(invalid(format!(
                    "status {other:?} is not online or offline"
                )))
            }
        };
        let online: HashSet<String> = self.hub.online_uids();
        let mut users = Vec::new();
        let mut after = q.after.clone();
        // One user beyond the page tells whether there is a next page.
        let wanted = limit as usize + 1;
        // Status lives in memory, so filter while paging through the table.
        loop {
            let (search, role, cursor) = (q.search.clone(), q.role.clone(), after.clone());
            let batch = self
                .store
                .read(move |c| {
                    Ok(store::users::list(
                        c,
                        search.as_deref(),
                        role.as_deref(),
                        cursor.as_deref(),
                        200,
                    )?)
                })
                .await?;
            let exhausted = batch.len() < 200;
            for mut u in batch {
                after = Some(u.uid.clone());
                if !view.covers(&u.uid) {
                    u = hide_presence(u);
                } else if online.contains(&u.uid) {
                    u.status = UserStatus::Online;
                } else {
                    u.status = UserStatus::Offline;
                }
                if want_status.is_none_or(|s| s == u.status) {
                    users.push(u);
                    if users.len() == wanted {
                        break;
                    }
                }
            }
            if exhausted || users.len() == wanted {
                let next_after = (users.len() == wanted).then(|| {
                    users.truncate(limit as usize);
                    users.last().map(|u| u.uid.clone()).unwrap_or_default()
                });
                return Ok(UserList { users, next_after });
            }
        }
    }

    /// Issues a token for a user (API key, or after a successful login).
    pub async fn mint_token(&self, uid: &str) -> Result<TokenResponse, ApiError> {
        let uid = uid.to_string();
        let token = tokens::generate();
        let hash = tokens::hash(&token);
        let user = self
            .store
            .run(move |c| {
                let user = require_user(c, &uid)?;
                if user.deactivated {
                    return Err(ApiError::new(
                        ErrorCode::UserDeactivated,
                        format!("user {uid:?} is deactivated"),
                    ));
                }
                tokens::insert(c, &hash, &uid)?;
                // Committed position (the writer's cache flushes before each commit): never
                // ahead of what the client can be replayed.
                let last_seq = store::users::last_seq(c, &uid)?;
                Ok((user, last_seq))
            })
            .await?;
        let (user, last_seq) = user;
        Ok(TokenResponse {
            token,
            app_id: self.config.app_id.clone(),
            user: self.with_status(user),
            last_seq: Some(last_seq),
        })
    }

    /// Development login with the auth key (`ip`: the client's address, for the limit on
    /// failed credential checks).
    pub async fn login(
        &self,
        uid: &str,
        auth_key: &str,
        ip: IpAddr,
    ) -> Result<TokenResponse, ApiError> {
        // Only failed attempts count: a busy address (a proxy, an office) that logs in
        // correctly is never locked out.
        self.check_key(
            auth_key,
            &self.config.auth_key,
            ip,
            ErrorCode::InvalidAuthKey,
            "auth key",
        )?;
        check_id("uid", uid)?;
        self.mint_token(uid).await
    }

    /// The user a token belongs to, with the token's hash.
    pub async fn authenticate(&self, token: &str) -> Result<(User, String), ApiError> {
        let hash = tokens::hash(token);
        let h = hash.clone();
        let user = self
            .store
            .read(move |c| {
                let uid = tokens::owner(c, &h)?.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidToken, "the token is unknown or revoked")
                })?;
                require_user(c, &uid)
            })
            .await?;
        if user.deactivated {
            return Err(ApiError::new(
                ErrorCode::UserDeactivated,
                format!("user {:?} is deactivated", user.uid),
            ));
        }
        Ok((self.with_status(user), hash))
    }

    /// Revokes one token and closes the sockets that use it.
    pub async fn logout(&self, token_hash: &str) -> Result<(), ApiError> {
        let h = token_hash.to_string();
        self.store.run(move |c| Ok(tokens::revoke(c, &h)?)).await?;
        self.hub
            .revoke_token(token_hash, close::TOKEN_INVALID, "logged out");
        Ok(())
    }

    /// Revokes every token of a user and closes all their sockets.
    pub async fn revoke_tokens(&self, uid: &str) -> Result<usize, ApiError> {
        let u = uid.to_string();
        let n = self
            .store
            .run(move |c| {
                require_user(c, &u)?;
                Ok(tokens::revoke_all(c, &u)?)
            })
            .await?;
        self.hub
            .revoke_user(uid, close::TOKEN_INVALID, "token revoked");
        Ok(n)
    }

    pub async fn set_deactivated(&self, uid: &str, deactivated: bool) -> Result<User, ApiError> {
        let u = uid.to_string();
        let user = self
            .store
            .run(move |c| {
                let mut user = require_user(c, &u)?;
                store::users::set_deactivated(c, &u, deactivated)?;
                user.deactivated = deactivated;
                Ok(user)
            })
            .await?;
        if deactivated {
            self.hub
                .revoke_user(uid, close::USER_DEACTIVATED, "user deactivated");
        }
        Ok(self.with_status(user))
    }

    /// Makes friends. The backend (`by_backend`) creates friendships directly; a user only
    /// asks, and a friendship exists once the other user asks back (that is the accept).
    pub async fn add_friends(
        &self,
        uid: &str,
        friends: Vec<String>,
        by_backend: bool,
    ) -> Result<UserList, ApiError> {
        if friends.is_empty() {
            return Err(invalid("uids must not be empty"));
        }
        for f in &friends {
            check_id("uid", f)?;
            if f == uid {
                return Err(invalid("a user cannot befriend themselves"));
            }
        }
        let (u, fs) = (uid.to_string(), friends.clone());
        let (made, _) = self
            .commit(Origin::rest(uid), move |c| {
                require_user(c, &u)?;
                for f in &fs {
                    require_user(c, f)?;
                }
                let now = store::now_ms();
                let mut made = Vec::new();
                for f in &fs {
                    if store::friends::are_friends(c, &u, f)? {
                        continue;
                    }
                    if by_backend || store::friends::has_request(c, f, &u)? {
                        store::friends::drop_requests(c, &u, f)?;
                        store::friends::add(c, &u, f)?;
                        made.push(f.clone());
                    } else {
                        store::friends::request(c, &u, f, now)?;
                    }
                }
                Ok((made, Deliveries::default()))
            })
            .await?;
        for f in &made {
            self.hub.set_friendship(uid, f, true);
        }
        self.list_friends(uid).await
    }

    /// Ends a friendship, or declines / cancels a pending ask, in either direction.
    pub async fn remove_friend(&self, uid: &str, friend: &str) -> Result<(), ApiError> {
        let (u, f) = (uid.to_string(), friend.to_string());
        self.commit(Origin::rest(uid), move |c| {
            require_user(c, &u)?;
            store::friends::drop_requests(c, &u, &f)?;
            store::friends::remove(c, &u, &f)?;
            Ok(((), Deliveries::default()))
        })
        .await?;
        self.hub.set_friendship(uid, friend, false);
        Ok(())
    }

    /// Pending asks to and from `uid`.
    pub async fn friend_requests(&self, uid: &str) -> Result<FriendRequests, ApiError> {
        let u = uid.to_string();
        let (incoming, outgoing) = self
            .store
            .run(move |c| {
                require_user(c, &u)?;
                let (inc, out) = store::friends::requests(c, &u)?;
                let users = |uids: Vec<String>| -> Result<Vec<User>, ApiError> {
                    let mut v = Vec::with_capacity(uids.len());
                    for id in uids {
                        v.extend(store::users::get(c, &id)?);
                    }
                    Ok(v)
                };
                Ok((users(inc)?, users(out)?))
            })
            .await?;
        // Not friends (yet): no presence.
        Ok(FriendRequests {
            incoming: incoming.into_iter().map(hide_presence).collect(),
            outgoing: outgoing.into_iter().map(hide_presence).collect(),
        })
    }

    /// Whose presence `viewer` may see (`None`: the app's backend, which sees everyone).
    pub async fn presence_view(&self, viewer: Option<&str>) -> Result<PresenceView, ApiError> {
        let Some(viewer) = viewer else {
            return Ok(PresenceView::All);
        };
        if self.config.presence_modes.open() {
            return Ok(PresenceView::All);
        }
        let v = viewer.to_string();
        let mut visible: HashSet<String> = HashSet::new();
        if self.config.presence_modes.friends {
            let friends = self
                .store
                .run(move |c| Ok(store::friends::list(c, &v)?))
                .await?;
            visible.extend(friends);
        }
        visible.insert(viewer.to_string());
        Ok(PresenceView::Only(visible))
    }

    /// [`App::with_status`] for a user the view covers; otherwise offline with no last activity.
    pub fn status_for(&self, user: User, view: &PresenceView) -> User {
        if view.covers(&user.uid) {
            self.with_status(user)
        } else {
            hide_presence(user)
        }
    }

    pub async fn list_friends(&self, uid: &str) -> Result<UserList, ApiError> {
        let u = uid.to_string();
        let users = self
            .store
            .read(move |c| {
                require_user(c, &u)?;
                let mut out = Vec::new();
                for f in store::friends::list(c, &u)? {
                    if let Some(user) = store::users::get(c, &f)? {
                        out.push(user);
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(UserList {
            users: users.into_iter().map(|u| self.with_status(u)).collect(),
            next_after: None,
        })
    }
}
