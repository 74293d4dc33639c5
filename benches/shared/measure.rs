//! Measuring helpers shared by `benches/sdk.rs` and `server/benches/throughput.rs` (included
//! with `#[path]`): the disk's fsync, which both print next to their `power` figures, and
//! percentiles.

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
