mod common;

use chinwag::protocol::model::ReceiverType;
use chinwag::{ConnectionState, Event};
use common::*;

#[test]
fn login_connect_send_receive() {
    let server = Server::start();
    server.create_user("alice");
    server.create_user("bob");
    let (alice, ra) = new_client(&server, server.settings());
    let (bob, rb) = new_client(&server, server.settings());
    let (done, rx) = completion();
    alice.login("alice", AUTH_KEY, Some(done)).unwrap();
    let user = rx.recv_timeout(WAIT).unwrap().unwrap();
    assert_eq!(user.uid, "alice");
    bob.login("bob", AUTH_KEY, None).unwrap();
    ra.wait("alice connected", |e| {
        is_state(e, ConnectionState::Connected)
    });
    rb.wait("bob connected", |e| is_state(e, ConnectionState::Connected));
    assert_eq!(
        ra.states(),
        [ConnectionState::Connecting, ConnectionState::Connected]
    );

    let (done, rx) = completion();
    let muid = alice
        .send_text(ReceiverType::User, "bob", "hello", Some(done))
        .unwrap();
    let stored = rx.recv_timeout(WAIT).unwrap().unwrap();
    assert_eq!(stored.muid, muid);
    let got = rb.wait(
        "bob gets the message",
        |e| matches!(e, Event::Message(m) if m.text.as_deref() == Some("hello")),
    );
    if let Event::Message(m) = got {
        assert_eq!(m.sender, "alice");
    }
}

#[test]
fn listeners_given_to_init_hear_the_first_connect_of_a_restored_session() {
    let server = Server::start();
    server.create_user("alice");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = server.settings();
    settings.data_dir = Some(dir.path().to_path_buf());
    {
        let (first, r) = new_client(&server, settings.clone());
        first.login("alice", AUTH_KEY, None).unwrap();
        r.wait("connected", |e| is_state(e, ConnectionState::Connected));
    }
    let rec = Recorder::default();
    let me = rec.clone();
    let options = chinwag::InitOptions {
        listeners: vec![(
            chinwag::ListenerKind::Connection,
            "early".into(),
            Box::new(move |e: &Event| me.push(e.clone())),
        )],
        ..Default::default()
    };
    let _restored = chinwag::Client::init(APP_ID, settings, options).unwrap();
    rec.wait("restored and connected", |e| {
        is_state(e, ConnectionState::Connected)
    });
    assert_eq!(
        rec.states()[..2],
        [ConnectionState::Connecting, ConnectionState::Connected]
    );
}
