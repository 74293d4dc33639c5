//! The live path between nodes (issue 12): NATS core carries each committed event to the nodes
//! that hold its recipients' sockets. The bus is a hint, PostgreSQL is the truth: a node that
//! misses a message finds out from the next one (a `seq` jump, see [`cursor`]) or from its
//! connection's events (a reconnect, a slow-consumer drop) and reads what it lacks from the
//! database.
//!
//! Subjects: `chinwag.u.<hex uid>.<node>.<seq>` carries one recipient's copy of an event (the
//! body as stored, shared by every recipient; empty above [`MAX_INLINE`], when recipients read
//! it from the database); a node subscribes to `chinwag.u.<hex uid>.>` for each user with a
//! socket on it. `chinwag.catchup` asks every node to re-read its users' newest events (sent by
//! a node that reconnected or dropped publications). `chinwag.probe.<node>` is a node's own
//! round trip: once it comes back, every subscription sent before it is in force.

pub mod cursor;
pub mod presence;
pub mod throttle;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::hub::Hub;
use crate::service::{AppRef, Deliveries};
use crate::store;

/// Bodies above this travel as their seq only (NATS refuses payloads above its `max_payload`,
/// 1 MiB by default).
pub const MAX_INLINE: usize = 512 * 1024;
/// Events waiting for the publisher. Beyond it (the bus is down and the client's own buffer is
/// full) publications are dropped and counted; the other nodes are told to re-read.
const OUTBOX: usize = 65_536;
/// How long a new subscription waits for its round trip before the session goes on without it
/// (the bus is down; the reconnect's catch-up covers it).
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(2);

const CATCHUP: &str = "chinwag.catchup";

fn user_prefix(uid: &str) -> String {
    // Subjects split on '.', which uids may contain: hex keeps one token per uid.
    format!("chinwag.u.{}", hex::encode(uid))
}

/// One event for the publisher: its body once, and every recipient's seq.
struct Publish {
    body: Bytes,
    seqs: Vec<(String, u64)>,
}

/// What the catch-up task reads from the database.
enum CatchUp {
    /// One event whose body did not travel (too big).
    One(String, u64),
    /// The newest event of every user with a socket here: whatever arrived since it is a jump
    /// the sessions fill (asked by another node, or after messages were dropped here).
    All,
    /// This node (re)connected: [`CatchUp::All`], and the other nodes are asked to do the same
    /// (they may have missed what this node published while it was away).
    Reconnected,
}

struct UserSub {
    sockets: usize,
    ready: watch::Receiver<bool>,
    task: Option<JoinHandle<()>>,
}

pub struct Bus {
    client: async_nats::Client,
    /// This node's id in subjects: its own publications come back (echo) and are skipped.
    pub node: String,
    hub: Arc<Hub>,
    subs: Mutex<HashMap<String, UserSub>>,
    outbox: mpsc::Sender<Publish>,
    /// Set when a publication was dropped; the publisher then asks every node to re-read.
    dropped: AtomicBool,
    catch_up: mpsc::UnboundedSender<CatchUp>,
    probes: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    next_probe: AtomicU64,
    /// Publications dropped (outbox full or the client refused them), for the logs and tests.
    pub drops: AtomicU64,
}

/// The receiving half of the bus, started once the app exists (it reads the database).
pub struct Tasks {
    outbox: mpsc::Receiver<Publish>,
    catch_up: mpsc::UnboundedReceiver<CatchUp>,
    probes: async_nats::Subscriber,
    catchups: async_nats::Subscriber,
    presence: async_nats::Subscriber,
    throttles: async_nats::Subscriber,
}

/// Keeps a user's subscription while a socket of theirs is open here.
pub struct Subscription {
    bus: Arc<Bus>,
    uid: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subs = self.bus.lock_subs();
        if let Some(sub) = subs.get_mut(&self.uid) {
            sub.sockets -= 1;
            if sub.sockets == 0 {
                if let Some(task) = sub.task.take() {
                    // Dropping the subscriber unsubscribes.
                    task.abort();
                }
                subs.remove(&self.uid);
            }
        }
    }
}

impl Bus {
    /// Connects to `url` (`nats://HOST:PORT`). Reconnects by itself afterwards, forever.
    pub async fn connect(url: &str, hub: Arc<Hub>) -> Result<(Arc<Bus>, Tasks), String> {
        let (catch_tx, catch_rx) = mpsc::unbounded_channel();
        let events = catch_tx.clone();
        let node = format!("{:016x}", rand::random::<u64>());
        let options = async_nats::ConnectOptions::new()
            .name(format!("chinwag-server {node}"))
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            // Quick retries: a bus outage delays live delivery by at most this after it ends.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((100 * attempts as u64).min(1_000))
            })
            .event_callback(move |event| {
                let events = events.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("bus connected; re-reading the newest events");
                            let _ = events.send(CatchUp::Reconnected);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("bus disconnected; reconnecting")
                        }
                        async_nats::Event::SlowConsumer(_) => {
                            tracing::warn!("bus messages dropped (slow consumer); re-reading");
                            let _ = events.send(CatchUp::All);
                        }
                        other => tracing::info!(event = %other, "bus event"),
                    }
                }
            });
        let client = options
            .connect(url)
            .await
            .map_err(|e| format!("cannot connect to the bus at {url}: {e}"))?;
        let probes = client
            .subscribe(format!("chinwag.probe.{node}"))
            .await
            .map_err(|e| format!("cannot subscribe on the bus: {e}"))?;
        let catchups = client
            .subscribe(CATCHUP)
            .await
            .map_err(|e| format!("cannot subscribe on the bus: {e}"))?;
        let presence = client
            .subscribe(presence::SUBJECT)
            .await
            .map_err(|e| format!("cannot subscribe on the bus: {e}"))?;
        let throttles = client
            .subscribe(throttle::SUBJECT)
            .await
            .map_err(|e| format!("cannot subscribe on the bus: {e}"))?;
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX);
        let bus = Arc::new(Bus {
            client,
            node,
            hub,
            subs: Mutex::default(),
            outbox,
            dropped: AtomicBool::new(false),
            catch_up: catch_tx,
            probes: Mutex::default(),
            next_probe: AtomicU64::new(0),
            drops: AtomicU64::new(0),
        });
        Ok((
            bus,
            Tasks {
                outbox: outbox_rx,
                catch_up: catch_rx,
                probes,
                catchups,
                presence,
                throttles,
            },
        ))
    }

    fn lock_subs(&self) -> MutexGuard<'_, HashMap<String, UserSub>> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a committed request's events to the publisher. Runs on the writer thread after
    /// the commit: it never waits.
    pub fn publish(&self, deliveries: &Deliveries) {
        for fanned in &deliveries.events {
            let body = if fanned.body.len() > MAX_INLINE {
                Bytes::new()
            } else {
                Bytes::copy_from_slice(fanned.body.as_bytes())
            };
            let publish = Publish {
                body,
                seqs: fanned.seqs.clone(),
            };
            if self.outbox.try_send(publish).is_err() {
                self.drops.fetch_add(1, Ordering::Relaxed);
                self.dropped.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Subscribes to `uid`'s events (or counts one more socket on an existing subscription) and
    /// returns once the subscription is in force at the NATS server, so that a resume read
    /// after it misses nothing published after the read. Gives up waiting after
    /// [`SUBSCRIBE_WAIT`] (the bus is down: the reconnect's catch-up covers it).
    pub async fn subscribe(self: &Arc<Self>, uid: &str) -> Subscription {
        let (ready, start) = {
            let mut subs = self.lock_subs();
            match subs.get_mut(uid) {
                Some(sub) => {
                    sub.sockets += 1;
                    (sub.ready.clone(), None)
                }
                None => {
                    let (tx, rx) = watch::channel(false);
                    subs.insert(
                        uid.to_string(),
                        UserSub {
                            sockets: 1,
                            ready: rx.clone(),
                            task: None,
                        },
                    );
                    (rx, Some(tx))
                }
            }
        };
        let guard = Subscription {
            bus: self.clone(),
            uid: uid.to_string(),
        };
        match start {
            Some(tx) => {
                match self
                    .client
                    .subscribe(format!("{}.>", user_prefix(uid)))
                    .await
                {
                    Ok(sub) => {
                        let task = tokio::spawn(forward(self.clone(), uid.to_string(), sub));
                        if let Some(entry) = self.lock_subs().get_mut(uid) {
                            entry.task = Some(task);
                        }
                    }
                    Err(e) => tracing::warn!(uid, error = %e, "bus subscription failed"),
                }
                let _ = tokio::time::timeout(SUBSCRIBE_WAIT, self.round_trip()).await;
                let _ = tx.send(true);
            }
            None => {
                let mut ready = ready;
                let _ = tokio::time::timeout(SUBSCRIBE_WAIT, ready.wait_for(|r| *r)).await;
            }
        }
        guard
    }

    /// Returns once everything this node sent to the NATS server before it was processed.
    async fn round_trip(&self) {
        let id = self.next_probe.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        let sent = self
            .client
            .publish(
                format!("chinwag.probe.{}", self.node),
                id.to_string().into(),
            )
            .await;
        if sent.is_ok() {
            let _ = rx.await;
        }
        self.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    fn subscribed_uids(&self) -> Vec<String> {
        self.lock_subs().keys().cloned().collect()
    }
}

/// Hands one user's messages from the bus to their sockets here.
async fn forward(bus: Arc<Bus>, uid: String, mut sub: async_nats::Subscriber) {
    let prefix = user_prefix(&uid);
    while let Some(msg) = sub.next().await {
        // `<prefix>.<node>.<seq>`
        let rest = msg.subject.as_str().get(prefix.len() + 1..).unwrap_or("");
        let Some((node, seq)) = rest.split_once('.') else {
            continue;
        };
        let Ok(seq) = seq.parse::<u64>() else {
            continue;
        };
        if node == bus.node {
            continue;
        }
        if msg.payload.is_empty() {
            let _ = bus.catch_up.send(CatchUp::One(uid.clone(), seq));
            continue;
        }
        match std::str::from_utf8(&msg.payload) {
            Ok(body) => bus.hub.deliver_remote(&uid, seq, body.into()),
            Err(_) => tracing::warn!(uid, seq, "bus message is not UTF-8; skipped"),
        }
    }
}

/// Starts the bus's tasks: the publisher, the probe answers, and the catch-up reader.
pub fn start(app: &AppRef, bus: Arc<Bus>, tasks: Tasks) {
    let Tasks {
        mut outbox,
        mut catch_up,
        mut probes,
        mut catchups,
        presence,
        throttles,
    } = tasks;
    presence::start(app, bus.clone(), presence);
    throttle::start(app, bus.node.clone(), throttles);
    let publisher = bus.clone();
    tokio::spawn(async move {
        let bus = publisher;
        while let Some(p) = outbox.recv().await {
            for (uid, seq) in &p.seqs {
                let subject = format!("{}.{}.{seq}", user_prefix(uid), bus.node);
                if bus.client.publish(subject, p.body.clone()).await.is_err() {
                    bus.drops.fetch_add(1, Ordering::Relaxed);
                    bus.dropped.store(true, Ordering::SeqCst);
                }
            }
            if outbox.is_empty() && bus.dropped.swap(false, Ordering::SeqCst) {
                tracing::warn!("bus publications were dropped; asking every node to re-read");
                let _ = bus.client.publish(CATCHUP, bus.node.clone().into()).await;
            }
        }
    });
    let answers = bus.clone();
    tokio::spawn(async move {
        while let Some(msg) = probes.next().await {
            let id = std::str::from_utf8(&msg.payload)
                .ok()
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(tx) = id.and_then(|id| {
                answers
                    .probes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id)
            }) {
                let _ = tx.send(());
            }
        }
    });
    let asked = bus.clone();
    tokio::spawn(async move {
        while let Some(msg) = catchups.next().await {
            if msg.payload.as_ref() != asked.node.as_bytes() {
                let _ = asked.catch_up.send(CatchUp::All);
            }
        }
    });
    let app = app.clone();
    tokio::spawn(async move {
        while let Some(job) = catch_up.recv().await {
            match job {
                CatchUp::One(uid, seq) => read_and_deliver(&app, &bus, uid, Some(seq)).await,
                CatchUp::All | CatchUp::Reconnected => {
                    // Once the resubscriptions of a reconnect are in force (the round trip),
                    // every event published from now on arrives; what came before is read.
                    let _ = tokio::time::timeout(SUBSCRIBE_WAIT, bus.round_trip()).await;
                    if matches!(job, CatchUp::Reconnected) {
                        let _ = bus.client.publish(CATCHUP, bus.node.clone().into()).await;
                    }
                    for uid in bus.subscribed_uids() {
                        read_and_deliver(&app, &bus, uid, None).await;
                    }
                }
            }
        }
    });
}

/// Reads one event of `uid` (`seq`, or the newest) and hands it to their sockets here, whose
/// cursors fill whatever lies before it.
async fn read_and_deliver(app: &AppRef, bus: &Bus, uid: String, seq: Option<u64>) {
    let u = uid.clone();
    let read = app
        .store
        .read(move |c| {
            let seq = match seq {
                Some(s) => s,
                None => store::users::last_seq(c, &u)?,
            };
            Ok(store::events::range(
                c,
                &u,
                seq.saturating_sub(1),
                seq,
                1,
                usize::MAX,
            )?)
        })
        .await;
    match read {
        Ok(rows) => {
            for (seq, body) in rows {
                bus.hub.deliver_remote(&uid, seq, body.into());
            }
        }
        Err(e) => tracing::warn!(uid, error = %e.message, "catch-up read failed"),
    }
}
