//! The panic boundary (the C ABI rules, src/ffi/mod.rs). Every exported function's whole body is one
//! `boundary!` invocation; `src/ffi/tests.rs` checks that none lacks it.

/// Runs an exported function's body with panics caught, so no panic unwinds into C.
///
/// - `boundary!(result: { ... })`: the body is a `crate::error::Result<()>` (use `?` freely).
///   `Ok` gives `CHINWAG_RESULT_OK`; an error is recorded as the thread's last error and its
///   code returned; a panic is recorded and gives `CHINWAG_RESULT_PANIC`.
/// - `boundary!(value(FALLBACK): { ... })`: the body gives the return value directly; a panic
///   is recorded and gives `FALLBACK` (NULL, 0, false or `()`).
macro_rules! boundary {
    (result: $body:block) => {{
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> $crate::error::Result<()> { $body },
        ));
        $crate::ffi::errors::finish(outcome)
    }};
    (value($fallback:expr): $body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(payload) => {
                $crate::ffi::errors::record_panic(payload);
                $fallback
            }
        }
    }};
}
