//! The fuzz targets' logic, as plain functions: `fuzz/fuzz_targets/*.rs` hand them libFuzzer's
//! inputs (nightly, `make fuzz`), and `tests/fuzz_replay.rs` replays every kept input through
//! them on the stable toolchain (`make test`). Each `check` panics on a finding.

pub mod c_abi;
pub mod lab;
pub mod rest;
pub mod sdk_frames;
pub mod server_frames;

/// A target's check: panics on a finding.
pub type Check = fn(&[u8]);

/// The targets by name, as `fuzz/corpus/<name>` and `fuzz/regressions/<name>` name them.
pub const TARGETS: [(&str, Check); 4] = [
    ("server_frames", server_frames::check),
    ("sdk_frames", sdk_frames::check),
    ("rest", rest::check),
    ("c_abi", c_abi::check),
];
