//! Presence across nodes (issue 12). A user is online while any node holds a socket of theirs:
//! each node records the users it holds in PostgreSQL (`presence`) and announces changes on
//! `chinwag.presence`, which every node passes to its own sockets. Each node writes its heartbeat
//! row and looks for dead nodes every quarter of [`Config::node_heartbeat`](crate::config::Config);
//! a node silent for two heartbeats is dead: another node removes it (one wins: the row lock),
//! and its users who are on no other node go offline, announced by the node that removed it.
//! Offline within 2¼ heartbeats of the death, plus a commit and a bus hop.

use std::sync::Arc;

use chinwag_protocol::model::{Presence, UserStatus};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::Bus;
use crate::service::AppRef;
use crate::store::{self, now_ms};

pub const SUBJECT: &str = "chinwag.presence";

/// One presence change on the bus.
#[derive(Serialize, Deserialize)]
struct Change {
    node: String,
    uid: String,
    role: String,
    online: bool,
}

fn status(online: bool) -> UserStatus {
    if online {
        UserStatus::Online
    } else {
        UserStatus::Offline
    }
}

impl Bus {
    /// Tells the other nodes' sockets that `uid` came online or went offline.
    async fn announce(&self, uid: &str, role: &str, online: bool) {
        let change = Change {
            node: self.node.clone(),
            uid: uid.to_string(),
            role: role.to_string(),
            online,
        };
        if let Ok(bytes) = serde_json::to_vec(&change) {
            if let Err(e) = self.client.publish(SUBJECT, bytes.into()).await {
                tracing::warn!(uid, error = %e, "presence not announced on the bus");
            }
        }
    }
}

/// A user's first socket on this node was registered.
pub async fn opened(app: &AppRef, uid: &str, role: &str) {
    app.hub.publish_presence(uid, role, UserStatus::Online);
    let Some(bus) = &app.bus else { return };
    let (u, node) = (uid.to_string(), bus.node.clone());
    let held = app
        .store
        .run(move |c| Ok(store::nodes::hold(c, &u, &node, now_ms())?))
        .await;
    if let Err(e) = held {
        tracing::warn!(uid, error = %e, "presence not recorded");
    }
    bus.announce(uid, role, true).await;
}

/// A user's last socket on this node was unregistered.
pub async fn closed(app: &AppRef, uid: &str, role: &str) {
    let u = uid.to_string();
    let Some(bus) = &app.bus else {
        let _ = app
            .store
            .run(move |c| Ok(store::users::touch_last_active(c, &u, now_ms())?))
            .await;
        app.hub.publish_presence(uid, role, UserStatus::Offline);
        return;
    };
    let node = bus.node.clone();
    let nowhere = app
        .store
        .run(move |c| Ok(store::nodes::release(c, &u, &node, now_ms())?))
        .await;
    // When the database cannot say, the user is offline here: the heartbeat's clean-up or
    // the next socket puts it right.
    if nowhere.unwrap_or(true) {
        app.hub.publish_presence(uid, role, UserStatus::Offline);
        bus.announce(uid, role, false).await;
    }
}

/// The online users a socket's subscription covers, on every node.
pub async fn snapshot(app: &AppRef, uid: &str, session: u64) -> Vec<Presence> {
    if app.bus.is_none() {
        return app.hub.presence_snapshot(uid, session);
    }
    let elsewhere = app
        .store
        .read(|c| Ok(store::nodes::online(c)?))
        .await
        .unwrap_or_default();
    app.hub.presence_snapshot_with(uid, session, &elsewhere)
}

/// Starts the presence tasks: other nodes' announcements to the sockets here, and the
/// heartbeat with its clean-up of dead nodes.
pub fn start(app: &AppRef, bus: Arc<Bus>, mut changes: async_nats::Subscriber) {
    let listener = bus.clone();
    let hub = app.hub.clone();
    tokio::spawn(async move {
        while let Some(msg) = changes.next().await {
            match serde_json::from_slice::<Change>(&msg.payload) {
                Ok(c) if c.node != listener.node => {
                    hub.publish_presence(&c.uid, &c.role, status(c.online))
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "unreadable presence change on the bus"),
            }
        }
    });
    tokio::spawn(heartbeat(app.clone(), bus));
}

async fn heartbeat(app: AppRef, bus: Arc<Bus>) {
    let every = app.config.node_heartbeat;
    let mut ticker = tokio::time::interval(every / 4);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Beats written in a row: only a node that has been beating for two heartbeats judges
    // others (after a database outage every row is old; the live nodes beat again first).
    let mut streak = 0u32;
    loop {
        ticker.tick().await;
        let node = bus.node.clone();
        match app
            .store
            .run(move |c| Ok(store::nodes::beat(c, &node, now_ms())?))
            .await
        {
            Ok(true) => streak += 1,
            Ok(false) => {
                streak += 1;
                restore(&app, &bus).await;
            }
            Err(e) => {
                streak = 0;
                tracing::warn!(error = %e, "node heartbeat failed");
                continue;
            }
        }
        if streak >= 8 {
            reap(&app, &bus, every).await;
        }
    }
}

/// Another node took this one for dead (it was silent too long) and removed its users'
/// presence: put it back and announce them again.
async fn restore(app: &AppRef, bus: &Bus) {
    tracing::warn!("this node was taken for dead; restoring its users' presence");
    for uid in app.hub.online_uids() {
        let (u, node) = (uid.clone(), bus.node.clone());
        let role = app
            .store
            .run(move |c| {
                store::nodes::hold(c, &u, &node, now_ms())?;
                Ok(store::users::get(c, &u)?.map(|user| user.role))
            })
            .await;
        if let Ok(Some(role)) = role {
            bus.announce(&uid, &role, true).await;
        }
    }
}

/// Removes nodes silent for two heartbeats; their users on no other node go offline, and
/// calls they were ringing get their unanswered timeout here.
async fn reap(app: &AppRef, bus: &Bus, every: std::time::Duration) {
    let before = now_ms() - 2 * every.as_millis() as i64;
    let me = bus.node.clone();
    let silent = app
        .store
        .read(move |c| Ok(store::nodes::silent(c, &me, before)?))
        .await
        .unwrap_or_default();
    for dead in silent {
        let d = dead.clone();
        let removed = app
            .store
            .run(move |c| Ok(store::nodes::remove_dead(c, &d, before)?))
            .await;
        let Ok(Some(offline)) = removed else { continue };
        tracing::warn!(node = dead, users = offline.len(), "node silent: removed");
        for (uid, role) in offline {
            app.hub.publish_presence(&uid, &role, UserStatus::Offline);
            bus.announce(&uid, &role, false).await;
        }
        if let Err(e) = app.resume_call_timeouts().await {
            tracing::warn!(error = %e, "call timeouts not re-armed");
        }
    }
}
