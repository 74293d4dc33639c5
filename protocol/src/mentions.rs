//! Mentions: `<@uid:UID>` in a message's text names a user. The server parses them when it
//! stores the message (see `docs/protocol.md`, "Mentions"); clients render the markup.

/// At most this many distinct users can be mentioned by one message (a larger set is refused,
/// so a message cannot badge a whole server).
pub const MAX_MENTIONS: usize = 32;

const OPEN: &str = "<@uid:";

/// The uids mentioned in `text`, distinct, in order of first appearance. Only well-formed ids
/// count (`limits::check_id`); anything else between the markers is plain text.
pub fn parse_mentions(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('>') else { break };
        let uid = &after[..end];
        if crate::limits::check_id("uid", uid).is_ok() && !found.iter().any(|u| u == uid) {
            found.push(uid.to_string());
        }
        // An id holds no `<`: a marker inside a bad one starts again at the next `<@uid:`.
        rest = if uid.contains('<') {
            after
        } else {
            &after[end + 1..]
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_distinct_well_formed_mentions_in_order() {
        assert_eq!(
            parse_mentions("hi <@uid:bob> and <@uid:carl>, <@uid:bob> again"),
            vec!["bob", "carl"]
        );
        assert!(parse_mentions("no mention <@uid:> <@uid:a b> <@uid:x").is_empty());
        assert_eq!(parse_mentions("<@uid:<@uid:dora>"), vec!["dora"]);
        assert_eq!(parse_mentions("<@uid:a.b@c-d_e>"), vec!["a.b@c-d_e"]);
        assert!(parse_mentions("<@uid:😀>").is_empty());
    }
}
