//! The C ABI. Every exported symbol starts with `chinwag_`; the header `include/chinwag.h` is
//! generated from these items by `build.rs` (cbindgen).

use std::ffi::c_char;

/// Version of the C ABI. Bumped on every incompatible change; bindings check it at load.
pub const CHINWAG_ABI_VERSION: u32 = 1;

/// The library version, `MAJOR.MINOR.PATCH`, as a static NUL-terminated string.
///
/// Never NULL; the string lives as long as the library is loaded and must not be freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version this library implements (`CHINWAG_ABI_VERSION`). Thread-safe.
#[no_mangle]
pub extern "C" fn chinwag_abi_version() -> u32 {
    CHINWAG_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_matches_cargo() {
        // SAFETY: chinwag_version returns a pointer to a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(chinwag_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(chinwag_abi_version(), CHINWAG_ABI_VERSION);
    }
}
