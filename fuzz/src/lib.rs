//! The fuzz targets' logic (shared with `tests/fuzz_replay.rs`).

#[path = "../logic/mod.rs"]
pub mod logic;
