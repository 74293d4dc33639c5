//! Target `rest`: one REST request with any credential, endpoint, path parameters, query
//! string and body. Checks: never a 5xx, and the answer is JSON: an error (`code`, `message`)
//! for a 4xx. A panic anywhere in the server aborts the fuzzer.
//!
//! Input: byte 0 picks the credential, byte 1 the endpoint (of `chinwag_server::routes()`);
//! the rest, split at the first three newlines: the first and second path parameter, the query
//! string, the body.

use std::sync::OnceLock;

use serde_json::Value;

use super::lab::{Cred, Lab};

static LAB: OnceLock<Lab> = OnceLock::new();

pub fn check(data: &[u8]) {
    let lab = Lab::get(&LAB);
    let (Some(&cred), Some(&endpoint)) = (data.first(), data.get(1)) else {
        return;
    };
    let routes: Vec<_> = chinwag_server::routes()
        .into_iter()
        .filter(|(_, path)| *path != chinwag_protocol::WS_PATH)
        .collect();
    let (method, template) = &routes[endpoint as usize % routes.len()];
    let mut parts = data[2..].splitn(4, |b| *b == b'\n');
    let mut params = [parts.next().unwrap_or(b""), parts.next().unwrap_or(b"")].into_iter();
    let query = parts.next().unwrap_or(b"");
    let body = parts.next().unwrap_or(b"");

    let mut target = Vec::new();
    for segment in template.split('/').skip(1) {
        target.push(b'/');
        if segment.starts_with('{') {
            escape(params.next().unwrap_or(b""), b"", &mut target);
        } else {
            target.extend_from_slice(segment.as_bytes());
        }
    }
    if !query.is_empty() {
        target.push(b'?');
        // `&`, `=`, `%` and `+` stay as they are, so the fuzzer can write broken escapes.
        escape(query, b"&=%+", &mut target);
    }
    let cred = match cred % 5 {
        0 => Cred::None,
        1 => Cred::Api,
        2 => Cred::Token(fresh_token(lab, "alice")),
        3 => Cred::Token(fresh_token(lab, "bob")),
        _ => Cred::Token("not-a-token".into()),
    };
    let raw = lab.raw(method.as_str(), &target, &cred, body);
    let shown = String::from_utf8_lossy(&target);
    let (status, answer) = super::lab::parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {shown}: unreadable response {:?}",
            String::from_utf8_lossy(&raw)
        )
    });
    let answer_text = String::from_utf8_lossy(&answer);
    assert!(
        status < 500,
        "{method} {shown} ({cred:?}): {status} {answer_text}"
    );
    if answer.is_empty() {
        return;
    }
    let json: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| {
        panic!("{method} {shown}: {status} with a body that is not JSON ({e}): {answer_text}")
    });
    if status >= 400 {
        let (code, message) = (json.get("code"), json.get("message"));
        assert!(
            code.is_some_and(Value::is_string) && message.is_some_and(Value::is_string),
            "{method} {shown}: {status} without an error body: {answer_text}"
        );
    }
}

/// Percent-encodes what cannot stand in a request line, and every byte not in `keep` that
/// has a meaning in a path or query.
fn escape(raw: &[u8], keep: &[u8], out: &mut Vec<u8>) {
    for &b in raw {
        if keep.contains(&b) || b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

/// A token for `uid`, which is active again first: an earlier input may have deactivated the
/// user or revoked its tokens, and each input should start from the same footing.
fn fresh_token(lab: &Lab, uid: &str) -> String {
    let (s, v) = lab.call("POST", &format!("/v1/users/{uid}/activate"), Cred::Api, "");
    assert!(s < 300, "activating {uid}: {s} {v}");
    lab.mint(uid)
}
