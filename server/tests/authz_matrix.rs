//! The authorization matrix: every REST endpoint and every WebSocket request kind against every
//! kind of caller, from ONE table per surface. The tables are checked against what the server
//! really serves (`chinwag_server::routes()`, and the frame types the protocol crate accepts),
//! so an endpoint or frame type added without its row fails this test.
//!
//! Each cell runs against fresh resources (its own owner, other user, group, messages, calls),
//! so no cell depends on what another one changed.

mod common;

use std::collections::BTreeSet;

use chinwag_protocol::ClientFrame;
use common::{Next, TestServer, Ws, API_KEY, AUTH_KEY};
use reqwest::Method;
use serde_json::{json, Value};

/// The kinds of caller, in the order of every row's expectations.
const CALLERS: [&str; 7] = [
    "none",
    "wrong app",
    "the user",
    "another user",
    "revoked token",
    "deactivated user",
    "API key",
];

/// One REST row: method, path template (as the router has it), the path to call (`{o}` the
/// owner = "the user", `{t}` a user outside the group, `{m}` a group member, `{k}` a user banned
/// from the group, `{g}` the owner's
/// private group, `{mo}` the owner's message in it, `{c}` a call from the owner to `{t}`, `{n}`
/// a fresh suffix), the body, and the expected answer per caller: the status, plus the error
/// code when it fails.
struct Row {
    method: &'static str,
    template: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: [&'static str; 7],
}

const fn row(
    method: &'static str,
    template: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: [&'static str; 7],
) -> Row {
    Row {
        method,
        template,
        path,
        body,
        expect,
    }
}

// Shorthands for the columns that rarely differ.
const NO: &str = "401 UNAUTHORIZED";
const APP: &str = "400 APP_MISMATCH";
const REV: &str = "401 INVALID_TOKEN";
const OFF: &str = "403 USER_DEACTIVATED";
const ADMIN_ONLY: &str = "403 FORBIDDEN";

#[rustfmt::skip]
const REST: &[Row] = &[
    row("GET", "/v1/health", "/v1/health", None,
        ["200", "200", "200", "200", "200", "200", "200"]),
    // The API's description is public, like the health check.
    row("GET", "/v1/openapi.json", "/v1/openapi.json", None,
        ["200", "200", "200", "200", "200", "200", "200"]),
    // The auth key in the body is the credential; the caller's headers play no part.
    row("POST", "/v1/login", "/v1/login", Some(r#"{"uid":"{o}","auth_key":"AUTH"}"#),
        ["200", APP, "200", "200", "200", "200", "200"]),
    row("POST", "/v1/logout", "/v1/logout", None,
        [NO, APP, "204", "204", REV, OFF, NO]),
    row("GET", "/v1/me", "/v1/me", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    row("GET", "/v1/me/position", "/v1/me/position", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    // Blocking is the caller's own list: any user, never the API key.
    row("GET", "/v1/me/blocked", "/v1/me/blocked", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    row("POST", "/v1/me/blocked", "/v1/me/blocked", Some(r#"{"uids":["{t}"]}"#),
        [NO, APP, "200", "200", REV, OFF, NO]),
    row("DELETE", "/v1/me/blocked/{uid}", "/v1/me/blocked/{t}", None,
        [NO, APP, "204", "204", REV, OFF, NO]),
    // Creating users takes a key (API or auth key), never a token.
    row("POST", "/v1/users", "/v1/users", Some(r#"{"uid":"new{n}","name":"New"}"#),
        [NO, APP, NO, NO, NO, NO, "201"]),
    row("GET", "/v1/users", "/v1/users", None,
        [NO, APP, "200", "200", REV, OFF, "200"]),
    row("GET", "/v1/users/{uid}", "/v1/users/{o}", None,
        [NO, APP, "200", "200", REV, OFF, "200"]),
    row("PATCH", "/v1/users/{uid}", "/v1/users/{o}", Some(r#"{"name":"Renamed"}"#),
        [NO, APP, "200", "403 FORBIDDEN", REV, OFF, "200"]),
    row("POST", "/v1/users/{uid}/tokens", "/v1/users/{o}/tokens", None,
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "201"]),
    row("DELETE", "/v1/users/{uid}/tokens", "/v1/users/{o}/tokens", None,
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "200"]),
    row("POST", "/v1/users/{uid}/deactivate", "/v1/users/{o}/deactivate", None,
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "200"]),
    row("POST", "/v1/users/{uid}/activate", "/v1/users/{o}/activate", None,
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "200"]),
    row("GET", "/v1/users/{uid}/friends", "/v1/users/{o}/friends", None,
        [NO, APP, "200", "403 FORBIDDEN", REV, OFF, "200"]),
    row("POST", "/v1/users/{uid}/friends", "/v1/users/{o}/friends", Some(r#"{"uids":["{t}"]}"#),
        [NO, APP, "200", "403 FORBIDDEN", REV, OFF, "200"]),
    row("GET", "/v1/users/{uid}/friend_requests", "/v1/users/{o}/friend_requests", None,
        [NO, APP, "200", "403 FORBIDDEN", REV, OFF, "200"]),
    row("DELETE", "/v1/users/{uid}/friends/{friend}", "/v1/users/{o}/friends/{t}", None,
        [NO, APP, "204", "403 FORBIDDEN", REV, OFF, "204"]),
    // Groups act as a user: the API key alone is not enough.
    row("POST", "/v1/groups", "/v1/groups", Some(r#"{"guid":"new{n}","name":"New"}"#),
        [NO, APP, "201", "201", REV, OFF, NO]),
    row("GET", "/v1/groups", "/v1/groups", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    // {g} is a private group: to an outsider it does not exist, nor do its messages.
    row("GET", "/v1/groups/{guid}", "/v1/groups/{g}", None,
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/join", "/v1/groups/{g}/join", None,
        [NO, APP, "409 ALREADY_MEMBER", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/leave", "/v1/groups/{g}/leave", None,
        [NO, APP, "403 OWNER_RULE", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/groups/{guid}/members", "/v1/groups/{g}/members", None,
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/members", "/v1/groups/{g}/members", Some(r#"{"members":[{"uid":"{t}"}]}"#),
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/kick", "/v1/groups/{g}/kick", Some(r#"{"uid":"{m}"}"#),
        [NO, APP, "204", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/ban", "/v1/groups/{g}/ban", Some(r#"{"uid":"{m}"}"#),
        [NO, APP, "204", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/groups/{guid}/unban", "/v1/groups/{g}/unban", Some(r#"{"uid":"{k}"}"#),
        [NO, APP, "204", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("PUT", "/v1/groups/{guid}/members/{uid}/scope", "/v1/groups/{g}/members/{m}/scope", Some(r#"{"scope":"moderator"}"#),
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/conversations", "/v1/conversations", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    row("GET", "/v1/conversations/unread", "/v1/conversations/unread", None,
        [NO, APP, "200", "200", REV, OFF, NO]),
    row("GET", "/v1/conversations/{kind}/{with}", "/v1/conversations/group/{g}", None,
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("DELETE", "/v1/conversations/{kind}/{with}", "/v1/conversations/group/{g}", None,
        [NO, APP, "204", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/messages", "/v1/messages?receiver_type=group&receiver={g}", None,
        [NO, APP, "200", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/messages", "/v1/messages", Some(r#"{"receiver_type":"group","receiver":"{g}","text":"hi"}"#),
        [NO, APP, "201", "404 GROUP_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/messages/{id}", "/v1/messages/{mo}", None,
        [NO, APP, "200", "404 MESSAGE_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/messages/{id}/thread", "/v1/messages/{mo}/thread", None,
        [NO, APP, "200", "404 MESSAGE_NOT_FOUND", REV, OFF, NO]),
    row("PATCH", "/v1/messages/{id}", "/v1/messages/{mo}", Some(r#"{"text":"edited"}"#),
        [NO, APP, "200", "404 MESSAGE_NOT_FOUND", REV, OFF, NO]),
    row("DELETE", "/v1/messages/{id}", "/v1/messages/{mo}", None,
        [NO, APP, "200", "404 MESSAGE_NOT_FOUND", REV, OFF, NO]),
    row("GET", "/v1/calls/{session_id}", "/v1/calls/{c}", None,
        [NO, APP, "200", "404 CALL_NOT_FOUND", REV, OFF, NO]),
    row("POST", "/v1/admin/throttle", "/v1/admin/throttle", Some(r#"{"feature":"typing","duration_ms":1}"#),
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "204"]),
    row("GET", "/v1/admin/groups", "/v1/admin/groups", None,
        [NO, APP, ADMIN_ONLY, ADMIN_ONLY, REV, OFF, "200"]),
    // The upgrade: a close code instead of a status ("accept" when admitted). The caller kinds
    // that are refused here are refused for every socket request kind below.
    row("GET", "/v1/ws", "/v1/ws", None,
        ["4401", "4404", "accept", "accept", "4401", "4403", "4401"]),
];

/// One socket row: the frame type, the frame (same placeholders as REST, plus `{mi}` a
/// member's message in the group, `{ci}` a call from `{t}` to the owner, `{cend}` an accepted
/// call between them), and the answer for the two admitted callers ("the user", "another
/// user"): `ack` or the error code.
struct SocketRow {
    kind: &'static str,
    frame: &'static str,
    expect: [&'static str; 2],
}

#[rustfmt::skip]
const SOCKET: &[SocketRow] = &[
    SocketRow { kind: "send", frame: r#"{"type":"send","message":{"receiver_type":"group","receiver":"{g}","text":"hi"}}"#,
        expect: ["ack", "GROUP_NOT_FOUND"] },
    SocketRow { kind: "edit", frame: r#"{"type":"edit","message_id":{mo},"text":"edited"}"#,
        expect: ["ack", "MESSAGE_NOT_FOUND"] },
    SocketRow { kind: "delete", frame: r#"{"type":"delete","message_id":{mo}}"#,
        expect: ["ack", "MESSAGE_NOT_FOUND"] },
    SocketRow { kind: "receipt", frame: r#"{"type":"receipt","kind":"read","message_id":{mi}}"#,
        expect: ["ack", "MESSAGE_NOT_FOUND"] },
    SocketRow { kind: "typing_start", frame: r#"{"type":"typing_start","receiver_type":"group","receiver":"{g}"}"#,
        expect: ["ack", "GROUP_NOT_FOUND"] },
    SocketRow { kind: "typing_end", frame: r#"{"type":"typing_end","receiver_type":"group","receiver":"{g}"}"#,
        expect: ["ack", "GROUP_NOT_FOUND"] },
    SocketRow { kind: "transient", frame: r#"{"type":"transient","receiver_type":"group","receiver":"{g}","data":{}}"#,
        expect: ["ack", "GROUP_NOT_FOUND"] },
    SocketRow { kind: "call_initiate", frame: r#"{"type":"call_initiate","session_id":"new{n}","call_type":"audio","receiver_type":"group","receiver":"{g}"}"#,
        expect: ["ack", "GROUP_NOT_FOUND"] },
    SocketRow { kind: "call_accept", frame: r#"{"type":"call_accept","session_id":"{ci}"}"#,
        expect: ["ack", "FORBIDDEN"] },
    SocketRow { kind: "call_reject", frame: r#"{"type":"call_reject","session_id":"{ci}","status":"rejected"}"#,
        expect: ["ack", "FORBIDDEN"] },
    SocketRow { kind: "call_cancel", frame: r#"{"type":"call_cancel","session_id":"{c}"}"#,
        expect: ["ack", "FORBIDDEN"] },
    SocketRow { kind: "call_end", frame: r#"{"type":"call_end","session_id":"{cend}"}"#,
        expect: ["ack", "FORBIDDEN"] },
    SocketRow { kind: "ping", frame: r#"{"type":"ping"}"#,
        expect: ["ack", "ack"] },
];

/// Shared callers whose credentials no cell can change.
struct Shared {
    revoked: String,
    deactivated: String,
}

/// Fresh resources for one cell.
struct Fx {
    n: usize,
    o: String,
    ot: String,
    bt: String,
    t: String,
    tt: String,
    m: String,
    g: String,
    mo: i64,
    mi: i64,
}

async fn fixture(server: &TestServer, n: usize) -> Fx {
    let (o, b, t, m) = (
        format!("o{n}"),
        format!("b{n}"),
        format!("t{n}"),
        format!("m{n}"),
    );
    let ot = server.user_token(&o).await;
    let bt = server.user_token(&b).await;
    let tt = server.user_token(&t).await;
    let mt = server.user_token(&m).await;
    let g = format!("g{n}");
    let r = server
        .user(&ot, Method::POST, "/v1/groups")
        .json(&json!({"guid": g, "name": "Private", "type": "private"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = server
        .user(&ot, Method::POST, &format!("/v1/groups/{g}/members"))
        .json(&json!({"members": [{"uid": m}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let k = format!("k{n}");
    server.create_user(&k).await;
    let r = server
        .user(&ot, Method::POST, &format!("/v1/groups/{g}/ban"))
        .json(&json!({ "uid": k }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let send = |token: &str| {
        server
            .user(token, Method::POST, "/v1/messages")
            .json(&json!({"receiver_type": "group", "receiver": g, "text": "fixture"}))
            .send()
    };
    let mo: Value = send(&ot).await.unwrap().json().await.unwrap();
    let mi: Value = send(&mt).await.unwrap().json().await.unwrap();
    let id = |v: &Value| {
        v["data"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no message id in {v}"))
    };
    Fx {
        n,
        mo: id(&mo),
        mi: id(&mi),
        o,
        ot,
        bt,
        t,
        tt,
        m,
        g,
    }
}

/// A call from `from` to `to` (uid), initiated over a socket; accepted by `accept_token` if
/// given. Returns its session id.
async fn call(
    server: &TestServer,
    from: &str,
    to: &str,
    id: &str,
    accept_token: Option<&str>,
) -> String {
    let (mut ws, _) = server.connect(from).await;
    let ack = ws
        .request(
            json!({"type": "call_initiate", "session_id": id, "call_type": "audio",
                        "receiver_type": "user", "receiver": to}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws.close().await;
    if let Some(token) = accept_token {
        let (mut ws, _) = server.connect(token).await;
        let ack = ws
            .request(json!({"type": "call_accept", "session_id": id}))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        ws.close().await;
    }
    id.to_string()
}

/// Fills in the placeholders; calls are made only when the text asks for them.
async fn expand(server: &TestServer, fx: &Fx, text: &str) -> String {
    let mut s = text
        .replace("{o}", &fx.o)
        .replace("{t}", &fx.t)
        .replace("{m}", &fx.m)
        .replace("{k}", &format!("k{}", fx.n))
        .replace("{g}", &fx.g)
        .replace("{mo}", &fx.mo.to_string())
        .replace("{mi}", &fx.mi.to_string())
        .replace("{n}", &fx.n.to_string())
        .replace("AUTH", AUTH_KEY);
    if s.contains("{c}") {
        let id = call(server, &fx.ot, &fx.t, &format!("c{}", fx.n), None).await;
        s = s.replace("{c}", &id);
    }
    if s.contains("{ci}") {
        let id = call(server, &fx.tt, &fx.o, &format!("ci{}", fx.n), None).await;
        s = s.replace("{ci}", &id);
    }
    if s.contains("{cend}") {
        let id = call(server, &fx.tt, &fx.o, &format!("ce{}", fx.n), Some(&fx.ot)).await;
        s = s.replace("{cend}", &id);
    }
    s
}

/// The token a caller kind presents (none for "none" and "API key").
fn token_of<'a>(caller: usize, fx: &'a Fx, shared: &'a Shared) -> Option<&'a str> {
    match caller {
        1 | 2 => Some(&fx.ot),
        3 => Some(&fx.bt),
        4 => Some(&shared.revoked),
        5 => Some(&shared.deactivated),
        _ => None,
    }
}

async fn rest_cell(
    server: &TestServer,
    shared: &Shared,
    row: &Row,
    caller: usize,
    n: usize,
) -> String {
    let fx = fixture(server, n).await;
    let path = expand(server, &fx, row.path).await;
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut req = server.http.request(method, format!("{}{path}", server.url));
    if let Some(t) = token_of(caller, &fx, shared) {
        req = req.bearer_auth(t);
    }
    if caller == 1 {
        req = req.header("x-chinwag-app", "another-app");
    }
    if caller == 6 {
        req = req.header("x-api-key", API_KEY);
    }
    if let Some(body) = row.body {
        let body = expand(server, &fx, body).await;
        req = req.header("content-type", "application/json").body(body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    if status < 300 {
        return status.to_string();
    }
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    format!("{status} {}", body["code"].as_str().unwrap_or("?"))
}

/// Opens a socket as the caller; sends `frame` (if any) at once and reports the outcome:
/// `accept` / `ack` / an error code / the close code.
async fn socket_cell(
    server: &TestServer,
    shared: &Shared,
    caller: usize,
    fx: &Fx,
    frame: Option<&str>,
) -> String {
    let query = if caller == 1 {
        "app_id=another-app"
    } else {
        ""
    };
    let mut ws = if caller == 6 {
        // The API key is no socket credential.
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                server.ws_url.clone(),
            )
            .unwrap();
        req.headers_mut()
            .insert("x-api-key", API_KEY.parse().unwrap());
        let (inner, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Ws::from_stream(inner)
    } else {
        Ws::open(&server.ws_url, token_of(caller, fx, shared), query).await
    };
    if let Some(frame) = frame {
        let mut v: Value = serde_json::from_str(frame).expect("row frame is JSON");
        v["req"] = json!("cell");
        // Sent before reading anything: a refused socket must not act on it either.
        ws.send(v).await;
    }
    let mut accepted = false;
    loop {
        match ws.next().await {
            Next::Closed(code, reason) => {
                return match code {
                    Some(c) => c.to_string(),
                    None => format!("closed ({reason})"),
                }
            }
            Next::Frame(f) => {
                if f["type"] == "accept" {
                    accepted = true;
                    if frame.is_none() {
                        ws.close().await;
                        return "accept".into();
                    }
                }
                if f["req"] == "cell" {
                    assert!(accepted, "a request answered before accept: {f}");
                    let out = if f["type"] == "ack" {
                        "ack".to_string()
                    } else {
                        f["code"].as_str().unwrap_or("?").to_string()
                    };
                    ws.close().await;
                    return out;
                }
            }
        }
    }
}

/// The frame types the protocol crate accepts, from serde's own list of variants.
fn frame_types() -> BTreeSet<String> {
    let err = serde_json::from_str::<ClientFrame>(r#"{"type":"__no_such_type__"}"#)
        .expect_err("an unknown type is refused")
        .to_string();
    let list = err
        .split("expected one of")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected serde message: {err}"));
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn every_route_and_frame_type_has_a_row() {
    let served: BTreeSet<(String, String)> = chinwag_server::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let rows: BTreeSet<(String, String)> = REST
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_string()))
        .collect();
    let missing: Vec<_> = served.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&served).collect();
    assert!(missing.is_empty(), "endpoints without a row: {missing:?}");
    assert!(
        stale.is_empty(),
        "rows for endpoints the server does not serve: {stale:?}"
    );

    let kinds = frame_types();
    assert!(kinds.len() >= 10, "{kinds:?}");
    let rows: BTreeSet<String> = SOCKET.iter().map(|r| r.kind.to_string()).collect();
    assert_eq!(kinds, rows, "socket request kinds vs rows");
}

async fn setup() -> (TestServer, Shared) {
    let mut cfg = common::config();
    // Hundreds of cells from one address, some with bad credentials on purpose.
    cfg.auth_failures_per_minute = 100_000;
    cfg.upgrades_per_ip.limit = 100_000;
    cfg.max_connections_per_ip = 100_000;
    let server = TestServer::with(cfg).await;
    let revoked = server.user_token("revoked").await;
    let r = server
        .admin(Method::DELETE, "/v1/users/revoked/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deactivated = server.user_token("deactivated").await;
    let r = server
        .admin(Method::POST, "/v1/users/deactivated/deactivate")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (
        server,
        Shared {
            revoked,
            deactivated,
        },
    )
}

#[tokio::test]
async fn rest_matrix() {
    let (server, shared) = setup().await;
    let mut n = 0;
    let mut wrong = Vec::new();
    for row in REST {
        for (caller, want) in row.expect.iter().enumerate() {
            n += 1;
            let got = if row.template == chinwag_protocol::WS_PATH {
                let fx = fixture(&server, n).await;
                socket_cell(&server, &shared, caller, &fx, None).await
            } else {
                rest_cell(&server, &shared, row, caller, n).await
            };
            if got != *want {
                wrong.push(format!(
                    "{} {} as {}: want {want:?}, got {got:?}",
                    row.method, row.path, CALLERS[caller]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn socket_matrix() {
    let (server, shared) = setup().await;
    let ws_row = REST
        .iter()
        .find(|r| r.template == chinwag_protocol::WS_PATH)
        .expect("the upgrade has a row");
    let mut n = 100_000;
    let mut wrong = Vec::new();
    for row in SOCKET {
        for (caller, who) in CALLERS.iter().enumerate() {
            n += 1;
            let fx = fixture(&server, n).await;
            let want = match caller {
                2 => row.expect[0],
                3 => row.expect[1],
                // Refused at the upgrade, whatever the frame.
                _ => ws_row.expect[caller],
            };
            let frame = expand(&server, &fx, row.frame).await;
            let got = socket_cell(&server, &shared, caller, &fx, Some(&frame)).await;
            if got != want {
                wrong.push(format!("{} as {who}: want {want:?}, got {got:?}", row.kind));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
