//! The SDK over real TLS: a `chinwag-server` serving a generated certificate, trusted by the
//! client only through `Settings::extra_ca_pem` (the PEM parsing in `src/tls.rs`).

mod common;

use chinwag::{Client, ConnectionState, ErrorCode, InitOptions};
use chinwag_server::TlsFiles;
use common::*;
use serde_json::json;

struct TlsServer {
    server: Server,
    cert_pem: String,
    https: String,
}

fn tls_server(dir: &std::path::Path) -> TlsServer {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let mut config = Server::config();
    config.tls = Some(TlsFiles {
        cert: cert_path,
        key: key_path,
    });
    let server = Server::with(config);
    let https = format!("https://localhost:{}", server.addr().port());
    let cert_pem = cert.cert.pem();
    let root = reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let created = server.rt.block_on(async {
        http.post(format!("{https}/v1/users"))
            .header("x-auth-key", AUTH_KEY)
            .json(&json!({"uid": "alice", "name": "Alice"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(created, 201);
    TlsServer {
        server,
        cert_pem,
        https,
    }
}

#[test]
fn a_client_trusting_the_generated_certificate_logs_in_and_connects_over_wss() {
    let dir = tempfile::tempdir().unwrap();
    let tls = tls_server(dir.path());
    let mut settings = tls.server.settings_via(&tls.https);
    // Another certificate before the server's: every PEM block is read, not only the first.
    let other = rcgen::generate_simple_self_signed(vec!["other.invalid".into()]).unwrap();
    settings.extra_ca_pem = format!("{}{}", other.cert.pem(), tls.cert_pem).into_bytes();
    let (client, rec) = new_client(&tls.server, settings);
    login_connected(&client, &rec, "alice");
    assert_eq!(client.connection_state(), ConnectionState::Connected);
}

#[test]
fn a_client_without_the_certificate_is_refused_with_a_tls_error() {
    let dir = tempfile::tempdir().unwrap();
    let tls = tls_server(dir.path());
    let (client, _rec) = new_client(&tls.server, tls.server.settings_via(&tls.https));
    let (done, rx) = completion();
    client.login("alice", AUTH_KEY, Some(done)).unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::Tls, "{err:?}");
}

#[test]
fn extra_ca_data_that_is_not_a_pem_certificate_is_refused_at_init() {
    let mut settings = chinwag::Settings::new("https://localhost:1");
    for (bad, says) in [
        (&b"not pem at all"[..], "holds no PEM certificate"),
        (
            &b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"[..],
            "not valid PEM",
        ),
    ] {
        settings.extra_ca_pem = bad.to_vec();
        let err = Client::init(APP_ID, settings.clone(), InitOptions::default())
            .err()
            .expect("init refuses the extra CA data");
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{err:?}");
        assert!(err.message.contains(says), "{}", err.message);
    }
}
