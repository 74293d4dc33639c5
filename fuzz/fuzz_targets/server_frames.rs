#![no_main]
//! See `fuzz/logic/server_frames.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chinwag_fuzz::logic::server_frames::check(data));
