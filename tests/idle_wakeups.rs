//! An idle connected client wakes for the server's pings and nothing else (issue 11): no
//! periodic tick, no position save while nothing arrives. Counted from the scheduler's own
//! statistics of the SDK's threads (`/proc/self/task/*/schedstat`: times each was put on a
//! CPU), so the figure does not depend on the machine's speed. Alone in its test binary: the
//! runtime is shared by every client of the process.

mod common;

use std::time::Duration;

use common::*;

/// Times the SDK's threads (runtime workers and blocking pool `chinwag-rt`, dispatchers
/// `chinwag-<app>`) were scheduled in so far.
fn sdk_wakeups() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.starts_with("chinwag-"))
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(2)?.parse::<u64>().ok())
        .sum()
}

#[test]
fn an_idle_client_wakes_only_for_the_servers_pings() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("no /proc: nothing to count");
        return;
    }
    let ping = Duration::from_millis(500);
    let mut config = Server::config();
    config.ping_interval = ping;
    let server = Server::with(config);
    server.create_user("idle");
    let mut settings = server.settings();
    // Past the stable mark before counting (its timer fires once, 10 s in by default).
    settings.timings.stable_after = Duration::from_millis(50);
    let (client, rec) = new_client(&server, settings);
    login_connected(&client, &rec, "idle");
    // Settle: the first ping, the stable mark, the login's save on the blocking pool.
    let (_tx, rx) = std::sync::mpsc::channel::<()>();
    let _ = rx.recv_timeout(ping * 2);

    let window = ping * 8;
    let before = sdk_wakeups();
    let _ = rx.recv_timeout(window);
    let woke = sdk_wakeups() - before;
    let pings = (window.as_millis() / ping.as_millis()) as u64;
    // Each ping: the worker reads it and writes the pong (one wake, sometimes two or three
    // when the other worker is woken to steal, or a preemption on a loaded machine). A 100 ms
    // tick alone would be 40 wakes here (88 counted with it, 12-19 without).
    assert!(
        woke <= 4 * pings + 4,
        "{woke} wake-ups of the SDK's threads in {window:?} with {pings} pings"
    );
    assert_eq!(
        client.connection_state(),
        chinwag::ConnectionState::Connected
    );
    eprintln!("{woke} wake-ups in {window:?} for {pings} pings");
}
