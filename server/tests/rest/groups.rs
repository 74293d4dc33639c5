//! Groups: create, list, get, join and leave, members and the moderation scope rules.

use crate::common::*;
use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn create_group_and_errors() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    let g = ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({
                "guid": "g1", "name": "Group One", "type": "private",
                "description": "d", "metadata": {"k": 1}
            })),
        201,
    )
    .await;
    assert_eq!(g["guid"], "g1");
    assert_eq!(g["name"], "Group One");
    assert_eq!(g["type"], "private");
    assert_eq!(g["description"], "d");
    assert_eq!(g["metadata"], json!({"k": 1}));
    assert_eq!(g["owner"], "alice");
    assert_eq!(g["members_count"], 1);
    assert_eq!(g["scope"], "admin");
    assert!(g["created_at"].as_i64().unwrap() > 0);

    let g = ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g2", "name": "Two"})),
        201,
    )
    .await;
    assert_eq!(g["type"], "public");

    fails(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g1", "name": "Dup"})),
        409,
        "GROUP_EXISTS",
    )
    .await;
    for bad in [
        json!({"guid": "a b", "name": "x"}),
        json!({"guid": "", "name": "x"}),
        json!({"guid": "g3", "name": ""}),
        json!({"guid": "g3", "name": "x", "metadata": 5}),
    ] {
        fails(
            server.user(&alice, Method::POST, "/v1/groups").json(&bad),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    fails(
        server.user(&alice, Method::GET, "/v1/groups/g3"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let g = ok(server.user(&alice, Method::GET, "/v1/groups/g1"), 200).await;
    assert_eq!(g["name"], "Group One");
}

#[tokio::test]
async fn list_groups_joined_versus_public() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    for (guid, name, kind) in [
        ("pub-a", "Apples", "public"),
        ("pub-b", "Bananas", "public"),
        ("priv-c", "Cherries", "private"),
        ("under_x", "Under", "public"),
        ("underyx", "Other", "public"),
    ] {
        ok(
            server
                .user(&alice, Method::POST, "/v1/groups")
                .json(&json!({"guid": guid, "name": name, "type": kind})),
            201,
        )
        .await;
    }
    ok(
        server.user(&bob, Method::POST, "/v1/groups/pub-b/join"),
        200,
    )
    .await;

    // Public listing: every public group, joined or not, never private ones.
    let public = ok(server.user(&bob, Method::GET, "/v1/groups"), 200).await;
    assert_eq!(guids(&public), ["pub-a", "pub-b", "under_x", "underyx"]);
    let scopes: Vec<&Value> = public["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["scope"])
        .collect();
    assert_eq!(
        scopes,
        [
            &Value::Null,
            &json!("participant"),
            &Value::Null,
            &Value::Null
        ]
    );
    let public = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=false"),
        200,
    )
    .await;
    assert_eq!(guids(&public), ["pub-a", "pub-b", "under_x", "underyx"]);

    // Joined: the caller's groups, private ones included.
    let joined = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(
        guids(&joined),
        ["priv-c", "pub-a", "pub-b", "under_x", "underyx"]
    );
    assert!(joined["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["scope"] == "admin"));
    let joined = ok(
        server.user(&bob, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(guids(&joined), ["pub-b"]);
    assert_eq!(joined["groups"][0]["members_count"], 2);

    // Search by name or guid.
    let found = ok(
        server.user(&bob, Method::GET, "/v1/groups?search=anan"),
        200,
    )
    .await;
    assert_eq!(guids(&found), ["pub-b"]);
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=pub"), 200).await;
    assert_eq!(guids(&found), ["pub-a", "pub-b"]);
    let found = ok(
        server.user(&bob, Method::GET, "/v1/groups?search=cherr"),
        200,
    )
    .await;
    assert_eq!(guids(&found), Vec::<String>::new());
    let found = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true&search=cherr"),
        200,
    )
    .await;
    assert_eq!(guids(&found), ["priv-c"]);
    // LIKE wildcards in the search are literal.
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=r_x"), 200).await;
    assert_eq!(guids(&found), ["under_x"]);
    let found = ok(server.user(&bob, Method::GET, "/v1/groups?search=%25"), 200).await;
    assert_eq!(guids(&found), Vec::<String>::new());

    fails(
        server.user(&bob, Method::GET, "/v1/groups?limit=101"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        server.user(&bob, Method::GET, "/v1/groups?limit=0"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
}

#[tokio::test]
async fn list_groups_pages_with_next_after() {
    let server = TestServer::start().await;
    let alice = server.user_token("alice").await;
    for guid in ["g1", "g2", "g3"] {
        ok(
            server
                .user(&alice, Method::POST, "/v1/groups")
                .json(&json!({"guid": guid, "name": guid})),
            201,
        )
        .await;
    }
    let page = ok(server.user(&alice, Method::GET, "/v1/groups?limit=2"), 200).await;
    assert_eq!(guids(&page), ["g1", "g2"]);
    assert_eq!(page["next_after"], "g2");
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?limit=2&after=g2"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
    // A page that ends exactly at the last group is the last page.
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?joined=true&limit=3"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g1", "g2", "g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
    let page = ok(
        server.user(&alice, Method::GET, "/v1/groups?limit=1&after=g2"),
        200,
    )
    .await;
    assert_eq!(guids(&page), ["g3"]);
    assert!(page.get("next_after").is_none(), "{page}");
}

#[tokio::test]
async fn get_group_hides_private_groups_from_non_members() {
    let server = TestServer::start().await;
    let [alice, bob, carol]: [String; 3] = users(&server, &["alice", "bob", "carol"])
        .await
        .try_into()
        .unwrap();
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "secret", "name": "S", "type": "private"})),
        201,
    )
    .await;
    server.group(&alice, "open", &[]).await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/secret/members")
            .json(&json!({"members": [{"uid": "bob"}]})),
        200,
    )
    .await;

    let g = ok(server.user(&bob, Method::GET, "/v1/groups/secret"), 200).await;
    assert_eq!(g["scope"], "participant");
    assert_eq!(g["members_count"], 2);
    // A private group is answered like one that does not exist (issue 16, finding 9).
    fails(
        server.user(&carol, Method::GET, "/v1/groups/secret"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&carol, Method::GET, "/v1/groups/secret/members"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    // Public groups are visible to anyone, without a scope for non-members.
    let g = ok(server.user(&carol, Method::GET, "/v1/groups/open"), 200).await;
    assert_eq!(g["owner"], "alice");
    assert!(g.get("scope").is_none(), "{g}");
    let m = ok(
        server.user(&carol, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(member_scopes(&m), pairs(&[("alice", "admin")]));
    fails(
        server.user(&carol, Method::GET, "/v1/groups/missing"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&carol, Method::GET, "/v1/groups/missing/members"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn join_and_leave_groups() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&alice, "open", &[]).await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "closed", "name": "C", "type": "private"})),
        201,
    )
    .await;

    let g = ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
    assert_eq!(g["guid"], "open");
    assert_eq!(g["scope"], "participant");
    assert_eq!(g["members_count"], 2);
    fails(
        server.user(&bob, Method::POST, "/v1/groups/open/join"),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    fails(
        server.user(&alice, Method::POST, "/v1/groups/open/join"),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    // A private group is answered like one that does not exist (issue 16, finding 9).
    fails(
        server.user(&bob, Method::POST, "/v1/groups/closed/join"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/missing/join"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let m = ok(
        server.user(&bob, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&m),
        pairs(&[("alice", "admin"), ("bob", "participant")])
    );

    // The owner cannot leave.
    fails(
        server.user(&alice, Method::POST, "/v1/groups/open/leave"),
        403,
        "OWNER_RULE",
    )
    .await;
    let r = ok(
        server.user(&bob, Method::POST, "/v1/groups/open/leave"),
        204,
    )
    .await;
    assert_eq!(r, Value::Null);
    fails(
        server.user(&bob, Method::POST, "/v1/groups/open/leave"),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/closed/leave"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        server.user(&bob, Method::POST, "/v1/groups/missing/leave"),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    let m = ok(
        server.user(&alice, Method::GET, "/v1/groups/open/members"),
        200,
    )
    .await;
    assert_eq!(member_scopes(&m), pairs(&[("alice", "admin")]));
    let joined = ok(
        server.user(&bob, Method::GET, "/v1/groups?joined=true"),
        200,
    )
    .await;
    assert_eq!(guids(&joined), Vec::<String>::new());
    // Leaving is not a ban: bob can come back.
    ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
}

#[tokio::test]
async fn join_announces_to_members_over_the_socket() {
    let server = TestServer::start().await;
    let [alice, bob]: [String; 2] = users(&server, &["alice", "bob"]).await.try_into().unwrap();
    server.group(&alice, "open", &[]).await;
    let (mut ws, _) = server.connect(&alice).await;
    ok(server.user(&bob, Method::POST, "/v1/groups/open/join"), 200).await;
    let ev = ws.expect_event("group_member").await;
    assert_eq!(ev["data"]["action"], "joined");
    assert_eq!(ev["data"]["member"], "bob");
    assert_eq!(ev["data"]["guid"], "open");
}

#[tokio::test]
async fn add_members_is_for_admins() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dave, erin]: [String; 5] =
        users(&server, &["alice", "bob", "carol", "dave", "erin"])
            .await
            .try_into()
            .unwrap();
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups")
            .json(&json!({"guid": "g", "name": "G", "type": "private"})),
        201,
    )
    .await;
    let list = ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/members")
            .json(&json!({"members": [{"uid": "bob"}, {"uid": "carol", "scope": "moderator"}]})),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "participant"),
            ("carol", "moderator")
        ])
    );
    assert_eq!(list["members"][1]["user"]["name"], "User bob");
    assert!(list["members"][1]["joined_at"].as_i64().unwrap() > 0);

    let add = |token: &str, body: Value| {
        server
            .user(token, Method::POST, "/v1/groups/g/members")
            .json(&body)
    };
    // Participants and moderators cannot add; outsiders are not members.
    fails(
        add(&bob, json!({"members": [{"uid": "dave"}]})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        add(&carol, json!({"members": [{"uid": "dave"}]})),
        403,
        "FORBIDDEN",
    )
    .await;
    // g is private: to a non-member it does not exist (issue 16, finding 9).
    fails(
        add(&erin, json!({"members": [{"uid": "dave"}]})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    fails(
        add(&alice, json!({"members": [{"uid": "bob"}]})),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    // All or nothing: dave is not added when the list also names a missing user.
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave"}, {"uid": "ghost"}]}),
        ),
        404,
        "USER_NOT_FOUND",
    )
    .await;
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave"}, {"uid": "dave"}]}),
        ),
        409,
        "ALREADY_MEMBER",
    )
    .await;
    fails(add(&alice, json!({"members": []})), 400, "INVALID_ARGUMENT").await;
    fails(
        add(&alice, json!({"members": [{"uid": "no good"}]})),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        add(
            &alice,
            json!({"members": [{"uid": "dave", "scope": "king"}]}),
        ),
        400,
        "BAD_REQUEST",
    )
    .await;
    fails(
        server
            .user(&alice, Method::POST, "/v1/groups/missing/members")
            .json(&json!({"members": [{"uid": "dave"}]})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    // A banned user must be unbanned first.
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/ban")
            .json(&json!({"uid": "erin"})),
        204,
    )
    .await;
    fails(
        add(&alice, json!({"members": [{"uid": "erin"}]})),
        403,
        "BANNED",
    )
    .await;

    let list = ok(server.user(&bob, Method::GET, "/v1/groups/g/members"), 200).await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "participant"),
            ("carol", "moderator")
        ])
    );
    // A member added with the admin scope can add others.
    ok(
        add(
            &alice,
            json!({"members": [{"uid": "dave", "scope": "admin"}]}),
        ),
        200,
    )
    .await;
    let dave = server.login("dave").await;
    fails(
        add(&dave, json!({"members": [{"uid": "erin"}]})),
        403,
        "BANNED",
    )
    .await;
}

/// alice owns `g`; bob is an admin, carol and dan moderators, pete and paula participants.
async fn moderated_group(server: &TestServer) -> [String; 7] {
    let tokens: [String; 7] = users(
        server,
        &["alice", "bob", "carol", "dan", "pete", "paula", "olive"],
    )
    .await
    .try_into()
    .unwrap();
    server.group(&tokens[0], "g", &[]).await;
    ok(
        server
            .user(&tokens[0], Method::POST, "/v1/groups/g/members")
            .json(&json!({"members": [
                {"uid": "bob", "scope": "admin"},
                {"uid": "carol", "scope": "moderator"},
                {"uid": "dan", "scope": "moderator"},
                {"uid": "pete"},
                {"uid": "paula"},
            ]})),
        200,
    )
    .await;
    tokens
}

async fn members_of(server: &TestServer, token: &str, guid: &str) -> Vec<String> {
    let list = ok(
        server.user(token, Method::GET, &format!("/v1/groups/{guid}/members")),
        200,
    )
    .await;
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["uid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn kick_follows_the_scope_rules() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dan, pete, _paula, olive] = moderated_group(&server).await;
    let kick = |token: &str, uid: &str| {
        server
            .user(token, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": uid}))
    };

    fails(kick(&pete, "paula"), 403, "FORBIDDEN").await;
    fails(kick(&olive, "paula"), 403, "NOT_A_MEMBER").await;
    fails(kick(&carol, "dan"), 403, "FORBIDDEN").await;
    fails(kick(&carol, "bob"), 403, "FORBIDDEN").await;
    fails(kick(&carol, "alice"), 403, "OWNER_RULE").await;
    fails(kick(&bob, "alice"), 403, "OWNER_RULE").await;
    fails(kick(&carol, "carol"), 400, "INVALID_ARGUMENT").await;
    fails(kick(&carol, "olive"), 403, "NOT_A_MEMBER").await;
    fails(kick(&carol, "ghost"), 404, "USER_NOT_FOUND").await;
    fails(kick(&carol, "bad id"), 400, "INVALID_ARGUMENT").await;
    fails(
        server
            .user(&carol, Method::POST, "/v1/groups/missing/kick")
            .json(&json!({"uid": "pete"})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;
    assert_eq!(
        members_of(&server, &alice, "g").await,
        ["alice", "bob", "carol", "dan", "paula", "pete"]
    );

    // A moderator kicks a participant; an admin a moderator; the owner an admin.
    let r = ok(kick(&carol, "pete"), 204).await;
    assert_eq!(r, Value::Null);
    ok(kick(&bob, "dan"), 204).await;
    ok(kick(&alice, "bob"), 204).await;
    assert_eq!(
        members_of(&server, &alice, "g").await,
        ["alice", "carol", "paula"]
    );
    // Kicked members lose access but may rejoin a public group.
    fails(
        server
            .user(&pete, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "group", "receiver": "g", "text": "hi"
            })),
        403,
        "NOT_A_MEMBER",
    )
    .await;
    let g = ok(server.user(&pete, Method::POST, "/v1/groups/g/join"), 200).await;
    assert_eq!(g["scope"], "participant");
}

#[tokio::test]
async fn admins_cannot_kick_admins_but_the_owner_can() {
    let server = TestServer::start().await;
    let [alice, bob, ..] = moderated_group(&server).await;
    ok(
        server
            .user(&alice, Method::PUT, "/v1/groups/g/members/carol/scope")
            .json(&json!({"scope": "admin"})),
        200,
    )
    .await;
    fails(
        server
            .user(&bob, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "carol"})),
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        server
            .user(&bob, Method::POST, "/v1/groups/g/ban")
            .json(&json!({"uid": "carol"})),
        403,
        "FORBIDDEN",
    )
    .await;
    ok(
        server
            .user(&alice, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "carol"})),
        204,
    )
    .await;
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"carol".to_string()));
}

#[tokio::test]
async fn ban_and_unban_follow_the_scope_rules() {
    let server = TestServer::start().await;
    let [alice, bob, carol, dan, pete, paula, olive] = moderated_group(&server).await;
    let act = |token: &str, action: &str, uid: &str| {
        server
            .user(token, Method::POST, &format!("/v1/groups/g/{action}"))
            .json(&json!({"uid": uid}))
    };

    fails(act(&pete, "ban", "paula"), 403, "FORBIDDEN").await;
    fails(act(&olive, "ban", "paula"), 403, "NOT_A_MEMBER").await;
    fails(act(&carol, "ban", "dan"), 403, "FORBIDDEN").await;
    fails(act(&carol, "ban", "bob"), 403, "FORBIDDEN").await;
    fails(act(&carol, "ban", "alice"), 403, "OWNER_RULE").await;
    fails(act(&bob, "ban", "alice"), 403, "OWNER_RULE").await;
    fails(act(&carol, "ban", "carol"), 400, "INVALID_ARGUMENT").await;
    fails(act(&carol, "ban", "ghost"), 404, "USER_NOT_FOUND").await;

    // A moderator bans a participant: out of the group and locked out.
    let r = ok(act(&carol, "ban", "pete"), 204).await;
    assert_eq!(r, Value::Null);
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"pete".to_string()));
    fails(
        server.user(&pete, Method::POST, "/v1/groups/g/join"),
        403,
        "BANNED",
    )
    .await;
    fails(
        server.user(
            &pete,
            Method::GET,
            "/v1/messages?receiver_type=group&receiver=g",
        ),
        403,
        "BANNED",
    )
    .await;
    fails(
        server
            .user(&pete, Method::POST, "/v1/messages")
            .json(&json!({
                "receiver_type": "group", "receiver": "g", "text": "let me in"
            })),
        403,
        "BANNED",
    )
    .await;
    fails(
        server.user(&pete, Method::POST, "/v1/groups/g/leave"),
        403,
        "BANNED",
    )
    .await;
    // Non-members can be banned in advance.
    ok(act(&dan, "ban", "olive"), 204).await;
    fails(
        server.user(&olive, Method::POST, "/v1/groups/g/join"),
        403,
        "BANNED",
    )
    .await;

    // Unban: moderators and up.
    fails(act(&paula, "unban", "pete"), 403, "FORBIDDEN").await;
    fails(act(&carol, "unban", "paula"), 400, "INVALID_ARGUMENT").await;
    fails(act(&carol, "unban", "alice"), 403, "OWNER_RULE").await;
    ok(act(&dan, "unban", "pete"), 204).await;
    fails(act(&dan, "unban", "pete"), 400, "INVALID_ARGUMENT").await;
    // Unbanning does not re-add: pete joins himself.
    assert!(!members_of(&server, &alice, "g")
        .await
        .contains(&"pete".to_string()));
    ok(server.user(&pete, Method::POST, "/v1/groups/g/join"), 200).await;
    ok(act(&bob, "unban", "olive"), 204).await;
    ok(server.user(&olive, Method::POST, "/v1/groups/g/join"), 200).await;
}

#[tokio::test]
async fn change_scope_is_for_admins_and_spares_the_owner() {
    let server = TestServer::start().await;
    let [alice, bob, carol, _dan, pete, _paula, olive] = moderated_group(&server).await;
    let scope = |token: &str, uid: &str, scope: &str| {
        server
            .user(
                token,
                Method::PUT,
                &format!("/v1/groups/g/members/{uid}/scope"),
            )
            .json(&json!({"scope": scope}))
    };

    let m = ok(scope(&alice, "pete", "moderator"), 200).await;
    assert_eq!(m["user"]["uid"], "pete");
    assert_eq!(m["scope"], "moderator");
    assert!(m["joined_at"].as_i64().unwrap() > 0);
    // A non-owner admin may change scopes too.
    let m = ok(scope(&bob, "carol", "participant"), 200).await;
    assert_eq!(m["scope"], "participant");
    let list = ok(
        server.user(&alice, Method::GET, "/v1/groups/g/members"),
        200,
    )
    .await;
    assert_eq!(
        member_scopes(&list),
        pairs(&[
            ("alice", "admin"),
            ("bob", "admin"),
            ("carol", "participant"),
            ("dan", "moderator"),
            ("paula", "participant"),
            ("pete", "moderator"),
        ])
    );

    fails(scope(&pete, "paula", "moderator"), 403, "FORBIDDEN").await;
    fails(scope(&carol, "paula", "moderator"), 403, "FORBIDDEN").await;
    fails(scope(&olive, "paula", "moderator"), 403, "NOT_A_MEMBER").await;
    fails(scope(&bob, "alice", "participant"), 403, "OWNER_RULE").await;
    fails(scope(&alice, "alice", "moderator"), 403, "OWNER_RULE").await;
    fails(scope(&alice, "olive", "moderator"), 403, "NOT_A_MEMBER").await;
    fails(
        scope(&alice, "bad id", "moderator"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    fails(scope(&alice, "paula", "owner"), 400, "BAD_REQUEST").await;
    fails(
        server
            .user(
                &alice,
                Method::PUT,
                "/v1/groups/missing/members/paula/scope",
            )
            .json(&json!({"scope": "moderator"})),
        404,
        "GROUP_NOT_FOUND",
    )
    .await;

    let g = ok(server.user(&alice, Method::GET, "/v1/groups/g"), 200).await;
    assert_eq!(g["scope"], "admin");
    let g = ok(server.user(&pete, Method::GET, "/v1/groups/g"), 200).await;
    assert_eq!(g["scope"], "moderator");
    // The new scope takes effect: pete (now a moderator) can kick paula.
    ok(
        server
            .user(&pete, Method::POST, "/v1/groups/g/kick")
            .json(&json!({"uid": "paula"})),
        204,
    )
    .await;
}
