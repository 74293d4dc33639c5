//! Measuring helpers shared by `benches/sdk.rs` and the server's benches (included
//! with `#[path]`): the disk's fsync, which both print next to their `power` figures, and
//! percentiles, and the shared results file.

use std::time::{Duration, Instant};

/// `n` times, append 4 KiB to a file in `dir` and `fdatasync` it (as a WAL commit appends and
/// syncs), on the filesystem that holds the bench's database. Sorted latencies.
pub fn fsync_probe(dir: &std::path::Path, n: usize) -> Vec<Duration> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("fsync probe file");
    let block = [0x5au8; 4096];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f.write_all(&block).expect("fsync probe write");
        f.sync_data().expect("fdatasync");
        out.push(start.elapsed());
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    out.sort();
    out
}

/// The `p` quantile (0..=1) of sorted latencies; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Adds `value` under `key` to `target/bench/results.json` (next to this bench binary's target
/// directory), keeping what the other benches of `make bench` wrote there, and says where.
#[allow(dead_code)] // each bench includes this file; not every one merges its results
pub fn add_to_results(key: &str, value: serde_json::Value) {
    let path = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent()?.parent().map(|t| t.join("bench")))
        .unwrap_or_else(|| "target/bench".into());
    let _ = std::fs::create_dir_all(&path);
    let file = path.join("results.json");
    let mut all = std::fs::read_to_string(&file)
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    all.insert(key.into(), value);
    match std::fs::write(
        &file,
        serde_json::to_string_pretty(&serde_json::Value::Object(all)).unwrap_or_default(),
    ) {
        Ok(()) => println!("JSON: {} (key \"{key}\")", file.display()),
        Err(e) => println!("cannot write {}: {e}", file.display()),
    }
}

/// The WebSocket settings of the benches' own sockets (the floor's relay and clients, the bare
/// protocol clients), the read and write buffers the SDK and the server use. tungstenite's
/// default read buffer (128 KiB) is zero-filled before every read, which costs a small-frame
/// socket more than the frame itself: a floor left with it would be slower than it has to be.
#[allow(dead_code)] // not every bench opens sockets itself
pub fn ws_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    config.read_buffer_size = 8 * 1024;
    config.write_buffer_size = 8 * 1024;
    config
}
