mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn message_round_trip_between_two_users() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let (mut a, accept) = server.connect(&alice).await;
    assert_eq!(accept["user"]["uid"], "alice");
    assert_eq!(accept["resume"]["status"], "fresh");
    a.replay().await;
    let (mut b, _) = server.connect(&bob).await;
    b.replay().await;

    let sent = a.send_text("user", "bob", "hello bob").await;
    assert_eq!(sent["event"], "message");
    assert_eq!(sent["data"]["sender"], "alice");
    let got = b.expect_event("message").await;
    assert_eq!(got["data"]["text"], "hello bob");
    assert_eq!(got["data"]["id"], sent["data"]["id"]);

    let reply = b
        .request(json!({"type": "send", "message": {"receiver_type": "user", "receiver": "alice", "text": "hi"}}))
        .await;
    assert_eq!(reply["type"], "ack");
    let got = a.expect_event("message").await;
    assert_eq!(got["data"]["text"], "hi");
}
