//! A chat client process for the fault suite (`make test-faults`, tests/faults/run.py).
//!
//! One process is one client: `--role receiver` logs in and prints every message and state
//! event it sees; `--role sender` logs in and pushes `--count` numbered text messages to
//! `--peer`, keeping at most `--window` sends unfinished (the SDK writes them to its socket
//! without waiting for the acks of the earlier ones) and printing each completion, and every
//! 100th send how many are unfinished (`issued`). Both
//! write one JSON object per line (to `--out`, or stdout), each stamped with the wall clock in
//! milliseconds (`t`), so the harness can line them up with the faults it injects. The SDK runs
//! in auto mode and reconnects by itself; this program never calls `connect()` again.
//!
//! It ends by itself: the receiver after it holds all `--count` messages and `--linger-ms` more
//! passed with nothing new, the sender once every send completed; both at `--deadline-s` at the
//! latest (exit code 3). Exit code 0 means the run finished, not that it was correct: the
//! harness judges the lines.
//!
//! ```text
//! cargo run --example fault_client -- --role receiver --server http://10.231.0.1:7000 \
//!     --uid bob --auth-key KEY --count 10000
//! ```

use std::collections::HashSet;
use std::fs::File;
use std::io::{LineWriter, Write};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chinwag::protocol::model::ReceiverType;
use chinwag::{Client, ConnectionState, Event, InitOptions, ListenerKind, LogLevel, Settings};
use serde_json::{json, Value};

const USAGE: &str =
    "usage: fault_client --role sender|receiver --server URL --uid UID --auth-key KEY \
--count N [--peer UID] [--window N] [--rate PER_S] [--out FILE] [--deadline-s S] [--linger-ms MS] \
[--heartbeat-grace-ms MS] [--first-retry-max-ms MS] [--backoff-base-ms MS] [--backoff-cap-ms MS] \
[--connect-timeout-ms MS] [--queue-capacity N] [--prefix TEXT]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Sender,
    Receiver,
}

#[derive(Debug, Clone)]
struct Args {
    role: Role,
    server: String,
    uid: String,
    peer: Option<String>,
    auth_key: String,
    count: u64,
    window: usize,
    rate: f64,
    out: Option<String>,
    deadline: Duration,
    linger: Duration,
    heartbeat_grace: Option<Duration>,
    first_retry_max: Option<Duration>,
    backoff_base: Option<Duration>,
    backoff_cap: Option<Duration>,
    connect_timeout: Option<Duration>,
    queue_capacity: usize,
    prefix: String,
}

fn parse_args() -> Result<Args, String> {
    let mut role = None;
    let mut server = None;
    let mut uid = None;
    let mut peer = None;
    let mut auth_key = None;
    let mut count = None;
    let mut window = 1000usize;
    let mut rate = 0f64;
    let mut out = None;
    let mut deadline = Duration::from_secs(120);
    let mut linger = Duration::from_millis(1000);
    let mut heartbeat_grace = None;
    let mut first_retry_max = None;
    let mut backoff_base = None;
    let mut backoff_cap = None;
    let mut connect_timeout = None;
    let mut queue_capacity = 1000usize;
    let mut prefix = "m".to_string();

    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|e| format!("{flag}: {v:?} is not a whole number: {e}"))
        };
        let ms = |v: &str| num(v).map(Duration::from_millis);
        match flag.as_str() {
            "--role" => {
                role = Some(match value.as_str() {
                    "sender" => Role::Sender,
                    "receiver" => Role::Receiver,
                    other => {
                        return Err(format!("--role must be sender or receiver, not {other:?}"))
                    }
                })
            }
            "--server" => server = Some(value),
            "--uid" => uid = Some(value),
            "--peer" => peer = Some(value),
            "--auth-key" => auth_key = Some(value),
            "--count" => count = Some(num(&value)?),
            "--window" => window = num(&value)?.max(1) as usize,
            "--rate" => {
                rate = value
                    .parse::<f64>()
                    .map_err(|e| format!("--rate: {value:?}: {e}"))?
            }
            "--out" => out = Some(value),
            "--deadline-s" => deadline = Duration::from_secs(num(&value)?),
            "--linger-ms" => linger = ms(&value)?,
            "--heartbeat-grace-ms" => heartbeat_grace = Some(ms(&value)?),
            "--first-retry-max-ms" => first_retry_max = Some(ms(&value)?),
            "--backoff-base-ms" => backoff_base = Some(ms(&value)?),
            "--backoff-cap-ms" => backoff_cap = Some(ms(&value)?),
            "--connect-timeout-ms" => connect_timeout = Some(ms(&value)?),
            "--queue-capacity" => queue_capacity = num(&value)? as usize,
            "--prefix" => prefix = value,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    let need =
        |v: Option<String>, name: &str| v.ok_or_else(|| format!("{name} is required\n{USAGE}"));
    let role = role.ok_or_else(|| format!("--role is required\n{USAGE}"))?;
    let args = Args {
        role,
        server: need(server, "--server")?,
        uid: need(uid, "--uid")?,
        peer,
        auth_key: need(auth_key, "--auth-key")?,
        count: count.ok_or_else(|| format!("--count is required\n{USAGE}"))?,
        window,
        rate,
        out,
        deadline,
        linger,
        heartbeat_grace,
        first_retry_max,
        backoff_base,
        backoff_cap,
        connect_timeout,
        queue_capacity,
        prefix,
    };
    if args.role == Role::Sender && args.peer.is_none() {
        return Err(format!("a sender needs --peer\n{USAGE}"));
    }
    Ok(args)
}

/// Where the JSON lines go; shared by the main thread and the client's callback thread.
#[derive(Clone)]
struct Out(Arc<Mutex<Box<dyn Write + Send>>>);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Out {
    fn open(path: Option<&str>) -> std::io::Result<Out> {
        let w: Box<dyn Write + Send> = match path {
            Some(p) => Box::new(LineWriter::new(File::create(p)?)),
            None => Box::new(LineWriter::new(std::io::stdout())),
        };
        Ok(Out(Arc::new(Mutex::new(w))))
    }

    fn line(&self, ev: &str, mut fields: Value) {
        if let Value::Object(map) = &mut fields {
            map.insert("t".into(), json!(now_ms()));
            map.insert("ev".into(), json!(ev));
        }
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A closed pipe only loses the record; the harness notices the missing lines.
        let _ = writeln!(w, "{fields}");
        let _ = w.flush();
    }
}

/// What the main thread waits on.
#[derive(Default)]
struct Progress {
    state: Option<ConnectionState>,
    /// Receiver: distinct message indexes seen.
    seen: HashSet<u64>,
    last_new: Option<Instant>,
    /// Sender: sends whose completion has not run yet, and those that completed.
    outstanding: usize,
    completed: u64,
    failed: u64,
    login: Option<Result<(), String>>,
}

type Shared = Arc<(Mutex<Progress>, Condvar)>;

fn with<R>(shared: &Shared, f: impl FnOnce(&mut Progress) -> R) -> R {
    let (m, c) = &**shared;
    let mut p = m.lock().unwrap_or_else(|e| e.into_inner());
    let r = f(&mut p);
    c.notify_all();
    r
}

/// Waits until `done` holds or `until` passes; returns whether it holds.
fn wait_until(shared: &Shared, until: Instant, done: impl Fn(&Progress) -> bool) -> bool {
    let (m, c) = &**shared;
    let mut p = m.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if done(&p) {
            return true;
        }
        let now = Instant::now();
        if now >= until {
            return false;
        }
        // Short waits so time-based conditions (linger) are seen without a notify.
        let step = (until - now).min(Duration::from_millis(50));
        p = c.wait_timeout(p, step).unwrap_or_else(|e| e.into_inner()).0;
    }
}

fn settings(args: &Args) -> Settings {
    let mut s = Settings::new(&args.server);
    let t = &mut s.timings;
    if let Some(d) = args.heartbeat_grace {
        t.heartbeat_grace = d;
    }
    if let Some(d) = args.first_retry_max {
        t.first_retry_max = d;
    }
    if let Some(d) = args.backoff_base {
        t.backoff_base = d;
    }
    if let Some(d) = args.backoff_cap {
        t.backoff_cap = d;
    }
    if let Some(d) = args.connect_timeout {
        t.connect_timeout = d;
    }
    s.queue_capacity = args.queue_capacity;
    s
}

fn attach(client: &Client, out: &Out, shared: &Shared, args: &Args) -> chinwag::Result<()> {
    let prefix = format!("{}:", args.prefix);
    let (o, sh) = (out.clone(), shared.clone());
    client.add_listener(
        ListenerKind::Connection,
        "fault",
        Box::new(move |e: &Event| match e {
            Event::State(s) => {
                o.line(
                    "state",
                    json!({
                        "prev": s.previous.name(),
                        "cur": s.current.name(),
                        "reason": s.reason.name(),
                        "retry_in_ms": s.retry_in_ms,
                        "msg": s.message,
                    }),
                );
                with(&sh, |p| p.state = Some(s.current));
            }
            Event::ConnectionError(err) => o.line(
                "conn_error",
                json!({"code": err.code.name(), "msg": err.message}),
            ),
            other => o.line("conn_other", json!({"debug": format!("{other:?}")})),
        }),
    )?;
    let o = out.clone();
    client.add_listener(
        ListenerKind::Login,
        "fault",
        Box::new(move |e: &Event| match e {
            Event::SessionExpired(err) => o.line(
                "session_expired",
                json!({"code": err.code.name(), "msg": err.message}),
            ),
            Event::LoginSuccess(u) => o.line("login_success", json!({"uid": u.uid})),
            Event::LoginFailure(err) => o.line(
                "login_failure",
                json!({"code": err.code.name(), "msg": err.message}),
            ),
            other => o.line("login_other", json!({"debug": format!("{other:?}")})),
        }),
    )?;
    let (o, sh) = (out.clone(), shared.clone());
    client.add_listener(
        ListenerKind::Message,
        "fault",
        Box::new(move |e: &Event| match e {
            Event::Message(m) => {
                let text = m.text.clone().unwrap_or_default();
                let index = text
                    .strip_prefix(&prefix)
                    .and_then(|n| n.parse::<u64>().ok());
                o.line(
                    "msg",
                    json!({"i": index, "text": text, "id": m.id, "muid": m.muid, "sender": m.sender}),
                );
                if let Some(i) = index {
                    with(&sh, |p| {
                        if p.seen.insert(i) {
                            p.last_new = Some(Instant::now());
                        }
                    });
                }
            }
            Event::Gap(g) => o.line("gap", json!({"from_seq": g.from_seq, "to_seq": g.to_seq})),
            // Typing, receipts and the like are not part of this test.
            _ => {}
        }),
    )?;
    let o = out.clone();
    client.add_listener(
        ListenerKind::Log,
        "fault",
        Box::new(move |e: &Event| {
            if let Event::Log {
                level,
                target,
                message,
            } = e
            {
                if *level <= LogLevel::Info {
                    o.line(
                        "log",
                        json!({"level": format!("{level:?}"), "target": target, "msg": message}),
                    );
                }
            }
        }),
    )?;
    Ok(())
}

fn run(args: Args) -> Result<bool, String> {
    let out = Out::open(args.out.as_deref()).map_err(|e| format!("cannot open the output: {e}"))?;
    let started = Instant::now();
    let deadline = started + args.deadline;
    out.line(
        "start",
        json!({"role": format!("{:?}", args.role), "uid": args.uid, "count": args.count, "pid": std::process::id()}),
    );
    let shared: Shared = Arc::default();
    let client = Client::init("chinwag-app", settings(&args), InitOptions::default())
        .map_err(|e| format!("init failed: {e}"))?;
    attach(&client, &out, &shared, &args).map_err(|e| format!("add_listener failed: {e}"))?;

    let sh = shared.clone();
    client
        .login(
            &args.uid,
            &args.auth_key,
            Some(Box::new(move |r: chinwag::Result<_>| {
                with(&sh, |p| {
                    p.login = Some(r.map(|_| ()).map_err(|e| e.to_string()))
                });
            })),
        )
        .map_err(|e| format!("login refused: {e}"))?;
    if !wait_until(&shared, deadline, |p| p.login.is_some()) {
        return Err("no login result before the deadline".into());
    }
    if let Some(Err(e)) = with(&shared, |p| p.login.clone()) {
        return Err(format!("login failed: {e}"));
    }

    let finished = match args.role {
        Role::Receiver => receive(&args, &shared, deadline),
        Role::Sender => send(&args, &client, &out, &shared, deadline),
    };
    let (seen, completed, failed, state) = with(&shared, |p| {
        (
            p.seen.len(),
            p.completed,
            p.failed,
            p.state.map(|s| s.name()),
        )
    });
    out.line(
        "end",
        json!({
            "finished": finished,
            "distinct": seen,
            "completed": completed,
            "failed": failed,
            "state": state,
            "elapsed_ms": started.elapsed().as_millis() as u64,
        }),
    );
    // Dropping the client stops it (connection task, dispatcher) before the process exits.
    drop(client);
    Ok(finished)
}

/// Waits for every message, then `--linger-ms` of quiet to catch late duplicates.
fn receive(args: &Args, shared: &Shared, deadline: Instant) -> bool {
    let count = args.count as usize;
    let linger = args.linger;
    wait_until(shared, deadline, |p| {
        p.seen.len() >= count && p.last_new.is_none_or(|t| t.elapsed() >= linger)
    })
}

fn send(args: &Args, client: &Client, out: &Out, shared: &Shared, deadline: Instant) -> bool {
    let peer = args.peer.clone().unwrap_or_default();
    let began = Instant::now();
    for i in 0..args.count {
        if args.rate > 0.0 {
            let due = began + Duration::from_secs_f64(i as f64 / args.rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let window = args.window;
        if !wait_until(shared, deadline, |p| p.outstanding < window) {
            out.line("stalled", json!({"next": i}));
            return false;
        }
        let outstanding = with(shared, |p| {
            p.outstanding += 1;
            p.outstanding
        });
        // How many sends are unfinished (written and waiting for their ack, or queued): the
        // harness reads it to check that a fault hit a pipelined socket.
        if i % 100 == 0 {
            out.line("issued", json!({"i": i, "outstanding": outstanding}));
        }
        let (o, sh) = (out.clone(), shared.clone());
        let done = Box::new(
            move |r: chinwag::Result<chinwag::protocol::model::Message>| {
                match &r {
                    Ok(m) => o.line("sent", json!({"i": i, "id": m.id, "muid": m.muid})),
                    Err(e) => o.line(
                        "send_failed",
                        json!({"i": i, "code": e.code.name(), "msg": e.message}),
                    ),
                }
                with(&sh, |p| {
                    p.outstanding -= 1;
                    p.completed += 1;
                    if let Err(_e) = &r {
                        p.failed += 1;
                    }
                });
            },
        );
        let text = format!("{}:{i}", args.prefix);
        match client.send_text(ReceiverType::User, &peer, &text, Some(done)) {
            Ok(muid) => {
                if i % 1000 == 0 {
                    out.line("queued", json!({"i": i, "muid": muid}));
                }
            }
            Err(e) => {
                // The completion does not run for a send refused up front.
                out.line(
                    "send_refused",
                    json!({"i": i, "code": e.code.name(), "msg": e.message}),
                );
                with(shared, |p| {
                    p.outstanding -= 1;
                    p.completed += 1;
                    p.failed += 1;
                });
            }
        }
    }
    wait_until(shared, deadline, |p| p.outstanding == 0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fault_client: {e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("fault_client: {e}");
            ExitCode::FAILURE
        }
    }
}
