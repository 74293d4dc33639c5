//! Tests of the FFI layer itself: the boundary lint of the C ABI rules (src/ffi/mod.rs), the code table, the
//! header's hygiene, and argument validation called from Rust. The C programs in `tests/c`
//! test the same ABI from C against a live server.

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};

use super::client::*;
use super::errors::*;
use super::handles::chinwag_client;
use super::listeners::*;
use crate::error::ErrorCode;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The C ABI rules: every `extern "C" fn` with a body in `src/ffi` is `#[no_mangle]`, named
/// `chinwag_*`, and its body is exactly one `boundary!(...)`.
#[test]
fn every_exported_function_runs_inside_the_boundary() {
    let mut files = Vec::new();
    sources(&root().join("src/ffi"), &mut files);
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let mut search = 0;
        while let Some(found) = text[search..].find("extern \"C\" fn ") {
            let at = search + found;
            search = at + 1;
            // Function pointer types (`Option<unsafe extern "C" fn(...)>`) have no name.
            let rest = &text[at + "extern \"C\" fn ".len()..];
            let fn_name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if fn_name.is_empty() {
                continue;
            }
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[..line_start];
            let attribute = before.trim_end().lines().last().unwrap_or("").trim();
            if attribute != "#[no_mangle]" {
                problems.push(format!(
                    "{name}: {fn_name} is not directly after #[no_mangle]"
                ));
            }
            if !fn_name.starts_with("chinwag_") {
                problems.push(format!("{name}: {fn_name} lacks the chinwag_ prefix"));
            }
            // The body: from the first `{` after the parameter list to its matching `}`.
            let open = at + text[at..].find('{').unwrap();
            let mut depth = 0;
            let mut close = open;
            for (i, c) in text[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let body = text[open + 1..close].trim();
            let wrapped = body.starts_with("boundary!(")
                && body.ends_with(')')
                && body.matches("boundary!(").count() == 1;
            if !wrapped {
                problems.push(format!(
                    "{name}: the body of {fn_name} is not one boundary!(...) invocation"
                ));
            }
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 40, "found only {checked} exported functions");
}

/// `#[no_mangle]` and `unsafe` live in `src/ffi` only; elsewhere `unsafe_code` is denied, and
/// this keeps that true for text a lint cannot see (e.g. a module that allows it).
#[test]
fn unsafe_and_exports_only_in_the_ffi_layer() {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    for file in files {
        if file.starts_with(root().join("src/ffi")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("no_mangle") && !code.contains("unsafe "),
                "{}:{}: unsafe code or an export outside src/ffi",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn result_constants_match_the_core_codes() {
    // The constants are generated from the core's table; spot-check a few by hand.
    assert_eq!(CHINWAG_RESULT_OK, ErrorCode::Ok as chinwag_result);
    assert_eq!(CHINWAG_RESULT_NOT_LOGGED_IN, 200);
    assert_eq!(CHINWAG_RESULT_PANIC, 902);
    for code in ErrorCode::ALL {
        let (value, name) = (*code as chinwag_result, code.name());
        let code = ErrorCode::from_u32(value).unwrap_or_else(|| panic!("{name} is no core code"));
        assert_eq!(code.name(), name);
        // SAFETY: chinwag_result_name returns a static NUL-terminated string.
        let c = unsafe { CStr::from_ptr(chinwag_result_name(value)) };
        assert_eq!(c.to_str().unwrap(), name);
    }
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(chinwag_result_name(12345)) };
    assert_eq!(unknown.to_str().unwrap(), "UNKNOWN");
}

/// Nothing the header declares escapes the `chinwag_` / `CHINWAG_` namespace.
#[test]
fn header_names_are_prefixed() {
    let header = std::fs::read_to_string(root().join("include/chinwag.h")).unwrap();
    let word = |s: &str| -> String {
        s.trim()
            .trim_start_matches('*')
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for line in header.lines() {
        if line.starts_with("//") || line.trim().is_empty() || line.starts_with(' ') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#define ") {
            names.push(word(rest));
        } else if let Some(rest) = line.strip_prefix("typedef ") {
            if let Some(i) = rest.find("(*") {
                names.push(word(&rest[i + 2..]));
            } else {
                let decl = rest.trim_end_matches(['{', ';', ' ']);
                names.push(word(decl.rsplit(' ').next().unwrap_or("")));
            }
        } else if let Some(rest) = line.strip_prefix("} ") {
            if !rest.trim_start().starts_with("//") {
                names.push(word(rest));
            }
        } else if line.starts_with(|c: char| c.is_ascii_alphabetic()) && line.contains('(') {
            if line.starts_with("extern") {
                continue;
            }
            let before = &line[..line.find('(').unwrap()];
            names.push(word(before.rsplit([' ', '*']).next().unwrap_or("")));
        }
    }
    assert!(names.len() > 100, "parsed only {} names", names.len());
    let bad: Vec<_> = names
        .iter()
        .filter(|n| !n.starts_with("chinwag_") && !n.starts_with("CHINWAG_"))
        .collect();
    assert!(bad.is_empty(), "unprefixed names in the header: {bad:?}");
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut written = 0usize;
    // SAFETY: a valid buffer of 512 bytes and a valid `written`.
    let r = unsafe { chinwag_last_error_message(buf.as_mut_ptr(), buf.len(), &mut written) };
    assert_eq!(r, CHINWAG_RESULT_OK);
    // SAFETY: the function wrote a NUL-terminated string into `buf`.
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(s.len(), written);
    s
}

fn settings(url: &CStr) -> chinwag_settings {
    // SAFETY: all-zero is a valid chinwag_settings (see `Versioned`).
    let mut s: chinwag_settings = unsafe { std::mem::zeroed() };
    s.struct_size = std::mem::size_of::<chinwag_settings>();
    s.server_url = url.as_ptr();
    s
}

#[test]
fn arguments_are_validated_with_specific_codes_and_messages() {
    let mut client: *mut chinwag_client = std::ptr::null_mut();
    let url = c"http://127.0.0.1:9";
    let s = settings(url);
    // SAFETY: (this whole test) every pointer passed is NULL, a live local, or a C string
    // literal, as the API contract requires.
    unsafe {
        assert_eq!(
            chinwag_client_init(std::ptr::null(), &s, &mut client),
            CHINWAG_RESULT_NULL_ARGUMENT
        );
        assert!(last_error().contains("app_id"), "{}", last_error());
        let bad = [0xffu8, 0];
        assert_eq!(
            chinwag_client_init(bad.as_ptr().cast(), &s, &mut client),
            CHINWAG_RESULT_INVALID_UTF8
        );
        assert_eq!(
            chinwag_client_init(c"".as_ptr(), &s, &mut client),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        let mut small = s;
        small.struct_size = 8;
        assert_eq!(
            chinwag_client_init(c"app".as_ptr(), &small, &mut client),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert!(last_error().contains("struct_size"));
        let mut wrong = s;
        wrong.server_url = c"ftp://x".as_ptr();
        assert_eq!(
            chinwag_client_init(c"app".as_ptr(), &wrong, &mut client),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        let mut mode = s;
        mode.connect_mode = 7;
        assert_eq!(
            chinwag_client_init(c"app".as_ptr(), &mode, &mut client),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert!(
            client.is_null(),
            "out-parameters are written only on success"
        );

        assert_eq!(
            chinwag_client_init(c"app".as_ptr(), &s, &mut client),
            CHINWAG_RESULT_OK
        );
        assert!(!client.is_null());
        let mut state = 99;
        assert_eq!(
            chinwag_client_connection_status(client, &mut state),
            CHINWAG_RESULT_OK
        );
        assert_eq!(state, 0);
        assert_eq!(chinwag_client_connect(client), CHINWAG_RESULT_NOT_LOGGED_IN);
        assert!(last_error().contains("login"));
        let mut json: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            chinwag_client_logged_in_user(client, &mut json),
            CHINWAG_RESULT_NOT_LOGGED_IN
        );
        assert!(json.is_null());
        let long = std::ffi::CString::new("x".repeat(64 * 1024 + 1)).unwrap();
        assert_eq!(
            chinwag_client_send_text(
                client,
                0,
                c"bob".as_ptr(),
                long.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            CHINWAG_RESULT_TEXT_TOO_LONG
        );
        assert_eq!(
            chinwag_client_send_text(
                client,
                0,
                c"bob".as_ptr(),
                c"hi".as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            CHINWAG_RESULT_NOT_LOGGED_IN
        );
        assert_eq!(
            chinwag_client_send_text(
                client,
                9,
                c"bob".as_ptr(),
                c"hi".as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert_eq!(
            chinwag_client_start_typing(client, 0, c"bob".as_ptr()),
            CHINWAG_RESULT_NOT_CONNECTED
        );
        assert_eq!(
            chinwag_client_mark_read(client, 0),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert_eq!(
            chinwag_client_send_transient(client, 0, c"bob".as_ptr(), c"{nope".as_ptr()),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert_eq!(
            chinwag_client_network_changed(client, 2),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );

        let table = chinwag_connection_listener {
            struct_size: std::mem::size_of::<chinwag_connection_listener>(),
            on_state_changed: None,
            on_connecting: None,
            on_connected: None,
            on_disconnected: None,
            on_connection_error: None,
            on_feature_throttled: None,
            on_feature_unthrottled: None,
        };
        assert_eq!(
            chinwag_client_add_connection_listener(
                client,
                c"".as_ptr(),
                &table,
                std::ptr::null_mut(),
                None
            ),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
        assert_eq!(
            chinwag_client_add_connection_listener(
                client,
                c"a".as_ptr(),
                &table,
                std::ptr::null_mut(),
                None
            ),
            CHINWAG_RESULT_OK
        );
        assert_eq!(
            chinwag_client_remove_connection_listener(client, c"a".as_ptr()),
            CHINWAG_RESULT_OK
        );
        assert_eq!(
            chinwag_client_remove_connection_listener(client, c"a".as_ptr()),
            CHINWAG_RESULT_NOT_FOUND
        );

        chinwag_client_free(client);
        assert_eq!(chinwag_client_connect(client), CHINWAG_RESULT_CLIENT_FREED);
        chinwag_client_free(client);
        assert!(last_error().contains("not live"));
        chinwag_client_free(std::ptr::null_mut());
        chinwag_string_free(std::ptr::null_mut());
        assert_eq!(
            chinwag_client_connect(std::ptr::null()),
            CHINWAG_RESULT_NULL_ARGUMENT
        );
    }
}

#[test]
fn last_error_message_truncates_at_a_character_boundary() {
    crate::ffi::errors::record(&crate::Error::new(ErrorCode::Internal, "héllo wörld"));
    let mut buf = [0 as c_char; 3];
    let mut written = 7usize;
    // SAFETY: a valid 3-byte buffer and a valid `written`.
    unsafe {
        assert_eq!(
            chinwag_last_error_message(buf.as_mut_ptr(), 3, &mut written),
            CHINWAG_RESULT_OK
        );
        assert_eq!(written, 1, "\"h\" fits, the two-byte \"é\" does not");
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "h");
        assert_eq!(
            chinwag_last_error_message(std::ptr::null_mut(), 3, &mut written),
            CHINWAG_RESULT_NULL_ARGUMENT
        );
        assert_eq!(
            chinwag_last_error_message(buf.as_mut_ptr(), 0, &mut written),
            CHINWAG_RESULT_INVALID_ARGUMENT
        );
    }
}

#[test]
fn panics_become_the_panic_code() {
    fn exploding() -> chinwag_result {
        boundary!(result: {
            if ErrorCode::ALL.is_empty() {
                return Ok(());
            }
            panic!("boom")
        })
    }
    assert_eq!(exploding(), CHINWAG_RESULT_PANIC);
    assert!(last_error().contains("boom"));
}

/// Copies are deep, owned, typed: a copy outlives its source; freeing a borrowed payload, a
/// copy of another type or a copy twice is refused without freeing anything.
#[test]
fn payload_copies_are_owned_and_frees_are_checked() {
    use super::copies::*;
    use super::types::{chinwag_message, chinwag_user};
    use chinwag_protocol::model::{Category, Message, ReceiverType};

    let message = Message {
        id: 42,
        muid: "m-1".into(),
        sender: "alice".into(),
        receiver_type: ReceiverType::User,
        receiver: "bob".into(),
        conversation_id: "alice_user_bob".into(),
        category: Category::Message,
        kind: "text".into(),
        text: Some("héllo".into()),
        data: None,
        attachments: Vec::new(),
        metadata: serde_json::json!({}),
        parent_id: None,
        quoted_id: None,
        sent_at: 1000,
        edited_at: None,
        deleted_at: None,
        deleted_by: None,
        mentioned_users: vec!["bob".into(), "carl".into()],
        mentions_me: true,
        reply_count: 3,
        last_reply_at: Some(2000),
    };
    let borrowed = super::types::message(&message);
    let mut copy: *mut chinwag_message = std::ptr::null_mut();
    // SAFETY: a payload of this library and a valid out-pointer.
    let code = unsafe { chinwag_message_copy(borrowed.as_ptr(), &mut copy) };
    assert_eq!(code, CHINWAG_RESULT_OK);
    drop(borrowed);
    // SAFETY: `copy` is a live copy.
    let (id, text) = unsafe { ((*copy).id, CStr::from_ptr((*copy).text).to_str().unwrap()) };
    assert_eq!((id, text), (42, "héllo"));
    // The mentions survive the copy: the array, its strings and the flag.
    // SAFETY: `copy` is live; its array holds `mentioned_users_len` NUL-terminated strings.
    let mentioned: Vec<String> = unsafe {
        (0..(*copy).mentioned_users_len)
            .map(|i| {
                let p = *(*copy).mentioned_users.add(i);
                CStr::from_ptr(p).to_string_lossy().into_owned()
            })
            .collect()
    };
    assert_eq!(mentioned, ["bob", "carl"]);
    // SAFETY: as above.
    assert!(unsafe { (*copy).mentions_me });
    assert_eq!(
        // SAFETY: as above.
        unsafe { ((*copy).reply_count, (*copy).last_reply_at) },
        (3, 2000)
    );

    // Another type's free refuses it and leaves it intact.
    // SAFETY: only registered copies are dereferenced.
    unsafe { chinwag_user_free(copy.cast::<chinwag_user>()) };
    assert!(last_error().contains("not a live copy"), "{}", last_error());
    // SAFETY: `copy` is still live.
    assert_eq!(unsafe { (*copy).id }, 42);
    // SAFETY: a live copy, freed once; the second free is refused.
    unsafe { chinwag_message_free(copy) };
    // SAFETY: as above.
    unsafe { chinwag_message_free(copy) };
    assert!(last_error().contains("freed twice"), "{}", last_error());
    // SAFETY: NULL is a no-op.
    unsafe { chinwag_message_free(std::ptr::null_mut()) };

    // NULL and foreign structs are refused with specific codes.
    let mut out: *mut chinwag_message = std::ptr::null_mut();
    // SAFETY: NULL source.
    let code = unsafe { chinwag_message_copy(std::ptr::null(), &mut out) };
    assert_eq!(code, CHINWAG_RESULT_NULL_ARGUMENT);
    let foreign = chinwag_message {
        id: 1,
        muid: std::ptr::null(),
        sender: std::ptr::null(),
        receiver_type: 0,
        receiver: std::ptr::null(),
        conversation_id: std::ptr::null(),
        category: std::ptr::null(),
        message_type: std::ptr::null(),
        text: std::ptr::null(),
        data_json: std::ptr::null(),
        parent_id: 0,
        sent_at: 0,
        edited_at: 0,
        deleted_at: 0,
        json: c"{\"not\":\"a message\"}".as_ptr(),
        mentioned_users: std::ptr::null(),
        mentioned_users_len: 0,
        mentions_me: false,
        reply_count: 0,
        last_reply_at: 0,
    };
    // SAFETY: a readable struct with a NUL-terminated `json`.
    let code = unsafe { chinwag_message_copy(&foreign, &mut out) };
    assert_eq!(code, CHINWAG_RESULT_INVALID_ARGUMENT);
    assert!(out.is_null(), "out-parameters are written only on success");
}

/// Request handles: options validated with specific messages; freed handles refused.
#[test]
fn request_handles_validate_options_and_refuse_freed_handles() {
    use super::requests::*;
    use super::types::CHINWAG_RECEIVER_TYPE_GROUP;

    let mut request: *mut chinwag_messages_request = std::ptr::null_mut();
    let mut options = chinwag_messages_request_options {
        struct_size: std::mem::size_of::<chinwag_messages_request_options>(),
        limit: 101,
        category: std::ptr::null(),
        message_type: std::ptr::null(),
        from_message_id: 0,
    };
    // SAFETY: valid arguments (the values are what is checked).
    let code = unsafe {
        chinwag_messages_request_new(
            CHINWAG_RECEIVER_TYPE_GROUP,
            c"g1".as_ptr(),
            &options,
            &mut request,
        )
    };
    assert_eq!(code, CHINWAG_RESULT_INVALID_ARGUMENT);
    assert!(last_error().contains("limit 101"), "{}", last_error());
    options.limit = 10;
    options.category = c"bogus".as_ptr();
    // SAFETY: as above.
    let code = unsafe {
        chinwag_messages_request_new(
            CHINWAG_RECEIVER_TYPE_GROUP,
            c"g1".as_ptr(),
            &options,
            &mut request,
        )
    };
    assert_eq!(code, CHINWAG_RESULT_INVALID_ARGUMENT);
    assert!(last_error().contains("category"), "{}", last_error());
    options.category = c"custom".as_ptr();
    // SAFETY: as above.
    let code = unsafe { chinwag_messages_request_new(7, c"g1".as_ptr(), &options, &mut request) };
    assert_eq!(code, CHINWAG_RESULT_INVALID_ARGUMENT);
    // SAFETY: as above.
    let code = unsafe {
        chinwag_messages_request_new(
            CHINWAG_RECEIVER_TYPE_GROUP,
            c"g1".as_ptr(),
            &options,
            &mut request,
        )
    };
    assert_eq!(code, CHINWAG_RESULT_OK);
    assert!(!request.is_null());
    // SAFETY: a live handle, freed once; then a second free is refused.
    unsafe { chinwag_messages_request_free(request) };
    // SAFETY: as above.
    unsafe { chinwag_messages_request_free(request) };
    assert!(
        last_error().contains("not a live request"),
        "{}",
        last_error()
    );

    let mut users: *mut chinwag_users_request = std::ptr::null_mut();
    let options = chinwag_users_request_options {
        struct_size: std::mem::size_of::<chinwag_users_request_options>(),
        limit: 0,
        search: std::ptr::null(),
        status: c"away".as_ptr(),
        role: std::ptr::null(),
    };
    // SAFETY: valid arguments.
    let code = unsafe { chinwag_users_request_new(&options, &mut users) };
    assert_eq!(code, CHINWAG_RESULT_INVALID_ARGUMENT);
    assert!(last_error().contains("online"), "{}", last_error());
    assert!(users.is_null());
}
