#![no_main]
//! See `fuzz/logic/rest.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chinwag_fuzz::logic::rest::check(data));
