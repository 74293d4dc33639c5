//! Input rules that client and server both enforce, so a client can reject bad input before it
//! reaches the network and the server never trusts the client to have done so.

/// Largest message text, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Largest WebSocket frame the server reads.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Largest page of a history or list request.
pub const MAX_PAGE_LIMIT: u32 = 100;
/// Page size when a request names none.
pub const DEFAULT_PAGE_LIMIT: u32 = 30;

/// Checks a page size a request names: 1..=[`MAX_PAGE_LIMIT`].
pub fn check_page_limit(limit: u32) -> Result<u32, String> {
    if limit == 0 || limit > MAX_PAGE_LIMIT {
        return Err(format!(
            "limit {limit} is out of range: 1..={MAX_PAGE_LIMIT}"
        ));
    }
    Ok(limit)
}
/// A history page stops once its messages reach this many bytes (always at least one message),
/// whatever its `limit`: `has_more` then says the rest follows on the next page.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Longest uid, guid, muid, call session id or role.
pub const MAX_ID_BYTES: usize = 100;
/// Largest JSON value for `metadata` or custom `data`, serialized.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// Deepest nesting of any stored JSON value (`data`, `metadata`), counted in arrays/objects.
/// Well under serde_json's recursion limit (128), so an event that carries the value a few
/// levels down is always readable again.
pub const MAX_JSON_DEPTH: usize = 32;

/// Largest frame the SDK reads from the server. Every frame the server can send must fit.
pub const MAX_INBOUND_FRAME_BYTES: usize = 1024 * 1024;
/// Largest stored message, as serialized JSON (with room for the edit and delete stamps).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;
/// What an event frame, an ack or an edit/delete event adds around one message, at most:
/// the frame's own fields, a sequence number, a request id and the delete stamps.
pub const MAX_EVENT_OVERHEAD_BYTES: usize = 4 * 1024;
/// Attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest URL (attachment, avatar).
pub const MAX_URL_BYTES: usize = 2048;
/// Longest attachment file name or MIME type.
pub const MAX_ATTACHMENT_FIELD_BYTES: usize = 255;
/// Longest display name of a user or group.
pub const MAX_NAME_BYTES: usize = 200;
/// Longest group description.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Largest `metadata` of a user or group, serialized: these are served in every list page.
pub const MAX_PROFILE_JSON_BYTES: usize = 8 * 1024;

/// How deep a JSON value nests: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2.
pub fn json_depth(value: &serde_json::Value) -> usize {
    // Iterative, so a hostile value cannot overflow the stack while it is being measured.
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Array(a) => Box::new(a.iter()),
            serde_json::Value::Object(o) => Box::new(o.values()),
            _ => {
                deepest = deepest.max(depth);
                continue;
            }
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}

/// Checks the references of one attachment (the server stores references, not files).
pub fn check_attachment(a: &crate::model::Attachment) -> Result<(), String> {
    if a.url.trim().is_empty() {
        return Err("an attachment needs a url".into());
    }
    if a.url.len() > MAX_URL_BYTES {
        return Err(format!(
            "an attachment url is {} bytes; the limit is {MAX_URL_BYTES}",
            a.url.len()
        ));
    }
    for (what, v) in [("name", &a.name), ("mime_type", &a.mime_type)] {
        if let Some(v) = v {
            if v.len() > MAX_ATTACHMENT_FIELD_BYTES {
                return Err(format!(
                    "an attachment {what} is {} bytes; the limit is {MAX_ATTACHMENT_FIELD_BYTES}",
                    v.len()
                ));
            }
        }
    }
    Ok(())
}

/// Checks a display name (user or group): 1-200 bytes, not only blank or invisible characters,
/// and no control characters or bidirectional overrides/isolates that would reorder the text
/// shown around it.
pub fn check_display_name(kind: &str, name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("{kind} is longer than {MAX_NAME_BYTES} bytes"));
    }
    if let Some(bad) = name.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err(format!(
            "{kind} contains the control character U+{:04X}",
            bad as u32
        ));
    }
    if name.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(format!("{kind} must have a visible character"));
    }
    Ok(())
}

/// Bidirectional embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that render as nothing: zero-width spaces and joiners, word joiner, invisible
/// operators, soft hyphen, BOM, Hangul fillers, variation selectors, tag characters.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Checks an identifier (uid, guid, muid, call session id, role): 1-100 bytes of ASCII letters,
/// digits, `-`, `_`, `.` and `@`, starting with a letter or digit (so `.`, `..` and `_` are not
/// ids, and an id is never a path segment trick). The colon is kept free for conversation ids.
pub fn check_id(kind: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{kind} must not be empty"));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(format!("{kind} is longer than {MAX_ID_BYTES} bytes"));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{kind} {value:?} must start with an ASCII letter or digit"
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(format!(
            "{kind} {value:?} contains {bad:?}; allowed are ASCII letters, digits, '-', '_', '.', '@'"
        ));
    }
    Ok(())
}

/// Why a message text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Empty,
    /// Longer than [`MAX_TEXT_BYTES`]; carries the length in bytes.
    TooLong(usize),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::Empty => f.write_str("text must not be empty"),
            TextError::TooLong(n) => write!(f, "text is {n} bytes; the limit is {MAX_TEXT_BYTES}"),
        }
    }
}

/// Checks a message text.
pub fn check_text(text: &str) -> Result<(), TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(TextError::TooLong(text.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_id("uid", "alice.smith@x-1_2").is_ok());
        assert!(check_id("uid", "").is_err());
        assert!(check_id("uid", "a:b").is_err());
        assert!(check_id("uid", "héllo").is_err());
        assert!(check_id("uid", &"a".repeat(101)).is_err());
        for bad in [".", "..", "_", "-x", "@a", ".hidden"] {
            assert!(check_id("uid", bad).is_err(), "{bad}");
        }
        assert!(check_id("uid", "0_x").is_ok());
    }

    #[test]
    fn largest_event_fits_the_sdk_inbound_limit() {
        // A message event, an ack carrying it, or its edit/delete: one message plus overhead.
        const { assert!(MAX_MESSAGE_BYTES + MAX_EVENT_OVERHEAD_BYTES < MAX_INBOUND_FRAME_BYTES) };
        // And the overhead bound holds for a real frame around a message of the maximum size.
        let m = crate::model::Message {
            id: i64::MAX,
            muid: "m".repeat(MAX_ID_BYTES),
            sender: "s".repeat(MAX_ID_BYTES),
            receiver_type: crate::model::ReceiverType::Group,
            receiver: "r".repeat(MAX_ID_BYTES),
            conversation_id: format!("group_{}", "r".repeat(MAX_ID_BYTES)),
            category: crate::model::Category::Custom,
            kind: "k".repeat(MAX_ID_BYTES),
            text: Some("t".repeat(1000)),
            data: None,
            attachments: Vec::new(),
            metadata: serde_json::json!({}),
            parent_id: Some(i64::MAX),
            quoted_id: Some(i64::MAX),
            sent_at: i64::MAX,
            edited_at: Some(i64::MAX),
            deleted_at: Some(i64::MAX),
            deleted_by: Some("d".repeat(MAX_ID_BYTES)),
            mentioned_users: Vec::new(),
            mentions_me: true,
            reply_count: u64::MAX,
            last_reply_at: Some(i64::MAX),
        };
        let bare = serde_json::to_string(&m).unwrap().len();
        let frame = crate::ServerFrame::Ack {
            req: "q".repeat(MAX_ID_BYTES),
            result: Some(crate::EventFrame {
                seq: u64::MAX,
                event: crate::Event::MessageDeleted(m),
            }),
        };
        let framed = serde_json::to_string(&frame).unwrap().len();
        assert!(
            framed - bare < MAX_EVENT_OVERHEAD_BYTES,
            "{}",
            framed - bare
        );
    }

    #[test]
    fn depth() {
        use serde_json::json;
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!({})), 1);
        assert_eq!(json_depth(&json!({"a": [1, [2]]})), 3);
    }

    #[test]
    fn names() {
        assert!(check_display_name("name", "Zoë 🚀").is_ok());
        assert!(check_display_name("name", "שלום").is_ok());
        for bad in [
            "",
            "  ",
            "a\0b",
            "evil\u{202E}txt",
            "a\u{2067}b",
            "\u{200B}\u{200D}",
            "\u{3164}",
        ] {
            assert!(check_display_name("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text() {
        assert!(check_text("hi").is_ok());
        assert!(check_text("").is_err());
        assert!(check_text(&"x".repeat(MAX_TEXT_BYTES)).is_ok());
        assert_eq!(
            check_text(&"x".repeat(MAX_TEXT_BYTES + 1)),
            Err(TextError::TooLong(MAX_TEXT_BYTES + 1))
        );
    }
}
