//! A message of the largest size the server stores is delivered to a real SDK client, live and
//! on resume; a larger one is refused and never stored (issue 16, findings 2 and 3: a message
//! the client cannot read would stop its resume for good).

mod common;

use chinwag::protocol::limits::{MAX_JSON_BYTES, MAX_MESSAGE_BYTES, MAX_TEXT_BYTES};
use chinwag::{ConnectionState as S, Event};
use common::*;
use serde_json::{json, Value};

/// A message to `receiver` of about `total` serialized bytes, every field within its own
/// limit (a text of control characters expands six-fold when serialized).
fn message_of_size(receiver: &str, tag: &str, total: usize) -> Value {
    let sized = json!({
        "text": "\u{1}".repeat(MAX_TEXT_BYTES),
        "data": "d".repeat(MAX_JSON_BYTES - 2),
        "attachments": (0..10)
            .map(|i| json!({"url": format!("https://f.example/{i}/{}", "u".repeat(2000))}))
            .collect::<Vec<_>>(),
    });
    let pad = total - serde_json::to_vec(&sized).unwrap().len() - 300;
    assert!(pad < MAX_JSON_BYTES);
    json!({"receiver_type": "user", "receiver": receiver, "category": "custom", "type": "blob",
           "text": sized["text"], "data": sized["data"], "attachments": sized["attachments"],
           "metadata": {"tag": tag, "p": "m".repeat(pad)}})
}

fn is_tagged(e: &Event, tag: &str) -> bool {
    matches!(e, Event::Message(m) if m.metadata["tag"] == tag)
}

#[test]
fn the_largest_stored_message_reaches_the_sdk_live_and_on_resume() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let alice = server.mint_token("alice");
    let (bob, rb) = new_client(&server, server.settings());
    login_connected(&bob, &rb, "bob");

    // Live: the largest message arrives in one frame and the socket stays up.
    let (s, v) = server.rest_as(
        &alice,
        reqwest::Method::POST,
        "/v1/messages",
        Some(message_of_size("bob", "live", MAX_MESSAGE_BYTES - 1024)),
    );
    assert_eq!(s, 201, "{}", v["message"]);
    let stored = serde_json::to_vec(&v["data"]).unwrap().len();
    assert!(
        stored > MAX_MESSAGE_BYTES - 4096,
        "the message is near the limit: {stored}"
    );
    rb.wait("the live maximal message", |e| is_tagged(e, "live"));

    // Resume: sent while bob is away, replayed when he comes back.
    let mark = rb.len();
    bob.disconnect();
    rb.wait_state(mark, S::Disconnected);
    let (s, v) = server.rest_as(
        &alice,
        reqwest::Method::POST,
        "/v1/messages",
        Some(message_of_size("bob", "resumed", MAX_MESSAGE_BYTES - 1024)),
    );
    assert_eq!(s, 201, "{}", v["message"]);
    // One over the limit is refused with its own code and never stored.
    let (s, v) = server.rest_as(
        &alice,
        reqwest::Method::POST,
        "/v1/messages",
        Some(message_of_size("bob", "poison", MAX_MESSAGE_BYTES + 4096)),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (413, Some("MESSAGE_TOO_LARGE")),
        "{v}"
    );
    let mark = rb.len();
    bob.connect().unwrap();
    rb.wait_from(mark, "the replayed maximal message", |e| {
        is_tagged(e, "resumed")
    });
    assert_eq!(bob.connection_state(), S::Connected);
    let history = server.history("bob", "alice");
    assert_eq!(history.len(), 2, "the refused message was not stored");
    assert!(history.iter().all(|m| m.metadata["tag"] != "poison"));
}
