#![no_main]
//! See `fuzz/logic/sdk_frames.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chinwag_fuzz::logic::sdk_frames::check(data));
