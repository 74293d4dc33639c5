use super::*;
use crate::error::{Error, ErrorCode};
use std::sync::mpsc;

fn log_event(n: u64) -> Event {
    Event::ConnectionError(Error::new(ErrorCode::Network, n.to_string()))
}

#[test]
fn events_run_in_order_on_one_thread() {
    let d = Dispatcher::start("t").unwrap();
    let (tx, rx) = mpsc::channel();
    d.add(
        ListenerKind::Connection,
        "a",
        Box::new(move |e: &Event| {
            if let Event::ConnectionError(err) = e {
                tx.send((
                    std::thread::current().name().map(String::from),
                    err.message.clone(),
                ))
                .unwrap();
            }
        }),
    );
    for n in 0..100 {
        d.shared().post(Item::Event {
            epoch: 0,
            seq: None,
            event: log_event(n),
        });
    }
    for n in 0..100 {
        let (thread, msg) = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        assert_eq!(thread.as_deref(), Some("t"));
        assert_eq!(msg, n.to_string());
    }
}

struct Dropped(mpsc::Sender<&'static str>);
impl Listener for Dropped {
    fn on_event(&mut self, _: &Event) {}
}
impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

#[test]
fn remove_releases_before_returning_and_replace_releases_the_old_one() {
    let d = Dispatcher::start("t").unwrap();
    let (tx, rx) = mpsc::channel();
    d.add(ListenerKind::Message, "x", Box::new(Dropped(tx.clone())));
    d.add(ListenerKind::Message, "x", Box::new(Dropped(tx.clone())));
    assert_eq!(rx.try_recv(), Ok("dropped"), "replacing released the first");
    assert!(d.remove(ListenerKind::Message, "x"));
    assert_eq!(
        rx.try_recv(),
        Ok("dropped"),
        "released before remove returned"
    );
    assert!(!d.remove(ListenerKind::Message, "x"));
}

#[test]
fn stale_epoch_realtime_events_are_dropped() {
    let d = Dispatcher::start("t").unwrap();
    let (tx, rx) = mpsc::channel();
    d.add(
        ListenerKind::Message,
        "m",
        Box::new(move |e: &Event| {
            if let Event::Gap(g) = e {
                tx.send(g.from_seq).unwrap();
            }
        }),
    );
    let gap = |n| {
        Event::Gap(chinwag_protocol::frames::Gap {
            from_seq: n,
            to_seq: n,
        })
    };
    d.shared().post(Item::Event {
        epoch: 0,
        seq: None,
        event: gap(1),
    });
    // Delivered before the epoch moves on (bumping right away would race with it).
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
        1
    );
    let e = d.shared().bump_epoch();
    d.shared().post(Item::Event {
        epoch: 0,
        seq: None,
        event: gap(2),
    });
    d.shared().post(Item::Event {
        epoch: e,
        seq: None,
        event: gap(3),
    });
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
        3
    );
}

#[test]
fn stop_cancels_unresolved_completions_before_it_returns() {
    use crate::completion::Completer;
    let mut d = Dispatcher::start("t").unwrap();
    let (tx, rx) = mpsc::channel();
    let mut completers = Vec::new();
    for n in 0..3 {
        let tx = tx.clone();
        completers.push(Completer::<u32>::new(
            d.shared(),
            Box::new(move |r| tx.send((n, r.map_err(|e| e.code))).unwrap()),
        ));
    }
    completers.remove(1).complete(Ok(7));
    d.stop();
    let mut got: Vec<_> = rx.try_iter().collect();
    got.sort_by_key(|(n, _)| *n);
    assert_eq!(
        got,
        vec![
            (0, Err(ErrorCode::Cancelled)),
            (1, Ok(7)),
            (2, Err(ErrorCode::Cancelled))
        ],
        "each ran once, on the dispatcher, before stop returned"
    );
    // The work finishing later changes nothing; nor does a completion created afterwards
    // (it is cancelled at once).
    completers.remove(0).complete(Ok(1));
    drop(completers);
    let tx2 = tx.clone();
    drop(Completer::<u32>::new(
        d.shared(),
        Box::new(move |r| tx2.send((9, r.map_err(|e| e.code))).unwrap()),
    ));
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        vec![(9, Err(ErrorCode::Cancelled))]
    );
}

#[test]
fn listeners_cannot_be_added_after_stop() {
    let mut d = Dispatcher::start("t").unwrap();
    let shared = d.shared();
    d.stop();
    let (tx, rx) = mpsc::channel();
    let back = shared.add(ListenerKind::Message, "late", Box::new(Dropped(tx)));
    assert!(back.is_err(), "refused and handed back");
    assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
    drop(back);
    assert_eq!(rx.try_recv(), Ok("dropped"));
}

#[test]
fn stop_runs_pending_completions_exactly_once() {
    let mut d = Dispatcher::start("t").unwrap();
    let (tx, rx) = mpsc::channel();
    for n in 0..10 {
        let tx = tx.clone();
        d.shared()
            .post(Item::Run(Box::new(move || tx.send(n).unwrap())));
    }
    d.stop();
    let shared = d.shared();
    let tx2 = tx.clone();
    shared.post(Item::Run(Box::new(move || tx2.send(99).unwrap())));
    let got: Vec<i32> = rx.try_iter().collect();
    assert_eq!(got, (0..10).chain([99]).collect::<Vec<_>>());
}

// ----- listeners added after init ---------------------------------------------------------

fn message(n: u64) -> Event {
    Event::Gap(chinwag_protocol::frames::Gap {
        from_seq: n,
        to_seq: n,
    })
}

fn post_durable(shared: &Shared, seq: u64, event: Event) {
    shared.post(Item::Event {
        epoch: 0,
        seq: Some(seq),
        event,
    });
}

/// Reports each event as a string, on the dispatcher thread.
fn namer(tx: mpsc::Sender<String>) -> Box<dyn Listener> {
    Box::new(move |e: &Event| {
        let name = match e {
            Event::Gap(g) => format!("message {}", g.from_seq),
            Event::GroupMember(g) => format!("group {}", g.guid),
            Event::State(c) => format!(
                "{}->{} {}",
                c.previous.name(),
                c.current.name(),
                c.reason.name()
            ),
            other => format!("{other:?}"),
        };
        let _ = tx.send(name);
    })
}

fn group(guid: &str) -> Event {
    Event::GroupMember(chinwag_protocol::model::GroupMemberEvent {
        guid: guid.into(),
        ..serde_json::from_value(serde_json::json!({
            "guid": "g", "group_name": "G", "action": "joined", "member": "m", "by": "m", "at": 0
        }))
        .unwrap()
    })
}

#[test]
#[cfg(unix)]
fn the_hold_keeps_order_and_position_until_a_listener_of_the_kind_exists() {
    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
    let (tx, rx) = mpsc::channel();
    d.shared()
        .add_greeted(ListenerKind::Group, "g", namer(tx.clone()))
        .ok()
        .unwrap();
    post_durable(&shared, 1, message(1)); // no message listener: held
    post_durable(&shared, 2, group("behind")); // behind a held event: held too
    shared.post(Item::Run(Box::new({
        let s = shared.clone();
        move || s.note_delivered(3) // an acknowledged position: waits behind them
    })));
    shared.dispatch(0).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), Vec::<String>::new());
    assert_eq!(
        shared.delivered_seq(),
        0,
        "nothing held counts as delivered"
    );
    shared
        .add_greeted(ListenerKind::Message, "m", namer(tx.clone()))
        .ok()
        .unwrap();
    shared.dispatch(0).unwrap();
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        ["message 1", "group behind"],
        "in order, once a listener of the first one's kind exists"
    );
    assert_eq!(shared.delivered_seq(), 3);
    post_durable(&shared, 4, message(4));
    shared.dispatch(0).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["message 4"]);
}

#[test]
#[cfg(unix)]
fn held_events_of_an_older_epoch_hold_nothing_up() {
    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
    let (tx, rx) = mpsc::channel();
    shared
        .add_greeted(ListenerKind::Group, "g", namer(tx))
        .ok()
        .unwrap();
    post_durable(&shared, 1, message(1)); // held: no message listener
    shared.dispatch(0).unwrap();
    let epoch = shared.bump_epoch(); // disconnect(): the held message is stale
    shared.post(Item::Event {
        epoch,
        seq: None,
        event: group("next"),
    });
    shared.dispatch(0).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["group next"]);
    assert_eq!(
        shared.delivered_seq(),
        0,
        "the stale one was dropped, not delivered"
    );
}

#[test]
#[cfg(unix)]
fn the_end_of_the_hold_releases_everything() {
    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    shared.hold_realtime_until(Instant::now() + std::time::Duration::from_secs(60));
    post_durable(&shared, 1, message(1));
    shared.dispatch(0).unwrap();
    assert_eq!(shared.delivered_seq(), 0, "held");
    // The grace ends (moved to now rather than waited for); its timer posts the release.
    shared.hold_realtime_until(Instant::now());
    shared.post(Item::ReleaseHeld);
    shared.dispatch(0).unwrap();
    assert_eq!(
        shared.delivered_seq(),
        1,
        "handed to nobody, as without the hold"
    );
    let (tx, rx) = mpsc::channel();
    shared
        .add_greeted(ListenerKind::Message, "m", namer(tx))
        .ok()
        .unwrap();
    post_durable(&shared, 2, message(2));
    shared.dispatch(0).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["message 2"]);
}

#[test]
#[cfg(unix)]
fn a_connection_listener_added_later_first_hears_the_state_its_peers_last_heard() {
    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    let change = |from, to| {
        Event::State(StateChange {
            previous: from,
            current: to,
            reason: Reason::ConnectRequested,
            message: String::new(),
            retry_in_ms: None,
        })
    };
    use ConnectionState::*;
    shared.post(Item::Event {
        epoch: 0,
        seq: None,
        event: change(Disconnected, Connecting),
    });
    shared.dispatch(0).unwrap();
    // Queued before the add but dispatched after it: the new listener hears it, after its
    // first event, which is the state the others last heard (CONNECTING).
    shared.post(Item::Event {
        epoch: 0,
        seq: None,
        event: change(Connecting, Connected),
    });
    let (tx, rx) = mpsc::channel();
    shared
        .add_greeted(ListenerKind::Connection, "late", namer(tx))
        .ok()
        .unwrap();
    shared.dispatch(0).unwrap();
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        [
            "CONNECTING->CONNECTING LISTENER_ADDED",
            "CONNECTING->CONNECTED CONNECT_REQUESTED"
        ]
    );
}

// ----- app mode --------------------------------------------------------------------------

fn post_logs(shared: &Shared, range: std::ops::Range<u64>) {
    for n in range {
        shared.post(Item::Event {
            epoch: 0,
            seq: None,
            event: log_event(n),
        });
    }
}

/// A connection listener that reports (thread, message) of each error event.
fn reporter(tx: mpsc::Sender<(ThreadId, String)>) -> Box<dyn Listener> {
    Box::new(move |e: &Event| {
        if let Event::ConnectionError(err) = e {
            let _ = tx.send((std::thread::current().id(), err.message.clone()));
        }
    })
}

#[test]
#[cfg(unix)]
fn app_mode_runs_items_on_the_calling_thread_in_order_within_max() {
    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    assert!(shared.dispatch_fd().is_some());
    let (tx, rx) = mpsc::channel();
    d.add(ListenerKind::Connection, "r", reporter(tx));
    assert_eq!(shared.dispatch(0), Ok(0));
    assert!(!shared.raised());
    post_logs(&shared, 0..5);
    assert!(shared.raised(), "raised when the queue turned non-empty");
    assert_eq!(rx.try_recv().ok(), None, "nothing runs before dispatch");
    assert_eq!(shared.dispatch(2), Ok(2));
    assert!(shared.raised(), "still raised: three wait");
    assert_eq!(shared.dispatch(0), Ok(3));
    assert!(!shared.raised(), "drained");
    let me = std::thread::current().id();
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got, (0..5).map(|n| (me, n.to_string())).collect::<Vec<_>>());
    // 0 takes only what waits when the call starts.
    post_logs(&shared, 5..7);
    assert_eq!(shared.dispatch(0), Ok(2));
    assert_eq!(shared.dispatch(1), Ok(0));
}

#[test]
fn dispatch_needs_app_mode_and_refuses_reentry() {
    let d = Dispatcher::start("t").unwrap();
    assert_eq!(
        d.shared().dispatch(0).map_err(|e| e.code),
        Err(ErrorCode::InvalidArgument)
    );

    let d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    let (tx, rx) = mpsc::channel();
    let weak = Arc::downgrade(&shared);
    d.add(
        ListenerKind::Connection,
        "r",
        Box::new(move |_: &Event| {
            let s = weak.upgrade().unwrap();
            tx.send((s.on_dispatcher_thread(), s.dispatch(0).map_err(|e| e.code)))
                .unwrap();
        }),
    );
    post_logs(&shared, 0..2);
    assert!(!shared.on_dispatcher_thread());
    assert_eq!(shared.dispatch(0), Ok(2));
    assert!(!shared.on_dispatcher_thread());
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got, vec![(true, Err(ErrorCode::ReentrantCall)); 2]);
}

#[test]
fn app_stop_runs_completions_on_the_stopping_thread_and_closes() {
    use crate::completion::Completer;
    let mut d = Dispatcher::start_app().unwrap();
    let shared = d.shared();
    let (tx, rx) = mpsc::channel();
    let me = std::thread::current().id();
    let mut completers = Vec::new();
    for n in 0..3 {
        let tx = tx.clone();
        completers.push(Completer::<u32>::new(
            shared.clone(),
            Box::new(move |r| {
                tx.send((n, r.map_err(|e| e.code), std::thread::current().id()))
                    .unwrap()
            }),
        ));
    }
    completers.remove(1).complete(Ok(7));
    let (ltx, lrx) = mpsc::channel();
    d.add(ListenerKind::Message, "x", Box::new(Dropped(ltx)));
    post_logs(&shared, 0..3);
    d.stop();
    let mut got: Vec<_> = rx.try_iter().collect();
    got.sort_by_key(|(n, _, _)| *n);
    assert_eq!(
        got,
        vec![
            (0, Err(ErrorCode::Cancelled), me),
            (1, Ok(7), me),
            (2, Err(ErrorCode::Cancelled), me)
        ],
        "each ran once, on the stopping thread, before stop returned"
    );
    assert_eq!(lrx.try_recv(), Ok("dropped"), "listeners released");
    #[cfg(unix)]
    assert_eq!(shared.dispatch_fd(), None, "closed");
    assert_eq!(
        shared.dispatch(0).map_err(|e| e.code),
        Err(ErrorCode::ClientFreed)
    );
    drop(completers);
    assert_eq!(rx.try_recv().ok(), None);
}

#[test]
fn app_stop_inside_a_callback_is_finished_by_that_dispatch() {
    use crate::completion::Completer;
    let d = Arc::new(Mutex::new(Some(Dispatcher::start_app().unwrap())));
    let shared = lock(&d).as_ref().unwrap().shared();
    let (tx, rx) = mpsc::channel::<String>();
    let pending = {
        let tx = tx.clone();
        Completer::<u32>::new(
            shared.clone(),
            Box::new(move |r| {
                tx.send(format!("completion {:?}", r.map_err(|e| e.code)))
                    .unwrap()
            }),
        )
    };
    let (holder, tx2) = (d.clone(), tx.clone());
    let stopper: Box<dyn Listener> = Box::new(move |e: &Event| {
        if let Event::ConnectionError(err) = e {
            tx2.send(format!("event {}", err.message)).unwrap();
            if err.message == "1" {
                // As Client::close does: taken out first, then stopped.
                let taken = lock(&holder).take();
                if let Some(mut d) = taken {
                    d.stop();
                }
                tx2.send("stop returned".into()).unwrap();
            }
        }
    });
    shared
        .add(ListenerKind::Connection, "stopper", stopper)
        .ok()
        .unwrap();
    post_logs(&shared, 0..4);
    let taken = shared.dispatch(0).unwrap();
    assert!(taken >= 2, "took {taken}");
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        got,
        vec![
            "event 0",
            "event 1",
            "stop returned",
            "completion Err(Cancelled)"
        ],
        "deferred: the rest dropped, the completion cancelled after the callback returned"
    );
    assert_eq!(
        shared.dispatch(0).map_err(|e| e.code),
        Err(ErrorCode::ClientFreed)
    );
    drop(pending);
    assert_eq!(rx.try_recv().ok(), None, "exactly once");
}
