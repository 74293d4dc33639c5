//! Throttles across nodes (issue 12), approximately. Operator switches (`POST
//! /v1/admin/throttle`) reach every node over `chinwag.throttle` and apply everywhere. Per-user
//! feature limits are counted by each node for the requests it serves (no shared counter on
//! the hot path); once a node throttles a user, it tells the others, which hold that user to
//! the same end time and tell their sockets. So a user with sockets on k nodes gets at most k
//! times the limit in the window before the first throttle, and is throttled on every node
//! after it.

use std::time::Duration;

use chinwag_protocol::frames::Feature;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::service::{App, AppRef};

pub const SUBJECT: &str = "chinwag.throttle";

#[derive(Serialize, Deserialize)]
struct Change {
    node: String,
    /// A user's throttle; none for an operator's switch.
    uid: Option<String>,
    feature: Feature,
    ms: u64,
}

/// Tells the other nodes about a throttle decided here (nothing without a bus).
pub fn share(app: &App, uid: Option<&str>, feature: Feature, remaining: Duration) {
    let Some(bus) = &app.bus else { return };
    let change = Change {
        node: bus.node.clone(),
        uid: uid.map(String::from),
        feature,
        ms: remaining.as_millis() as u64,
    };
    let Ok(bytes) = serde_json::to_vec(&change) else {
        return;
    };
    let client = bus.client.clone();
    tokio::spawn(async move {
        if let Err(e) = client.publish(SUBJECT, bytes.into()).await {
            tracing::warn!(error = %e, "throttle not shared on the bus");
        }
    });
}

/// Applies the other nodes' throttles here.
pub fn start(app: &AppRef, node: String, mut changes: async_nats::Subscriber) {
    let app = app.clone();
    tokio::spawn(async move {
        while let Some(msg) = changes.next().await {
            let change = match serde_json::from_slice::<Change>(&msg.payload) {
                Ok(c) if c.node != node => c,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable throttle on the bus");
                    continue;
                }
            };
            let left = Duration::from_millis(change.ms);
            match change.uid {
                Some(uid) => app.throttle_user_from_bus(&uid, change.feature, left),
                None => app.throttle_globally_here(change.feature, left),
            }
        }
    });
}
