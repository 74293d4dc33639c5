//! Property tests of the SDK's state machine and outbox against a real server (behaviour
//! contract sections 3-6): random sequences of connect, disconnect, send, socket drop, ack
//! loss, server restart and logout/login, through a fault proxy. After each sequence the path
//! heals and the client connects; then:
//! - every state event is one change (it starts where the last one ended and changes it);
//! - every send the SDK accepted completes exactly once;
//! - the receiver gets each of the sender's messages at most once, in the order they were
//!   sent, and every send that completed OK among them;
//! - nothing the receiver got is a message that was never sent.
//!
//! Bounded: `PROPTEST_CASES` cases (default 64) of up to 14 steps each, one server for all of
//! them (a fresh pair of users per case).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chinwag::protocol::model::ReceiverType;
use chinwag::{Client, ConnectionState as S};
use common::proxy::Proxy;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

#[derive(Debug, Clone)]
enum Step {
    Connect,
    Disconnect,
    Send(u8),
    /// Every socket through the proxy is reset.
    DropSocket,
    /// A send reaches the server but its ack does not come back; then the socket drops.
    AckLoss,
    /// The server stops and starts again on the same database and port.
    RestartServer,
    /// Logout, then login again (queued sends fail with LOGGED_OUT).
    Relogin,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Connect),
        2 => Just(Step::Disconnect),
        6 => (1u8..4).prop_map(Step::Send),
        2 => Just(Step::DropSocket),
        2 => Just(Step::AckLoss),
        1 => Just(Step::RestartServer),
        1 => Just(Step::Relogin),
    ]
}

/// What the sender's sends came to: per send (by its text), how often it completed and how.
#[derive(Default)]
struct Outcomes {
    accepted: Vec<String>,
    done: HashMap<String, Vec<bool>>,
}

struct World {
    server: Server,
    proxy: Proxy,
    config: chinwag_server::Config,
    _dir: tempfile::TempDir,
    case: AtomicUsize,
    /// Figures for the report: steps run by kind, sends accepted, sends acked.
    tally: Mutex<HashMap<&'static str, usize>>,
}

impl World {
    fn count(&self, what: &'static str, n: usize) {
        *self.tally.lock().unwrap().entry(what).or_default() += n;
    }
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server::with_db_in(dir.path(), Server::config());
        // Restarts come back on the same port, so the proxy's target stays right.
        let mut config = server.config.clone();
        config.listen = server.addr();
        server.restart_on(config.clone());
        let proxy = Proxy::start(&server.url);
        World {
            server,
            proxy,
            config,
            _dir: dir,
            case: AtomicUsize::new(0),
            tally: Mutex::new(HashMap::new()),
        }
    }
}

fn run_case(world: &mut World, steps: &[Step]) -> Result<(), TestCaseError> {
    let n = world.case.fetch_add(1, Ordering::SeqCst);
    let (alice_id, bob_id) = (format!("pa{n}"), format!("pb{n}"));
    world.server.create_user(&alice_id);
    world.server.create_user(&bob_id);
    // The sender goes through the proxy; the receiver straight to the server, and stays up.
    let (alice, rec) = new_client(&world.server, world.server.settings_via(&world.proxy.url()));
    login_connected(&alice, &rec, &alice_id);
    let (bob, bob_rec) = new_client(&world.server, world.server.settings());
    login_connected(&bob, &bob_rec, &bob_id);

    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut sent = 0usize;
    let send = |alice: &Client, sent: &mut usize| {
        let text = format!("m{}", *sent);
        *sent += 1;
        let (o, t) = (outcomes.clone(), text.clone());
        let r = alice.send_text(
            ReceiverType::User,
            &bob_id,
            &text,
            Some(Box::new(move |r| {
                let mut o = o.lock().unwrap();
                o.done.entry(t).or_default().push(r.is_ok());
            })),
        );
        if r.is_ok() {
            outcomes.lock().unwrap().accepted.push(text);
        }
    };

    for step in steps {
        world.count(step_name(step), 1);
        match step {
            Step::Connect => {
                let _ = alice.connect();
            }
            Step::Disconnect => alice.disconnect(),
            Step::Send(k) => {
                for _ in 0..*k {
                    send(&alice, &mut sent);
                }
            }
            Step::DropSocket => {
                world.proxy.reset();
            }
            Step::AckLoss => {
                world.proxy.blackhole_down();
                let stored = world.server.history(&bob_id, &alice_id).len();
                send(&alice, &mut sent);
                // Wait (bounded) until the server has it, when alice is connected at all.
                let deadline = Instant::now() + Duration::from_secs(3);
                while alice.connection_state() == S::Connected
                    && world.server.history(&bob_id, &alice_id).len() == stored
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                world.proxy.reset();
                world.proxy.heal();
            }
            Step::RestartServer => {
                world.server.restart_on(world.config.clone());
            }
            Step::Relogin => {
                let (done, rx) = completion();
                if alice.logout(Some(done)).is_ok() {
                    let _ = rx.recv_timeout(WAIT);
                }
                let (done, rx) = completion();
                alice.login(&alice_id, AUTH_KEY, Some(done)).unwrap();
                let _ = rx.recv_timeout(WAIT);
            }
        }
    }

    // Settle: the path heals, alice connects, every accepted send completes.
    world.proxy.heal();
    if alice.connection_state() != S::Connected {
        let _ = alice.connect();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = outcomes.lock().unwrap();
        let done = o.accepted.iter().all(|t| o.done.contains_key(t));
        drop(o);
        if done {
            break;
        }
        prop_assert!(
            Instant::now() < deadline,
            "sends still open after 30 s: {:?}",
            outcomes.lock().unwrap().accepted
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = outcomes.lock().unwrap();
    for t in &o.accepted {
        prop_assert_eq!(o.done[t].len(), 1, "send {} completed {:?}", t, o.done[t]);
    }
    let acked: Vec<&String> = o.accepted.iter().filter(|t| o.done[*t][0]).collect();
    world.count("sends accepted", o.accepted.len());
    world.count("sends acked", acked.len());
    // Bob gets every acked message (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let got: Vec<String> = bob_rec
            .messages()
            .into_iter()
            .filter(|m| m.sender == alice_id)
            .filter_map(|m| m.text)
            .collect();
        if acked.iter().all(|t| got.contains(t)) || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for t in &acked {
        prop_assert!(
            got.contains(t),
            "acked {} never reached bob; got {:?}",
            t,
            got
        );
    }
    let index: Vec<usize> = got
        .iter()
        .map(|t| o.accepted.iter().position(|a| a == t))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| TestCaseError::fail(format!("bob got a message never sent: {got:?}")))?;
    prop_assert!(
        index.windows(2).all(|w| w[0] < w[1]),
        "bob got messages twice or out of order: {:?}",
        got
    );
    drop(o);
    rec.assert_state_chain();
    bob_rec.assert_state_chain();
    drop(alice);
    drop(bob);
    Ok(())
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Connect => "connect",
        Step::Disconnect => "disconnect",
        Step::Send(_) => "send",
        Step::DropSocket => "socket drop",
        Step::AckLoss => "ack loss",
        Step::RestartServer => "server restart",
        Step::Relogin => "logout+login",
    }
}

#[test]
fn random_sequences_keep_the_contract() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        // Shrinking replays whole sequences against the server: a few rounds say enough.
        max_shrink_iters: 32,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let world = std::cell::RefCell::new(World::new());
    let started = Instant::now();
    let result = runner.run(&proptest::collection::vec(step(), 1..14), |steps| {
        run_case(&mut world.borrow_mut(), &steps)
    });
    let world = world.into_inner();
    let mut tally: Vec<_> = world.tally.lock().unwrap().clone().into_iter().collect();
    tally.sort();
    println!(
        "state_properties: {} cases run in {:?}: {tally:?}",
        world.case.load(Ordering::SeqCst),
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
