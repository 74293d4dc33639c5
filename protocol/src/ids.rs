//! Identifiers minted by clients and by the server.

use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh message id (muid), also used for call session ids: 32 hex digits that grow with time
/// (48 bits of milliseconds, a 16-bit counter, then 64 random bits). Growing with time, a
/// sender's new rows land at the end of its range in the server's `(sender, muid)` index instead
/// of on a random page of it (random ids cost about a third of the database's work per message);
/// the random part keeps ids from two processes apart.
pub fn new_muid() -> String {
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        & 0xffff_ffff_ffff;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{ms:012x}{n:04x}{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn muids_are_valid_ids_unique_and_grow_with_time() {
        let ids: Vec<String> = (0..1000).map(|_| new_muid()).collect();
        for id in &ids {
            assert_eq!(id.len(), 32);
            assert!(crate::limits::check_id("muid", id).is_ok(), "{id}");
        }
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        // The time part never goes back within one process run.
        assert!(ids.windows(2).all(|w| w[0][..12] <= w[1][..12]));
    }
}
