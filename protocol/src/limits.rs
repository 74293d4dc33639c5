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
/// Longest uid, guid, muid, call session id or role.
pub const MAX_ID_BYTES: usize = 100;
/// Largest JSON value for `metadata` or custom `data`, serialized.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Checks an identifier (uid, guid, muid, call session id, role): 1-100 bytes of ASCII letters,
/// digits, `-`, `_`, `.` and `@`. The colon is kept free for conversation ids.
pub fn check_id(kind: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{kind} must not be empty"));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(format!("{kind} is longer than {MAX_ID_BYTES} bytes"));
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
