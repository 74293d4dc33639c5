//! The chat surface through the Rust API against the real server: groups, calls, history,
//! users, edits and deletes, media and transient messages, friends presence.
mod common;

use std::time::Duration;

use chinwag::event::CallEventKind;
use chinwag::protocol::model::{
    Attachment, CallStatus, CallType, GroupAction, GroupType, NewMessage, PresenceSubscription,
    ReceiverType, Scope, UserStatus,
};
use chinwag::{ErrorCode, Event, MessagesRequest, UserFilters, UsersRequest};
use common::*;

#[test]
fn groups_membership_events_and_authorization() {
    let server = Server::start();
    for u in ["alice", "bob", "carol", "dave"] {
        server.create_user(u);
    }
    let (alice, ra) = connected(&server, "alice");
    let (bob, rb) = connected(&server, "bob");
    let (carol, rc) = connected(&server, "carol");
    let (dave, _rd) = connected(&server, "dave");

    let (done, rx) = completion();
    alice
        .create_group("team", "Team", GroupType::Private, Some(done))
        .unwrap();
    let g = ok(rx);
    assert_eq!((g.owner.as_str(), g.scope), ("alice", Some(Scope::Admin)));

    let (done, rx) = completion();
    alice
        .add_members(
            "team",
            &[("bob", None), ("carol", Some(Scope::Moderator))],
            Some(done),
        )
        .unwrap();
    assert_eq!(ok(rx).len(), 3);
    // One batched announcement on the wire; one event per added member for the app.
    for r in [&rb, &rc] {
        for who in ["bob", "carol"] {
            r.wait(
                "added event",
                |e| matches!(e, Event::GroupMember(m) if m.action == GroupAction::Added && m.member == who && m.added.is_empty()),
            );
        }
    }

    // A private group: dave can neither join nor post, and to him it does not exist.
    let (done, rx) = completion();
    dave.join_group("team", Some(done)).unwrap();
    assert_eq!(err(rx).code, ErrorCode::NotFound);
    let (done, rx) = completion();
    dave.send_text(ReceiverType::Group, "team", "let me in", Some(done))
        .unwrap();
    assert_eq!(err(rx).code, ErrorCode::NotFound);

    // Group messages and typing reach members.
    let mark = rb.len();
    alice
        .send_text(ReceiverType::Group, "team", "hello team", None)
        .unwrap();
    rb.wait_from(
        mark,
        "group message",
        |e| matches!(e, Event::Message(m) if m.receiver == "team"),
    );
    rc.wait_from(
        0,
        "group message",
        |e| matches!(e, Event::Message(m) if m.receiver == "team"),
    );
    bob.start_typing(ReceiverType::Group, "team").unwrap();
    ra.wait(
        "group typing",
        |e| matches!(e, Event::TypingStarted(t) if t.sender == "bob" && t.receiver == "team"),
    );

    // Scope rules: carol (moderator) kicks bob (participant); bob cannot kick carol.
    let (done, rx) = completion();
    bob.kick_member("team", "carol", Some(done)).unwrap();
    assert_eq!(err(rx).code, ErrorCode::Forbidden);
    let (done, rx) = completion();
    carol.kick_member("team", "bob", Some(done)).unwrap();
    ok(rx);
    rb.wait("kicked", |e| matches!(e, Event::GroupMember(m) if m.action == GroupAction::Kicked && m.member == "bob"));
    let (done, rx) = completion();
    alice.ban_member("team", "dave", Some(done)).unwrap();
    ok(rx);
    let (done, rx) = completion();
    alice.unban_member("team", "dave", Some(done)).unwrap();
    ok(rx);
    let (done, rx) = completion();
    alice
        .change_scope("team", "carol", Scope::Admin, Some(done))
        .unwrap();
    assert_eq!(ok(rx).scope, Scope::Admin);
    rc.wait("scope changed", |e| matches!(e, Event::GroupMember(m) if m.action == GroupAction::ScopeChanged && m.scope == Some(Scope::Admin)));
    let (done, rx) = completion();
    alice.leave_group("team", Some(done)).unwrap();
    assert_eq!(err(rx).code, ErrorCode::Forbidden, "the owner cannot leave");

    let (done, rx) = completion();
    carol.list_groups(true, None, 10, Some(done)).unwrap();
    let list = ok(rx);
    assert_eq!(
        list.groups
            .iter()
            .map(|g| g.guid.as_str())
            .collect::<Vec<_>>(),
        ["team"]
    );
    let (done, rx) = completion();
    carol.group_members("team", Some(done)).unwrap();
    let members: Vec<String> = ok(rx).into_iter().map(|m| m.user.uid).collect();
    assert_eq!(members, ["alice", "carol"]);
    let (done, rx) = completion();
    bob.get_group("team", Some(done)).unwrap();
    assert_eq!(
        err(rx).code,
        ErrorCode::NotFound,
        "a private group is hidden from non-members: answered as missing"
    );
}

#[test]
fn calls_ring_accept_end_and_go_unanswered() {
    let mut cfg = chinwag_server::Config::local(AUTH_KEY, API_KEY);
    cfg.call_timeout = Duration::from_millis(300);
    let server = Server::with(cfg);
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let (alice, ra) = connected(&server, "alice");
    let (bob, rb) = connected(&server, "bob");
    let (carol, _rc) = connected(&server, "carol");

    let (done, rx) = completion();
    let sid = alice
        .initiate_call(ReceiverType::User, "bob", CallType::Video, Some(done))
        .unwrap();
    // At once, before the server answered: the one call slot is already taken.
    let e = alice
        .initiate_call(ReceiverType::User, "carol", CallType::Audio, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CallInProgress);
    assert_eq!(ok(rx).status, CallStatus::Initiated);
    assert_eq!(alice.active_call().map(|c| c.session_id), Some(sid.clone()));
    let e = alice
        .initiate_call(ReceiverType::User, "carol", CallType::Audio, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CallInProgress);
    rb.wait("incoming call", |e| matches!(e, Event::Call { kind: CallEventKind::Initiated, call } if call.session_id == sid));

    let (done, rx) = completion();
    carol.accept_call(&sid, Some(done)).unwrap();
    assert_eq!(err(rx).code, ErrorCode::Forbidden, "not carol's call");

    let (done, rx) = completion();
    bob.accept_call(&sid, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Ongoing);
    ra.wait("accepted", |e| {
        matches!(
            e,
            Event::Call {
                kind: CallEventKind::Accepted,
                ..
            }
        )
    });
    let (done, rx) = completion();
    alice.end_call(&sid, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Ended);
    rb.wait("ended", |e| {
        matches!(
            e,
            Event::Call {
                kind: CallEventKind::Ended,
                ..
            }
        )
    });
    assert!(alice.active_call().is_none());

    // Unanswered: the server cancels after its timeout; both sides hear it and are free again.
    let sid2 = alice
        .initiate_call(ReceiverType::User, "bob", CallType::Audio, None)
        .unwrap();
    let cancelled = |e: &Event| matches!(e, Event::Call { kind: CallEventKind::Cancelled, call } if call.session_id == sid2 && call.status == CallStatus::Unanswered);
    rb.wait("unanswered on bob", cancelled);
    ra.wait("unanswered on alice", cancelled);
    assert!(alice.active_call().is_none());

    // Busy.
    let sid3 = alice
        .initiate_call(ReceiverType::User, "bob", CallType::Audio, None)
        .unwrap();
    rb.wait("third call", |e| matches!(e, Event::Call { kind: CallEventKind::Initiated, call } if call.session_id == sid3));
    bob.reject_call(&sid3, true, None).unwrap();
    ra.wait("busy", |e| matches!(e, Event::Call { kind: CallEventKind::Rejected, call } if call.status == CallStatus::Busy));

    // Plain rejection.
    let sid4 = alice
        .initiate_call(ReceiverType::User, "bob", CallType::Video, None)
        .unwrap();
    rb.wait("fourth call", |e| matches!(e, Event::Call { kind: CallEventKind::Initiated, call } if call.session_id == sid4));
    let (done, rx) = completion();
    bob.reject_call(&sid4, false, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Rejected);
    ra.wait("rejected", |e| matches!(e, Event::Call { kind: CallEventKind::Rejected, call } if call.session_id == sid4 && call.status == CallStatus::Rejected));

    // The caller cancels before an answer: the callee hears it cancelled (not unanswered);
    // only the caller may cancel.
    let sid5 = alice
        .initiate_call(ReceiverType::User, "bob", CallType::Audio, None)
        .unwrap();
    rb.wait("fifth call", |e| matches!(e, Event::Call { kind: CallEventKind::Initiated, call } if call.session_id == sid5));
    let (done, rx) = completion();
    carol.cancel_call(&sid5, Some(done)).unwrap();
    assert_eq!(
        err(rx).code,
        ErrorCode::Forbidden,
        "carol cannot cancel alice's call"
    );
    let (done, rx) = completion();
    alice.cancel_call(&sid5, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Cancelled);
    rb.wait("cancelled", |e| matches!(e, Event::Call { kind: CallEventKind::Cancelled, call } if call.session_id == sid5 && call.status == CallStatus::Cancelled));
    assert!(alice.active_call().is_none());
}

#[test]
fn group_calls_ring_every_member_and_the_first_accept_wins() {
    let server = Server::start();
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let (alice, ra) = connected(&server, "alice");
    let (bob, rb) = connected(&server, "bob");
    let (carol, rc) = connected(&server, "carol");
    let (done, rx) = completion();
    alice
        .create_group("crew", "Crew", GroupType::Private, Some(done))
        .unwrap();
    ok(rx);
    let (done, rx) = completion();
    alice
        .add_members("crew", &[("bob", None), ("carol", None)], Some(done))
        .unwrap();
    assert_eq!(ok(rx).len(), 3, "the whole member list after the change");

    let sid = alice
        .initiate_call(ReceiverType::Group, "crew", CallType::Audio, None)
        .unwrap();
    let ringing = |e: &Event| matches!(e, Event::Call { kind: CallEventKind::Initiated, call } if call.session_id == sid && call.receiver_type == ReceiverType::Group);
    rb.wait("rings on bob", ringing);
    rc.wait("rings on carol", ringing);
    let (done, rx) = completion();
    bob.accept_call(&sid, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Ongoing);
    ra.wait(
        "accepted by bob",
        |e| matches!(e, Event::Call { kind: CallEventKind::Accepted, call } if call.by == "bob"),
    );
    let (done, rx) = completion();
    carol.accept_call(&sid, Some(done)).unwrap();
    let e = err(rx);
    assert!(
        matches!(e.code, ErrorCode::Forbidden | ErrorCode::ServerRejected),
        "a second accept is refused: {e:?}"
    );
    let (done, rx) = completion();
    bob.end_call(&sid, Some(done)).unwrap();
    assert_eq!(ok(rx).status, CallStatus::Ended);
    ra.wait(
        "ended by bob",
        |e| matches!(e, Event::Call { kind: CallEventKind::Ended, call } if call.session_id == sid),
    );
}

/// Every operation checks its arguments before any network: specific codes, nothing sent.
#[test]
fn chat_operations_refuse_bad_input_before_the_network() {
    let server = Server::start();
    server.create_user("alice");
    let (alice, _ra) = connected(&server, "alice");
    let invalid = |r: chinwag::Result<()>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{what}: {e:?}");
    };
    invalid(
        alice.create_group("", "Name", GroupType::Public, None),
        "empty guid",
    );
    invalid(
        alice.create_group("g", "  ", GroupType::Public, None),
        "blank name",
    );
    invalid(
        alice.create_group("a b", "N", GroupType::Public, None),
        "guid with a space",
    );
    invalid(alice.get_group("", None), "get empty guid");
    invalid(alice.add_members("g", &[], None), "no members");
    invalid(
        alice.add_members("g", &[("", None)], None),
        "empty member uid",
    );
    invalid(alice.kick_member("g", "", None), "kick empty uid");
    invalid(
        alice.change_scope("", "bob", Scope::Admin, None),
        "scope empty guid",
    );
    invalid(alice.get_user("", None), "empty uid");
    invalid(alice.add_friend("", None), "empty friend");
    invalid(alice.accept_call("", None), "empty session id");
    invalid(alice.delete_message(0, None), "message id 0");
    invalid(
        alice.edit_message(-3, Some("x"), None, None, None),
        "negative id",
    );
    invalid(
        alice.edit_message(5, None, None, None, None),
        "edit without changes",
    );
    let e = alice
        .edit_message(5, Some(&"x".repeat(70_000)), None, None, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TextTooLong);
    let e = alice
        .initiate_call(ReceiverType::User, "", CallType::Audio, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(MessagesRequest::new(ReceiverType::User, "").is_err());
    let req = MessagesRequest::new(ReceiverType::User, "bob").unwrap();
    assert_eq!(
        req.clone().limit(0).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(req.limit(101).unwrap_err().code, ErrorCode::InvalidArgument);
    let users = UsersRequest::new(UserFilters {
        limit: Some(500),
        ..Default::default()
    });
    invalid(alice.fetch_users(&users, None), "user page limit 500");

    // Logged out: every operation says so.
    let (done, rx) = completion();
    alice.logout(Some(done)).unwrap();
    ok(rx);
    let e = alice.get_group("g", None).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotLoggedIn);
    let e = alice.friends(None).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotLoggedIn);
}

#[test]
fn history_pages_back_and_forth_and_users_are_listed() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let (alice, _ra) = connected(&server, "alice");
    let (bob, _rb) = connected(&server, "bob");
    let mut ids = Vec::new();
    for i in 0..25 {
        let (done, rx) = completion();
        alice
            .send_text(ReceiverType::User, "bob", &format!("m{i}"), Some(done))
            .unwrap();
        ids.push(ok(rx).id);
    }
    let req = MessagesRequest::new(ReceiverType::User, "alice")
        .unwrap()
        .limit(10)
        .unwrap();
    let (done, rx) = completion();
    bob.fetch_previous(&req, Some(done)).unwrap();
    let page = ok(rx);
    assert_eq!(
        page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[15..]
    );
    assert!(page.has_more);
    let (done, rx) = completion();
    bob.fetch_previous(&req, Some(done)).unwrap();
    assert_eq!(
        ok(rx).items.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[5..15]
    );
    // Forward from a known message: what an app does to fill a gap.
    let fwd = MessagesRequest::new(ReceiverType::User, "alice")
        .unwrap()
        .limit(10)
        .unwrap()
        .from_message(ids[19]);
    let (done, rx) = completion();
    bob.fetch_next(&fwd, Some(done)).unwrap();
    let page = ok(rx);
    assert_eq!(
        page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[20..]
    );
    assert!(!page.has_more);

    let users = UsersRequest::new(UserFilters {
        limit: Some(1),
        ..Default::default()
    });
    let mut seen = Vec::new();
    loop {
        let (done, rx) = completion();
        bob.fetch_users(&users, Some(done)).unwrap();
        let page = ok(rx);
        seen.extend(page.items.into_iter().map(|u| (u.uid, u.status)));
        if !page.has_more {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            ("alice".to_string(), UserStatus::Online),
            ("bob".to_string(), UserStatus::Online)
        ]
    );
}

#[test]
fn edits_deletes_media_custom_and_transient_messages() {
    let server = Server::start();
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let (alice, ra) = connected(&server, "alice");
    let (bob, rb) = connected(&server, "bob");
    let mut media = NewMessage::text(ReceiverType::User, "bob", "look");
    media.kind = "image".into();
    media.attachments = vec![Attachment {
        url: "https://cdn.example/cat.png".into(),
        name: Some("cat.png".into()),
        mime_type: Some("image/png".into()),
        size: Some(1234),
    }];
    media.metadata = Some(serde_json::json!({"w": 640}));
    let (done, rx) = completion();
    alice.send_message(media, Some(done)).unwrap();
    let sent = ok(rx);
    let got = rb.wait(
        "media",
        |e| matches!(e, Event::Message(m) if m.kind == "image"),
    );
    if let Event::Message(m) = got {
        assert_eq!(m.attachments[0].url, "https://cdn.example/cat.png");
        assert_eq!(m.metadata["w"], 640);
    }
    let mut custom = NewMessage::text(ReceiverType::User, "bob", "");
    custom.text = None;
    custom.category = chinwag::protocol::model::Category::Custom;
    custom.kind = "location".into();
    custom.data = Some(serde_json::json!({"lat": 1.5, "lon": 2.5}));
    alice.send_message(custom, None).unwrap();
    rb.wait("custom", |e| matches!(e, Event::Message(m) if m.kind == "location" && m.data.as_ref().is_some_and(|d| d["lat"] == 1.5)));

    let (done, rx) = completion();
    alice
        .edit_message(sent.id, Some("look again"), None, None, Some(done))
        .unwrap();
    assert_eq!(ok(rx).text.as_deref(), Some("look again"));
    rb.wait(
        "edited",
        |e| matches!(e, Event::MessageEdited(m) if m.text.as_deref() == Some("look again")),
    );
    let (done, rx) = completion();
    bob.edit_message(sent.id, Some("hijack"), None, None, Some(done))
        .unwrap();
    assert_eq!(err(rx).code, ErrorCode::Forbidden);
    let (done, rx) = completion();
    alice.delete_message(sent.id, Some(done)).unwrap();
    assert!(ok(rx).deleted_at.is_some());
    rb.wait(
        "deleted",
        |e| matches!(e, Event::MessageDeleted(m) if m.id == sent.id),
    );
    assert!(
        !ra.events()
            .iter()
            .any(|e| matches!(e, Event::MessageEdited(_) | Event::MessageDeleted(_))),
        "the editor's own changes are not echoed to it"
    );

    alice
        .send_transient(
            ReceiverType::User,
            "bob",
            serde_json::json!({"reaction": "wave"}),
        )
        .unwrap();
    rb.wait(
        "transient",
        |e| matches!(e, Event::Transient(t) if t.data["reaction"] == "wave"),
    );
    bob.mark(chinwag::protocol::model::ReceiptKind::Read, sent.id)
        .unwrap();
    ra.wait(
        "read receipt",
        |e| matches!(e, Event::Receipt(r) if r.by == "bob" && r.message_id == sent.id),
    );
}

#[test]
fn friends_presence_mode_sees_only_friends() {
    let server = Server::start();
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    // A user's add_friend only asks until the other asks back; the app's backend befriends
    // directly.
    let (alice0, _r) = connected(&server, "alice");
    let (done, rx) = completion();
    alice0.add_friend("bob", Some(done)).unwrap();
    assert!(ok(rx).is_empty(), "bob has not asked back");
    drop(alice0);
    let (s, v) = server.rest(
        reqwest::Method::POST,
        "/v1/users/alice/friends",
        Some(serde_json::json!({"uids": ["bob"]})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["users"][0]["uid"], "bob");
    let mut s = server.settings();
    s.presence = PresenceSubscription::Friends;
    let (_alice, ra) = connected_with(&server, "alice", s);
    let (_carol, _rc) = connected(&server, "carol");
    let (_bob, _rb) = connected(&server, "bob");
    ra.wait(
        "bob online",
        |e| matches!(e, Event::Presence(p) if p.uid == "bob" && p.status == UserStatus::Online),
    );
    assert!(
        !ra.events()
            .iter()
            .any(|e| matches!(e, Event::Presence(p) if p.uid == "carol")),
        "carol is not a friend"
    );
}
