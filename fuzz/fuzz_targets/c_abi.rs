#![no_main]
//! See `fuzz/logic/c_abi.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chinwag_fuzz::logic::c_abi::check(data));
