/* The chat surface through the C ABI against the real server (docs/behaviour.md, section 6):
 * groups (create, get, join, leave, list with paging, members, add with scopes, kick, ban,
 * unban, change scope) and the group listener callbacks each fires on the other members'
 * clients; group messages, typing, receipts and transient messages; authorization failures;
 * media, custom messages, edits and deletes with their events at the peer; history requests
 * (fetch previous / next, limits, cursors, filters); user list requests (limit, search, status,
 * role); users and friends; payload copies; bad input for every new function (section 9).
 * Calls are in chat_calls.c. */
#include "chat_common.h"

/* mallory owns the groups; niaj, olivia, peggy, sybil and trent are members or outsiders;
 * rupert writes the history to victor (never logged in); walter is never logged in either. */
static peer M, N, O, P, R, S, T;
static result r;     /* the completion being awaited */
static result stray; /* given to calls that must fail before anything runs: never completes */

/* Every user of the test server (server/examples/serve_for_tests.rs), by uid. */
static const char *const CAST[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "uma", "victor", "walter",
    "xena", "zoe"};
#define CAST_LEN ((int)(sizeof CAST / sizeof CAST[0]))

#define GROUP(i) ((const chinwag_group *)r.items[i])
#define MEMBER(i) ((const chinwag_group_member *)r.items[i])
#define MSG(i) ((const chinwag_message *)r.items[i])
#define USER(i) ((const chinwag_user *)r.items[i])

static const chinwag_group_member *member_named(const result *list, const char *uid) {
    size_t i;
    for (i = 0; i < list->len; i++) {
        const chinwag_group_member *m = (const chinwag_group_member *)list->items[i];
        if (strcmp(m->user.uid, uid) == 0) return m;
    }
    return NULL;
}

static int has_user(const result *page, const char *uid) {
    size_t i;
    for (i = 0; i < page->len; i++)
        if (strcmp(((const chinwag_user *)page->items[i])->uid, uid) == 0) return 1;
    return 0;
}

/* Checks a recorded membership event's fields. */
static void check_member_event(const event_rec *e, chinwag_group_action action, const char *by,
                               const char *scope, const char *old_scope, const char *group_name) {
    if (e == NULL) return;
    CHECK(e->member->action == action);
    CHECK(same_str(e->member->by, by));
    CHECK(same_str(e->member->scope, scope));
    CHECK(same_str(e->member->old_scope, old_scope));
    CHECK(same_str(e->member->group_name, group_name));
    CHECK(e->member->at > 0);
    CHECK(e->member->json != NULL && strstr(e->member->json, e->member->member) != NULL);
}

/* Sends a text and waits for its completion; returns the stored id and the muid (owned). */
static int64_t send_text_ok(peer *from, chinwag_receiver_type type, const char *to, const char *text,
                            char **muid_out) {
    char *muid = NULL;
    int64_t id = 0;
    EXPECT_OK(&r, chinwag_client_send_text(from->client, type, to, text, done_message, &r, &muid));
    if (r.one != NULL) {
        const chinwag_message *m = (const chinwag_message *)r.one;
        id = m->id;
        CHECK(same_str(m->muid, muid));
        CHECK(same_str(m->text, text));
        CHECK(same_str(m->sender, from->uid));
        CHECK(m->receiver_type == type && same_str(m->receiver, to));
    }
    if (muid_out)
        *muid_out = muid;
    else
        chinwag_string_free(muid);
    return id;
}

/* ----- bad input: before any network -------------------------------------------------------- */

static void bad_input_null_and_freed_client(chinwag_client *gone) {
    const char *uids[] = {"niaj"};
    chinwag_call *call = (chinwag_call *)&stray;
    chinwag_messages_request *mreq = NULL;
    chinwag_users_request *ureq = NULL;
    printf("chat_surface: bad input: NULL and freed client handles\n");
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "bob", NULL, &mreq));
    CHECK_OK(chinwag_users_request_new(NULL, &ureq));

#define BOTH(call_with_c)                                                                        \
    do {                                                                                         \
        chinwag_client *c = NULL;                                                                \
        CHECK_RC(call_with_c, CHINWAG_RESULT_NULL_ARGUMENT);                                     \
        c = gone;                                                                                \
        CHECK_RC(call_with_c, CHINWAG_RESULT_CLIENT_FREED);                                      \
    } while (0)

    BOTH(chinwag_client_create_group(c, "g", "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray));
    BOTH(chinwag_client_get_group(c, "g", done_group, &stray));
    BOTH(chinwag_client_join_group(c, "g", done_group, &stray));
    BOTH(chinwag_client_leave_group(c, "g", done_plain, &stray));
    BOTH(chinwag_client_list_groups(c, true, NULL, 10, done_groups, &stray));
    BOTH(chinwag_client_group_members(c, "g", done_members, &stray));
    BOTH(chinwag_client_add_group_members(c, "g", uids, NULL, 1, done_members, &stray));
    BOTH(chinwag_client_kick_group_member(c, "g", "niaj", done_plain, &stray));
    BOTH(chinwag_client_ban_group_member(c, "g", "niaj", done_plain, &stray));
    BOTH(chinwag_client_unban_group_member(c, "g", "niaj", done_plain, &stray));
    BOTH(chinwag_client_change_group_member_scope(c, "g", "niaj", CHINWAG_SCOPE_ADMIN, done_member, &stray));
    BOTH(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, "bob", CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, NULL));
    BOTH(chinwag_client_accept_call(c, "s", done_call, &stray));
    BOTH(chinwag_client_reject_call(c, "s", false, done_call, &stray));
    BOTH(chinwag_client_cancel_call(c, "s", done_call, &stray));
    BOTH(chinwag_client_end_call(c, "s", done_call, &stray));
    BOTH(chinwag_client_active_call(c, &call));
    CHECK(call == (chinwag_call *)&stray); /* out-parameters are written only on success */
    BOTH(chinwag_client_fetch_previous(c, mreq, done_messages, &stray));
    BOTH(chinwag_client_fetch_next(c, mreq, done_messages, &stray));
    BOTH(chinwag_client_fetch_users(c, ureq, done_users, &stray));
    BOTH(chinwag_client_get_user(c, "bob", done_user, &stray));
    BOTH(chinwag_client_add_friend(c, "bob", done_users, &stray));
    BOTH(chinwag_client_remove_friend(c, "bob", done_plain, &stray));
    BOTH(chinwag_client_friends(c, done_users, &stray));
    BOTH(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "image", "https://x.example/a.png", NULL, NULL, done_message, &stray, NULL));
    BOTH(chinwag_client_edit_message(c, 1, "x", NULL, NULL, done_message, &stray));
    BOTH(chinwag_client_delete_message(c, 1, done_message, &stray));
#undef BOTH
    chinwag_messages_request_free(mreq);
    chinwag_users_request_free(ureq);
}

/* A client that never logged in: the REST operations say NOT_LOGGED_IN, the socket ones
 * NOT_LOGGED_IN too (nothing to connect with). Logged in but not connected: the socket
 * operations say NOT_CONNECTED and the REST ones work. Returns the client, freed. */
static chinwag_client *bad_input_session_state(void) {
    chinwag_client *c = new_client(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    const char *uids[] = {"niaj"};
    chinwag_messages_request *mreq = NULL;
    chinwag_users_request *ureq = NULL;
    chinwag_call *call = (chinwag_call *)&stray;
    char *sid = (char *)&stray;
    printf("chat_surface: bad input: before login, and logged in but not connected\n");
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "bob", NULL, &mreq));
    CHECK_OK(chinwag_users_request_new(NULL, &ureq));

    CHECK_RC(chinwag_client_create_group(c, "g", "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_get_group(c, "g", done_group, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_join_group(c, "g", done_group, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_leave_group(c, "g", done_plain, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_list_groups(c, false, NULL, 0, done_groups, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_group_members(c, "g", done_members, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_add_group_members(c, "g", uids, NULL, 1, done_members, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_kick_group_member(c, "g", "niaj", done_plain, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_ban_group_member(c, "g", "niaj", done_plain, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_unban_group_member(c, "g", "niaj", done_plain, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_change_group_member_scope(c, "g", "niaj", CHINWAG_SCOPE_MODERATOR, done_member, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_fetch_previous(c, mreq, done_messages, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_fetch_next(c, mreq, done_messages, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_fetch_users(c, ureq, done_users, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_get_user(c, "bob", done_user, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_add_friend(c, "bob", done_users, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_remove_friend(c, "bob", done_plain, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_friends(c, done_users, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "image", "https://x.example/a.png", NULL, NULL, done_message, &stray, NULL), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, "bob", CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, &sid), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK(sid == (char *)&stray);
    CHECK_RC(chinwag_client_accept_call(c, "s", done_call, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_edit_message(c, 1, "x", NULL, NULL, done_message, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_delete_message(c, 1, done_message, &stray), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_OK(chinwag_client_active_call(c, &call));
    CHECK(call == NULL);

    /* Logged in (manual mode: no connection yet). */
    CHECK(login_and_wait(c, "walter") == 0);
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, "bob", CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, NULL), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_accept_call(c, "s", done_call, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_reject_call(c, "s", true, done_call, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_cancel_call(c, "s", done_call, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_end_call(c, "s", done_call, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_edit_message(c, 1, "x", NULL, NULL, done_message, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_delete_message(c, 1, done_message, &stray), CHINWAG_RESULT_NOT_CONNECTED);
    /* REST operations need no socket. */
    EXPECT_OK(&r, chinwag_client_get_user(c, "walter", done_user, &r));
    CHECK(r.one != NULL && strcmp(((const chinwag_user *)r.one)->uid, "walter") == 0);
    chinwag_client_free(c);
    chinwag_messages_request_free(mreq);
    chinwag_users_request_free(ureq);
    return c;
}

/* Argument checks of the new functions on a live, connected client. */
static void bad_input_arguments(chinwag_client *c) {
    const char *one[] = {"niaj"};
    const char *with_null[] = {"niaj", NULL};
    const char *bad_utf8[] = {BAD_UTF8};
    const char *empty[] = {""};
    const chinwag_scope bad_scope[] = {9};
    chinwag_messages_request_options mo;
    chinwag_users_request_options uo;
    chinwag_messages_request *mreq = (chinwag_messages_request *)&stray;
    chinwag_users_request *ureq = (chinwag_users_request *)&stray;
    chinwag_messages_request *live = NULL;
    chinwag_users_request *live_users = NULL;
    char *sid = (char *)&stray, *muid = (char *)&stray;
    char *big;
    printf("chat_surface: bad input: arguments of the new functions\n");

    big = (char *)malloc(64 * 1024 + 2);
    memset(big, 'x', 64 * 1024 + 1);
    big[64 * 1024 + 1] = '\0';

    /* groups */
    CHECK_RC(chinwag_client_create_group(c, NULL, "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    LAST_ERROR_MENTIONS("guid");
    CHECK_RC(chinwag_client_create_group(c, "g", NULL, CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    LAST_ERROR_MENTIONS("name");
    CHECK_RC(chinwag_client_create_group(c, BAD_UTF8, "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_create_group(c, "g", BAD_UTF8, CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_create_group(c, "", "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_group(c, "a b", "G", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_group(c, "g", "  ", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_group(c, "g", "G", 7, done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("group_type");
    CHECK_RC(chinwag_client_get_group(c, "", done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_get_group(c, NULL, done_group, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_join_group(c, BAD_UTF8, done_group, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_join_group(c, "", done_group, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_leave_group(c, NULL, done_plain, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_leave_group(c, "", done_plain, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_list_groups(c, false, NULL, 101, done_groups, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("limit");
    CHECK_RC(chinwag_client_list_groups(c, false, BAD_UTF8, 10, done_groups, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_group_members(c, "", done_members, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_group_members(c, BAD_UTF8, done_members, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_add_group_members(c, "g", one, NULL, 0, done_members, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("count");
    CHECK_RC(chinwag_client_add_group_members(c, "g", NULL, NULL, 1, done_members, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_add_group_members(c, "g", with_null, NULL, 2, done_members, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_add_group_members(c, "g", bad_utf8, NULL, 1, done_members, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_add_group_members(c, "g", empty, NULL, 1, done_members, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_add_group_members(c, "g", one, bad_scope, 1, done_members, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("scope");
    CHECK_RC(chinwag_client_add_group_members(c, "", one, NULL, 1, done_members, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_kick_group_member(c, "g", "", done_plain, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_kick_group_member(c, NULL, "niaj", done_plain, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_ban_group_member(c, "g", NULL, done_plain, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_ban_group_member(c, "", "niaj", done_plain, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_unban_group_member(c, "g", BAD_UTF8, done_plain, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_unban_group_member(c, "g", "", done_plain, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_change_group_member_scope(c, "g", "niaj", 3, done_member, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("scope");
    CHECK_RC(chinwag_client_change_group_member_scope(c, "g", "", CHINWAG_SCOPE_ADMIN, done_member, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_change_group_member_scope(c, NULL, "niaj", CHINWAG_SCOPE_ADMIN, done_member, &stray), CHINWAG_RESULT_NULL_ARGUMENT);

    /* calls */
    CHECK_RC(chinwag_client_initiate_call(c, 2, "niaj", CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, &sid), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("receiver_type");
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", 2, done_call, &stray, &sid), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("call_type");
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, "", CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, &sid), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_USER, NULL, CHINWAG_CALL_TYPE_AUDIO, done_call, &stray, &sid), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_initiate_call(c, CHINWAG_RECEIVER_TYPE_GROUP, BAD_UTF8, CHINWAG_CALL_TYPE_VIDEO, done_call, &stray, &sid), CHINWAG_RESULT_INVALID_UTF8);
    CHECK(sid == (char *)&stray);
    CHECK_RC(chinwag_client_accept_call(c, NULL, done_call, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_accept_call(c, "", done_call, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_reject_call(c, "", false, done_call, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_reject_call(c, BAD_UTF8, true, done_call, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_cancel_call(c, BAD_UTF8, done_call, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_cancel_call(c, "", done_call, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_end_call(c, "", done_call, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_end_call(c, NULL, done_call, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_active_call(c, NULL), CHINWAG_RESULT_NULL_ARGUMENT);

    /* history requests */
    CHECK_RC(chinwag_messages_request_new(5, "niaj", NULL, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, NULL, NULL, &mreq), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "", NULL, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_GROUP, BAD_UTF8, NULL, &mreq), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    memset(&mo, 0, sizeof mo);
    mo.struct_size = 4;
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("struct_size");
    mo.struct_size = sizeof mo;
    mo.limit = 101;
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("limit");
    mo.limit = 100;
    mo.category = "other";
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    mo.category = "";
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    mo.category = NULL;
    mo.message_type = "";
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    mo.message_type = BAD_UTF8;
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_UTF8);
    mo.message_type = NULL;
    mo.from_message_id = -1;
    CHECK_RC(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", &mo, &mreq), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(mreq == (chinwag_messages_request *)&stray);

    /* freed and foreign request handles */
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "niaj", NULL, &live));
    CHECK_OK(chinwag_users_request_new(NULL, &live_users));
    CHECK_RC(chinwag_client_fetch_previous(c, NULL, done_messages, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_fetch_next(c, NULL, done_messages, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_fetch_users(c, NULL, done_users, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    /* A users request is no messages request, and the other way round. */
    CHECK_RC(chinwag_client_fetch_previous(c, (const chinwag_messages_request *)live_users, done_messages, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_fetch_users(c, (const chinwag_users_request *)live, done_users, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    chinwag_messages_request_free(live);
    chinwag_users_request_free(live_users);
    CHECK_RC(chinwag_client_fetch_previous(c, live, done_messages, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("not a live request");
    CHECK_RC(chinwag_client_fetch_next(c, live, done_messages, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_fetch_users(c, live_users, done_users, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("not a live request");
    chinwag_client_connect(NULL);
    chinwag_messages_request_free(live); /* twice: refused, recorded */
    LAST_ERROR_MENTIONS("not a live request");
    chinwag_client_connect(NULL);
    chinwag_users_request_free(live_users);
    LAST_ERROR_MENTIONS("not a live request");
    chinwag_messages_request_free(NULL);
    chinwag_users_request_free(NULL);

    /* user requests */
    CHECK_RC(chinwag_users_request_new(NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    memset(&uo, 0, sizeof uo);
    CHECK_RC(chinwag_users_request_new(&uo, &ureq), CHINWAG_RESULT_INVALID_ARGUMENT); /* struct_size 0 */
    uo.struct_size = sizeof uo;
    uo.limit = 101;
    CHECK_RC(chinwag_users_request_new(&uo, &ureq), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("limit");
    uo.limit = 0;
    uo.status = "away";
    CHECK_RC(chinwag_users_request_new(&uo, &ureq), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("status");
    uo.status = NULL;
    uo.search = "";
    CHECK_RC(chinwag_users_request_new(&uo, &ureq), CHINWAG_RESULT_INVALID_ARGUMENT);
    uo.search = NULL;
    uo.role = BAD_UTF8;
    CHECK_RC(chinwag_users_request_new(&uo, &ureq), CHINWAG_RESULT_INVALID_UTF8);
    CHECK(ureq == (chinwag_users_request *)&stray);

    /* users and friends */
    CHECK_RC(chinwag_client_get_user(c, NULL, done_user, &stray), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_get_user(c, "", done_user, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_add_friend(c, BAD_UTF8, done_users, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_add_friend(c, "", done_users, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_remove_friend(c, "", done_plain, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_remove_friend(c, NULL, done_plain, &stray), CHINWAG_RESULT_NULL_ARGUMENT);

    /* media, edits, deletes */
    CHECK_RC(chinwag_client_send_media(c, 9, "niaj", "image", "https://x.example/a.png", NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "", "image", "https://x.example/a.png", NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", NULL, "https://x.example/a.png", NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "gif", "https://x.example/a.png", NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("media_type");
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", NULL, NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", " ", NULL, NULL, done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("url");
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", "https://x.example/a.png", BAD_UTF8, NULL, done_message, &stray, &muid), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", "https://x.example/a.png", big, NULL, done_message, &stray, &muid), CHINWAG_RESULT_TEXT_TOO_LONG);
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", "https://x.example/a.png", NULL, "[1]", done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("metadata_json");
    CHECK_RC(chinwag_client_send_media(c, CHINWAG_RECEIVER_TYPE_USER, "niaj", "image", "https://x.example/a.png", NULL, "{", done_message, &stray, &muid), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(muid == (char *)&stray);
    CHECK_RC(chinwag_client_edit_message(c, 0, "x", NULL, NULL, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_edit_message(c, -5, "x", NULL, NULL, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_edit_message(c, 1, NULL, NULL, NULL, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_edit_message(c, 1, "", NULL, NULL, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_edit_message(c, 1, BAD_UTF8, NULL, NULL, done_message, &stray), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_edit_message(c, 1, big, NULL, NULL, done_message, &stray), CHINWAG_RESULT_TEXT_TOO_LONG);
    CHECK_RC(chinwag_client_edit_message(c, 1, NULL, "{oops", NULL, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_edit_message(c, 1, NULL, NULL, "3", done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_delete_message(c, 0, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_delete_message(c, -1, done_message, &stray), CHINWAG_RESULT_INVALID_ARGUMENT);
    free(big);
}

/* Copies: NULL, something that is no payload, and frees of things that are no live copy. */
static void bad_input_copies(void) {
    chinwag_message fake_message;
    chinwag_user fake_user;
    chinwag_group fake_group;
    chinwag_group_member fake_member;
    chinwag_group_member_event fake_event;
    chinwag_call fake_call;
    chinwag_receipt fake_receipt;
    chinwag_message *m = (chinwag_message *)&stray;
    chinwag_call *call = (chinwag_call *)&stray;
    chinwag_user *u = (chinwag_user *)&stray;
    chinwag_group *g = (chinwag_group *)&stray;
    chinwag_group_member *gm = (chinwag_group_member *)&stray;
    chinwag_group_member_event *ge = (chinwag_group_member_event *)&stray;
    chinwag_receipt *rc = (chinwag_receipt *)&stray;
    printf("chat_surface: bad input: payload copies\n");
    memset(&fake_message, 0, sizeof fake_message);
    memset(&fake_user, 0, sizeof fake_user);
    memset(&fake_group, 0, sizeof fake_group);
    memset(&fake_member, 0, sizeof fake_member);
    memset(&fake_event, 0, sizeof fake_event);
    memset(&fake_call, 0, sizeof fake_call);
    memset(&fake_receipt, 0, sizeof fake_receipt);

    CHECK_RC(chinwag_message_copy(NULL, &m), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_message_copy(&fake_message, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_message_copy(&fake_message, &m), CHINWAG_RESULT_INVALID_ARGUMENT); /* json NULL */
    LAST_ERROR_MENTIONS("json");
    fake_message.json = "{\"nope\": true}";
    CHECK_RC(chinwag_message_copy(&fake_message, &m), CHINWAG_RESULT_INVALID_ARGUMENT);
    fake_message.json = "not json";
    CHECK_RC(chinwag_message_copy(&fake_message, &m), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(m == (chinwag_message *)&stray);
    CHECK_RC(chinwag_user_copy(&fake_user, &u), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_user_copy(NULL, &u), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_group_copy(&fake_group, &g), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_group_member_copy(&fake_member, &gm), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_group_member_event_copy(&fake_event, &ge), CHINWAG_RESULT_INVALID_ARGUMENT);
    fake_call.json = "{\"session_id\": 5}";
    CHECK_RC(chinwag_call_copy(&fake_call, &call), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_receipt_copy(&fake_receipt, &rc), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK((void *)u == (void *)&stray && (void *)g == (void *)&stray && (void *)gm == (void *)&stray);
    CHECK((void *)ge == (void *)&stray && (void *)call == (void *)&stray && (void *)rc == (void *)&stray);
    CHECK(m == (chinwag_message *)&stray);

    /* Freeing what is no live copy is refused and recorded; NULL is a no-op. */
#define REFUSED(free_call)                                                                       \
    do {                                                                                         \
        chinwag_client_connect(NULL);                                                            \
        free_call;                                                                               \
        LAST_ERROR_MENTIONS("not a live copy");                                                  \
    } while (0)
    REFUSED(chinwag_message_free(&fake_message));
    REFUSED(chinwag_user_free(&fake_user));
    REFUSED(chinwag_group_free(&fake_group));
    REFUSED(chinwag_group_member_free(&fake_member));
    REFUSED(chinwag_group_member_event_free(&fake_event));
    REFUSED(chinwag_call_free(&fake_call));
    REFUSED(chinwag_receipt_free(&fake_receipt));
    chinwag_message_free(NULL);
    chinwag_user_free(NULL);
    chinwag_group_free(NULL);
    chinwag_group_member_free(NULL);
    chinwag_group_member_event_free(NULL);
    chinwag_call_free(NULL);
    chinwag_receipt_free(NULL);
}

/* At the end, with no client left (so no other copy can take a freed address): a copy freed
 * as another type is refused, and freeing it twice is refused. */
static void copies_type_and_double_free(const chinwag_message *kept) {
    chinwag_message *copy = NULL;
    chinwag_message *again = NULL;
    printf("chat_surface: payload copies: another type, twice\n");
    CHECK_OK(chinwag_message_copy(kept, &copy)); /* a copy of a copy */
    if (copy == NULL) return;
    CHECK(copy->id == kept->id && same_str(copy->text, kept->text) && copy != kept);
    REFUSED(chinwag_call_free((chinwag_call *)copy));
    REFUSED(chinwag_user_free((chinwag_user *)copy));
    CHECK(copy->id == kept->id && same_str(copy->muid, kept->muid)); /* still intact */
    CHECK_OK(chinwag_message_copy(copy, &again));
    chinwag_message_free(copy);
    REFUSED(chinwag_message_free(copy));
    CHECK(again != NULL && again->id == kept->id);
    chinwag_message_free(again);
#undef REFUSED
}

/* ----- groups ---------------------------------------------------------------------------------- */

static void private_group(void) {
    const char *three[] = {"niaj", "olivia", "peggy"};
    const chinwag_scope scopes[] = {CHINWAG_SCOPE_PARTICIPANT, CHINWAG_SCOPE_MODERATOR, CHINWAG_SCOPE_PARTICIPANT};
    const char *sybil[] = {"sybil"};
    const char *with_unknown[] = {"trent", "nobody-here"};
    const char *trent[] = {"trent"};
    const char *niaj[] = {"niaj"};
    const chinwag_group *g;
    const chinwag_group_member *mm;
    const event_rec *e;
    printf("chat_surface: a private group: create, add with scopes, get, members\n");

    EXPECT_OK(&r, chinwag_client_create_group(M.client, "cs-private", "Surface crew", CHINWAG_GROUP_TYPE_PRIVATE, done_group, &r));
    g = (const chinwag_group *)r.one;
    if (g != NULL) { /* a copy kept after the completion returned */
        CHECK(strcmp(g->guid, "cs-private") == 0);
        CHECK(strcmp(g->name, "Surface crew") == 0);
        CHECK(g->group_type == CHINWAG_GROUP_TYPE_PRIVATE);
        CHECK(strcmp(g->owner, "mallory") == 0);
        CHECK(same_str(g->scope, "admin"));
        CHECK(g->members_count == 1);
        CHECK(g->created_at > 0);
        CHECK(same_str(g->metadata_json, "{}"));
        CHECK(g->description == NULL);
        CHECK(strstr(g->json, "cs-private") != NULL);
    }
    /* The guid is taken. */
    EXPECT_DONE(&r, chinwag_client_create_group(N.client, "cs-private", "Again", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &r), CHINWAG_RESULT_SERVER_REJECTED);
    CHECK(strstr(r.error, "GROUP_EXISTS") != NULL);

    /* Add three with scopes: the whole member list comes back. */
    EXPECT_OK(&r, chinwag_client_add_group_members(M.client, "cs-private", three, scopes, 3, done_members, &r));
    CHECK(r.len == 4);
    CHECK((mm = member_named(&r, "mallory")) != NULL && same_str(mm->scope, "admin"));
    CHECK((mm = member_named(&r, "niaj")) != NULL && same_str(mm->scope, "participant") && same_str(mm->user.name, "Niaj") && mm->joined_at > 0);
    CHECK((mm = member_named(&r, "olivia")) != NULL && same_str(mm->scope, "moderator"));
    CHECK((mm = member_named(&r, "peggy")) != NULL && same_str(mm->scope, "participant"));
    /* Every member hears each addition from then on, the added user included. */
    e = WAIT_EVENT(&N, EV_ADDED, "cs-private", "niaj");
    check_member_event(e, CHINWAG_GROUP_ACTION_ADDED, "mallory", "participant", NULL, "Surface crew");
    e = WAIT_EVENT(&N, EV_ADDED, "cs-private", "olivia");
    check_member_event(e, CHINWAG_GROUP_ACTION_ADDED, "mallory", "moderator", NULL, "Surface crew");
    WAIT_EVENT(&N, EV_ADDED, "cs-private", "peggy");
    WAIT_EVENT(&O, EV_ADDED, "cs-private", "olivia");
    WAIT_EVENT(&O, EV_ADDED, "cs-private", "peggy");
    e = WAIT_EVENT(&P, EV_ADDED, "cs-private", "peggy");
    check_member_event(e, CHINWAG_GROUP_ACTION_ADDED, "mallory", "participant", NULL, "Surface crew");
    /* NULL scopes: a participant. */
    EXPECT_OK(&r, chinwag_client_add_group_members(M.client, "cs-private", sybil, NULL, 1, done_members, &r));
    CHECK(r.len == 5 && (mm = member_named(&r, "sybil")) != NULL && same_str(mm->scope, "participant"));
    e = WAIT_EVENT(&S, EV_ADDED, "cs-private", "sybil");
    check_member_event(e, CHINWAG_GROUP_ACTION_ADDED, "mallory", "participant", NULL, "Surface crew");
    WAIT_EVENT(&O, EV_ADDED, "cs-private", "sybil");

    /* Atomic: one unknown user, nobody added. Only admins add. Members cannot be added twice. */
    EXPECT_DONE(&r, chinwag_client_add_group_members(M.client, "cs-private", with_unknown, NULL, 2, done_members, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_add_group_members(O.client, "cs-private", trent, NULL, 1, done_members, &r), CHINWAG_RESULT_FORBIDDEN);
    CHECK(AWAIT(&r, chinwag_client_add_group_members(M.client, "cs-private", niaj, NULL, 1, done_members, &r)) != CHINWAG_RESULT_OK);
    CHECK(strstr(r.error, "ALREADY_MEMBER") != NULL);
    EXPECT_OK(&r, chinwag_client_group_members(N.client, "cs-private", done_members, &r));
    CHECK(r.len == 5 && member_named(&r, "trent") == NULL);

    /* get: the caller's scope; private groups are hidden from non-members. */
    EXPECT_OK(&r, chinwag_client_get_group(N.client, "cs-private", done_group, &r));
    g = (const chinwag_group *)r.one;
    CHECK(g != NULL && same_str(g->scope, "participant") && g->members_count == 5 && same_str(g->owner, "mallory"));
    EXPECT_OK(&r, chinwag_client_get_group(O.client, "cs-private", done_group, &r));
    CHECK(r.one != NULL && same_str(((const chinwag_group *)r.one)->scope, "moderator"));
    /* To a non-member a private group is answered like a missing one. */
    EXPECT_DONE(&r, chinwag_client_get_group(T.client, "cs-private", done_group, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_get_group(T.client, "cs-nowhere", done_group, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_group_members(T.client, "cs-private", done_members, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_join_group(T.client, "cs-private", done_group, &r), CHINWAG_RESULT_NOT_FOUND);
}

static void private_group_moderation(void) {
    const event_rec *e;
    const chinwag_group_member *mm;
    printf("chat_surface: a private group: kick, scope changes, leave, and who may do them\n");

    /* A participant may not kick; a moderator may not kick the owner; a moderator kicks a
     * participant: every member and the kicked user hear it. */
    EXPECT_DONE(&r, chinwag_client_kick_group_member(N.client, "cs-private", "sybil", done_plain, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_kick_group_member(O.client, "cs-private", "mallory", done_plain, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_OK(&r, chinwag_client_kick_group_member(O.client, "cs-private", "peggy", done_plain, &r));
    e = WAIT_EVENT(&M, EV_KICKED, "cs-private", "peggy");
    check_member_event(e, CHINWAG_GROUP_ACTION_KICKED, "olivia", NULL, NULL, "Surface crew");
    WAIT_EVENT(&N, EV_KICKED, "cs-private", "peggy");
    WAIT_EVENT(&S, EV_KICKED, "cs-private", "peggy");
    WAIT_EVENT(&P, EV_KICKED, "cs-private", "peggy");
    /* Kicking someone who is no member any more. */
    CHECK(AWAIT(&r, chinwag_client_kick_group_member(O.client, "cs-private", "peggy", done_plain, &r)) != CHINWAG_RESULT_OK);

    /* Non-members posting to a private group: NOT_FOUND in the send completion (to them a
     * private group does not exist). */
    EXPECT_DONE(&r, chinwag_client_send_text(P.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "let me back", done_message, &r, NULL), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_send_text(T.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "hello?", done_message, &r, NULL), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_send_media(T.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "image", "https://x.example/a.png", NULL, NULL, done_message, &r, NULL), CHINWAG_RESULT_NOT_FOUND);

    /* Scope change (admins only): niaj becomes a moderator. */
    EXPECT_OK(&r, chinwag_client_change_group_member_scope(M.client, "cs-private", "niaj", CHINWAG_SCOPE_MODERATOR, done_member, &r));
    mm = (const chinwag_group_member *)r.one;
    CHECK(mm != NULL && same_str(mm->user.uid, "niaj") && same_str(mm->scope, "moderator") && mm->joined_at > 0);
    e = WAIT_EVENT(&O, EV_SCOPE_CHANGED, "cs-private", "niaj");
    check_member_event(e, CHINWAG_GROUP_ACTION_SCOPE_CHANGED, "mallory", "moderator", "participant", "Surface crew");
    WAIT_EVENT(&N, EV_SCOPE_CHANGED, "cs-private", "niaj");
    WAIT_EVENT(&S, EV_SCOPE_CHANGED, "cs-private", "niaj");
    EXPECT_DONE(&r, chinwag_client_change_group_member_scope(N.client, "cs-private", "sybil", CHINWAG_SCOPE_MODERATOR, done_member, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_change_group_member_scope(M.client, "cs-private", "mallory", CHINWAG_SCOPE_PARTICIPANT, done_member, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_change_group_member_scope(M.client, "cs-private", "trent", CHINWAG_SCOPE_ADMIN, done_member, &r), CHINWAG_RESULT_FORBIDDEN);

    /* Leave: the others hear it; the owner and non-members cannot. */
    EXPECT_OK(&r, chinwag_client_leave_group(S.client, "cs-private", done_plain, &r));
    e = WAIT_EVENT(&M, EV_LEFT, "cs-private", "sybil");
    check_member_event(e, CHINWAG_GROUP_ACTION_LEFT, "sybil", NULL, NULL, "Surface crew");
    WAIT_EVENT(&N, EV_LEFT, "cs-private", "sybil");
    WAIT_EVENT(&O, EV_LEFT, "cs-private", "sybil");
    EXPECT_DONE(&r, chinwag_client_leave_group(M.client, "cs-private", done_plain, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_leave_group(P.client, "cs-private", done_plain, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_OK(&r, chinwag_client_group_members(M.client, "cs-private", done_members, &r));
    CHECK(r.len == 3 && member_named(&r, "mallory") && member_named(&r, "niaj") && member_named(&r, "olivia"));
}

static void public_group(void) {
    const chinwag_group *g;
    const event_rec *e;
    const char *rupert[] = {"rupert"};
    printf("chat_surface: a public group: join, ban, unban, kick, rejoin, leave\n");
    EXPECT_OK(&r, chinwag_client_create_group(M.client, "cs-public", "Open room", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &r));
    CHECK(r.one != NULL && ((const chinwag_group *)r.one)->group_type == CHINWAG_GROUP_TYPE_PUBLIC);

    /* Anyone may see and join a public group; the members hear it. */
    EXPECT_OK(&r, chinwag_client_get_group(T.client, "cs-public", done_group, &r));
    CHECK(r.one != NULL && ((const chinwag_group *)r.one)->scope == NULL); /* not a member */
    EXPECT_OK(&r, chinwag_client_join_group(T.client, "cs-public", done_group, &r));
    g = (const chinwag_group *)r.one;
    CHECK(g != NULL && same_str(g->scope, "participant") && g->members_count == 2 && g->group_type == CHINWAG_GROUP_TYPE_PUBLIC);
    e = WAIT_EVENT(&M, EV_JOINED, "cs-public", "trent");
    check_member_event(e, CHINWAG_GROUP_ACTION_JOINED, "trent", "participant", NULL, "Open room");
    CHECK(AWAIT(&r, chinwag_client_join_group(T.client, "cs-public", done_group, &r)) != CHINWAG_RESULT_OK);
    CHECK(strstr(r.error, "ALREADY_MEMBER") != NULL);
    EXPECT_OK(&r, chinwag_client_join_group(R.client, "cs-public", done_group, &r));
    WAIT_EVENT(&M, EV_JOINED, "cs-public", "rupert");
    WAIT_EVENT(&T, EV_JOINED, "cs-public", "rupert");

    /* Ban: out, and unable to rejoin or be added until unbanned. */
    EXPECT_OK(&r, chinwag_client_ban_group_member(M.client, "cs-public", "rupert", done_plain, &r));
    e = WAIT_EVENT(&T, EV_BANNED, "cs-public", "rupert");
    check_member_event(e, CHINWAG_GROUP_ACTION_BANNED, "mallory", NULL, NULL, "Open room");
    WAIT_EVENT(&R, EV_BANNED, "cs-public", "rupert");
    EXPECT_DONE(&r, chinwag_client_join_group(R.client, "cs-public", done_group, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_add_group_members(M.client, "cs-public", rupert, NULL, 1, done_members, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_send_text(R.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-public", "still here?", done_message, &r, NULL), CHINWAG_RESULT_FORBIDDEN);
    /* A participant may not ban or unban. */
    EXPECT_DONE(&r, chinwag_client_unban_group_member(T.client, "cs-public", "rupert", done_plain, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_OK(&r, chinwag_client_unban_group_member(M.client, "cs-public", "rupert", done_plain, &r));
    e = WAIT_EVENT(&T, EV_UNBANNED, "cs-public", "rupert");
    check_member_event(e, CHINWAG_GROUP_ACTION_UNBANNED, "mallory", NULL, NULL, "Open room");
    WAIT_EVENT(&R, EV_UNBANNED, "cs-public", "rupert");
    CHECK(AWAIT(&r, chinwag_client_unban_group_member(M.client, "cs-public", "rupert", done_plain, &r)) != CHINWAG_RESULT_OK);
    EXPECT_OK(&r, chinwag_client_join_group(R.client, "cs-public", done_group, &r));
    WAIT_FOR(count_events_locked(&T, EV_JOINED, "cs-public", "rupert") == 2);

    /* Kicked from a public group: may rejoin. */
    EXPECT_DONE(&r, chinwag_client_kick_group_member(T.client, "cs-public", "rupert", done_plain, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_OK(&r, chinwag_client_kick_group_member(M.client, "cs-public", "rupert", done_plain, &r));
    e = WAIT_EVENT(&T, EV_KICKED, "cs-public", "rupert");
    check_member_event(e, CHINWAG_GROUP_ACTION_KICKED, "mallory", NULL, NULL, "Open room");
    WAIT_EVENT(&R, EV_KICKED, "cs-public", "rupert");
    EXPECT_OK(&r, chinwag_client_join_group(R.client, "cs-public", done_group, &r));
    EXPECT_OK(&r, chinwag_client_group_members(M.client, "cs-public", done_members, &r));
    CHECK(r.len == 3);

    /* Leave. */
    EXPECT_OK(&r, chinwag_client_leave_group(T.client, "cs-public", done_plain, &r));
    WAIT_EVENT(&M, EV_LEFT, "cs-public", "trent");
    WAIT_EVENT(&R, EV_LEFT, "cs-public", "trent");
}

static void group_lists(void) {
    static const char *const mine[] = {"cs-list-a", "cs-list-b", "cs-list-c", "cs-public"};
    int found[4] = {0, 0, 0, 0};
    char after[128];
    int pages = 0, i;
    size_t k;
    printf("chat_surface: group lists: public and joined, paged with next_after\n");
    EXPECT_OK(&r, chinwag_client_create_group(M.client, "cs-list-a", "List A", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &r));
    EXPECT_OK(&r, chinwag_client_create_group(M.client, "cs-list-b", "List B", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &r));
    EXPECT_OK(&r, chinwag_client_create_group(M.client, "cs-list-c", "List C", CHINWAG_GROUP_TYPE_PUBLIC, done_group, &r));
    EXPECT_OK(&r, chinwag_client_create_group(O.client, "cs-hidden", "Hidden", CHINWAG_GROUP_TYPE_PRIVATE, done_group, &r));
    EXPECT_OK(&r, chinwag_client_join_group(N.client, "cs-list-a", done_group, &r));
    EXPECT_OK(&r, chinwag_client_join_group(N.client, "cs-list-b", done_group, &r));

    /* Public groups, two per page, from an outsider: every public group of ours, no private. */
    after[0] = '\0';
    for (;;) {
        const char *prev_last = NULL;
        EXPECT_OK(&r, chinwag_client_list_groups(T.client, false, after[0] ? after : NULL, 2, done_groups, &r));
        if (r.runs == 0 || r.code != 0) break;
        pages++;
        CHECK(r.len <= 2);
        for (k = 0; k < r.len; k++) {
            CHECK(GROUP(k)->group_type == CHINWAG_GROUP_TYPE_PUBLIC);
            CHECK(strcmp(GROUP(k)->guid, "cs-hidden") != 0 && strcmp(GROUP(k)->guid, "cs-private") != 0);
            CHECK(strcmp(GROUP(k)->guid, after) > 0); /* ordered by guid, after the cursor */
            if (prev_last) CHECK(strcmp(GROUP(k)->guid, prev_last) > 0);
            prev_last = GROUP(k)->guid;
            for (i = 0; i < 4; i++)
                if (strcmp(GROUP(k)->guid, mine[i]) == 0) {
                    found[i]++;
                    CHECK(GROUP(k)->scope == NULL); /* trent is in none of them now */
                }
        }
        if (r.next_after == NULL) break;
        CHECK(r.len == 2 && strcmp(r.next_after, GROUP(r.len - 1)->guid) == 0);
        snprintf(after, sizeof after, "%s", r.next_after);
        if (pages > 50) break;
    }
    CHECK(pages >= 2);
    for (i = 0; i < 4; i++)
        if (found[i] != 1) fail_at(__FILE__, __LINE__, "public list: %s seen %d times", mine[i], found[i]);

    /* Joined groups, one per page: exactly niaj's, with niaj's scope in each. */
    EXPECT_OK(&r, chinwag_client_list_groups(N.client, true, NULL, 1, done_groups, &r));
    CHECK(r.len == 1 && strcmp(GROUP(0)->guid, "cs-list-a") == 0 && same_str(GROUP(0)->scope, "participant"));
    CHECK(same_str(r.next_after, "cs-list-a"));
    EXPECT_OK(&r, chinwag_client_list_groups(N.client, true, "cs-list-a", 1, done_groups, &r));
    CHECK(r.len == 1 && strcmp(GROUP(0)->guid, "cs-list-b") == 0);
    CHECK(same_str(r.next_after, "cs-list-b"));
    EXPECT_OK(&r, chinwag_client_list_groups(N.client, true, "cs-list-b", 1, done_groups, &r));
    CHECK(r.len == 1 && strcmp(GROUP(0)->guid, "cs-private") == 0 && same_str(GROUP(0)->scope, "moderator"));
    CHECK(r.next_after == NULL);
    EXPECT_OK(&r, chinwag_client_list_groups(N.client, true, NULL, 0, done_groups, &r)); /* 0: 30 */
    CHECK(r.len == 3 && r.next_after == NULL);
    EXPECT_OK(&r, chinwag_client_list_groups(P.client, true, NULL, 10, done_groups, &r)); /* kicked */
    CHECK(r.len == 0 && r.next_after == NULL);
}

/* ----- group conversation ------------------------------------------------------------------- */

static void group_conversation(void) {
    char *hello = NULL, *reply = NULL, *media = NULL, *direct = NULL, *pub = NULL;
    int64_t hello_id, pub_id;
    const event_rec *e;
    printf("chat_surface: group messages, typing, receipts, transient, media, moderator delete\n");
    /* cs-private: mallory (admin), niaj and olivia (moderators). */
    hello_id = send_text_ok(&M, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "hello crew", &hello);
    e = WAIT_EVENT(&N, EV_TEXT, hello, "mallory");
    if (e) {
        CHECK(e->message->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP);
        CHECK(same_str(e->message->receiver, "cs-private"));
        CHECK(same_str(e->message->text, "hello crew"));
        CHECK(same_str(e->message->category, "message") && same_str(e->message->message_type, "text"));
        CHECK(e->message->id == hello_id && e->message->sent_at > 0);
        CHECK(e->message->conversation_id != NULL && e->message->conversation_id[0] != '\0');
    }
    WAIT_EVENT(&O, EV_TEXT, hello, "mallory");
    /* Barrier: niaj answers; once mallory has the answer, an echo of her own would have come. */
    send_text_ok(&N, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "hi mallory", &reply);
    WAIT_EVENT(&M, EV_TEXT, reply, "niaj");
    CHECK(count_events(&M, EV_TEXT, hello, NULL) == 0);
    /* The kicked peggy and the outsider trent hear nothing of it (barrier: a direct message). */
    send_text_ok(&M, CHINWAG_RECEIVER_TYPE_USER, "peggy", "you were kicked", &direct);
    WAIT_EVENT(&P, EV_TEXT, direct, "mallory");
    CHECK(count_events(&P, EV_TEXT, hello, NULL) == 0);

    /* Group typing. */
    CHECK_OK(chinwag_client_start_typing(N.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private"));
    e = WAIT_EVENT(&M, EV_TYPING_STARTED, "niaj", "cs-private");
    CHECK(e != NULL && e->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP);
    WAIT_EVENT(&O, EV_TYPING_STARTED, "niaj", "cs-private");
    CHECK_OK(chinwag_client_end_typing(N.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private"));
    WAIT_EVENT(&M, EV_TYPING_ENDED, "niaj", "cs-private");
    WAIT_EVENT(&O, EV_TYPING_ENDED, "niaj", "cs-private");

    /* Receipts on a group message reach its sender. */
    CHECK_OK(chinwag_client_mark_delivered(O.client, hello_id));
    e = WAIT_EVENT(&M, EV_DELIVERED, "olivia", "cs-private");
    if (e) {
        CHECK(e->receipt->kind == CHINWAG_RECEIPT_KIND_DELIVERED);
        CHECK(e->receipt->message_id == hello_id);
        CHECK(same_str(e->receipt->message_sender, "mallory"));
        CHECK(e->receipt->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP);
        CHECK(e->receipt->at > 0);
    }
    CHECK_OK(chinwag_client_mark_read(O.client, hello_id));
    e = WAIT_EVENT(&M, EV_READ, "olivia", "cs-private");
    CHECK(e != NULL && e->receipt->kind == CHINWAG_RECEIPT_KIND_READ && e->receipt->message_id == hello_id);

    /* Transient to a group. */
    CHECK_OK(chinwag_client_send_transient(M.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "{\"emoji\":\"wave\"}"));
    e = WAIT_EVENT(&N, EV_TRANSIENT, "mallory", "cs-private");
    CHECK(e != NULL && e->data != NULL && strstr(e->data, "wave") != NULL && e->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP);
    WAIT_EVENT(&O, EV_TRANSIENT, "mallory", "cs-private");

    /* Media to a group, then a moderator deletes it: everyone hears the delete. */
    EXPECT_OK(&r, chinwag_client_send_media(O.client, CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", "video", "https://cdn.example.com/clip.mp4", "our clip", NULL, done_message, &r, &media));
    e = WAIT_EVENT(&M, EV_MEDIA, media, "olivia");
    CHECK(e != NULL && same_str(e->message->message_type, "video") && strstr(e->message->json, "clip.mp4") != NULL);
    WAIT_EVENT(&N, EV_MEDIA, media, "olivia");
    if (e) {
        int64_t media_id = e->message->id;
        EXPECT_OK(&r, chinwag_client_delete_message(N.client, media_id, done_message, &r));
        CHECK(r.one != NULL && ((const chinwag_message *)r.one)->deleted_at > 0);
        e = WAIT_EVENT(&M, EV_DELETED, media, "olivia");
        CHECK(e != NULL && e->message->id == media_id && e->message->deleted_at > 0 && e->message->text == NULL);
        WAIT_EVENT(&O, EV_DELETED, media, "olivia");
    }

    /* In cs-public rupert is a participant: he cannot delete mallory's message. */
    pub_id = send_text_ok(&M, CHINWAG_RECEIVER_TYPE_GROUP, "cs-public", "house rules", &pub);
    WAIT_EVENT(&R, EV_TEXT, pub, "mallory");
    EXPECT_DONE(&r, chinwag_client_delete_message(R.client, pub_id, done_message, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_edit_message(R.client, pub_id, "my rules", NULL, NULL, done_message, &r), CHINWAG_RESULT_FORBIDDEN);

    chinwag_string_free(hello);
    chinwag_string_free(reply);
    chinwag_string_free(media);
    chinwag_string_free(direct);
    chinwag_string_free(pub);
}

/* ----- one-to-one: media, custom, edits, deletes, transient ------------------------------------ */

static void direct_messages(void) {
    char *image = NULL, *file = NULL, *custom = NULL, *draft = NULL, *barrier = NULL, *plain = NULL;
    int64_t image_id = 0, custom_id = 0, draft_id;
    const event_rec *e;
    const chinwag_message *m;
    printf("chat_surface: media, custom messages, edits, deletes, transient between two users\n");

    /* Media with caption and metadata: the URL and metadata arrive in the message's JSON. */
    EXPECT_OK(&r, chinwag_client_send_media(S.client, CHINWAG_RECEIVER_TYPE_USER, "trent", "image", "https://cdn.example.com/cat.png", "a cat", "{\"w\":640,\"h\":480}", done_message, &r, &image));
    m = (const chinwag_message *)r.one;
    if (m) {
        image_id = m->id;
        CHECK(same_str(m->muid, image) && same_str(m->message_type, "image") && same_str(m->category, "message"));
        CHECK(same_str(m->text, "a cat") && strstr(m->json, "https://cdn.example.com/cat.png") != NULL);
    }
    e = WAIT_EVENT(&T, EV_MEDIA, image, "sybil");
    if (e) {
        m = e->message;
        CHECK(m->id == image_id && same_str(m->message_type, "image") && same_str(m->text, "a cat"));
        CHECK(strstr(m->json, "https://cdn.example.com/cat.png") != NULL);
        CHECK(strstr(m->json, "640") != NULL && strstr(m->json, "480") != NULL);
        CHECK(m->receiver_type == CHINWAG_RECEIVER_TYPE_USER && same_str(m->receiver, "trent"));
    }
    CHECK(count_events(&T, EV_TEXT, image, NULL) == 0); /* media goes to the media callback only */
    /* No caption, no metadata. */
    EXPECT_OK(&r, chinwag_client_send_media(S.client, CHINWAG_RECEIVER_TYPE_USER, "trent", "file", "https://cdn.example.com/report.pdf", NULL, NULL, done_message, &r, &file));
    e = WAIT_EVENT(&T, EV_MEDIA, file, "sybil");
    CHECK(e != NULL && same_str(e->message->message_type, "file") && e->message->text == NULL && strstr(e->message->json, "report.pdf") != NULL);

    /* Custom message. */
    EXPECT_OK(&r, chinwag_client_send_custom(S.client, CHINWAG_RECEIVER_TYPE_USER, "trent", "location", "{\"lat\":1.5,\"lon\":2.5}", done_message, &r, &custom));
    custom_id = r.one ? ((const chinwag_message *)r.one)->id : 0;
    e = WAIT_EVENT(&T, EV_CUSTOM, custom, "sybil");
    CHECK(e != NULL && same_str(e->message->category, "custom") && same_str(e->message->message_type, "location"));
    CHECK(e != NULL && e->message->data_json != NULL && strstr(e->message->data_json, "1.5") != NULL);

    /* Edit one's own text: the peer hears the new text; someone else's: FORBIDDEN. */
    draft_id = send_text_ok(&S, CHINWAG_RECEIVER_TYPE_USER, "trent", "draft", &draft);
    WAIT_EVENT(&T, EV_TEXT, draft, "sybil");
    EXPECT_OK(&r, chinwag_client_edit_message(S.client, draft_id, "final", NULL, NULL, done_message, &r));
    m = (const chinwag_message *)r.one;
    CHECK(m != NULL && m->id == draft_id && same_str(m->text, "final") && m->edited_at > 0);
    e = WAIT_EVENT(&T, EV_EDITED, draft, "sybil");
    CHECK(e != NULL && e->message->id == draft_id && same_str(e->message->text, "final") && e->message->edited_at > 0);
    EXPECT_DONE(&r, chinwag_client_edit_message(T.client, draft_id, "hijacked", NULL, NULL, done_message, &r), CHINWAG_RESULT_FORBIDDEN);
    CHECK(strstr(r.error, "FORBIDDEN") != NULL);
    /* Custom data and metadata edits. */
    EXPECT_OK(&r, chinwag_client_edit_message(S.client, custom_id, NULL, "{\"lat\":7.25}", "{\"pinned\":true}", done_message, &r));
    e = WAIT_EVENT(&T, EV_EDITED, custom, "sybil");
    CHECK(e != NULL && e->message->data_json != NULL && strstr(e->message->data_json, "7.25") != NULL);
    CHECK(e != NULL && strstr(e->message->json, "pinned") != NULL);
    EXPECT_DONE(&r, chinwag_client_edit_message(S.client, (int64_t)1 << 40, "nothing", NULL, NULL, done_message, &r), CHINWAG_RESULT_NOT_FOUND);

    /* Delete: soft, the peer hears it; someone else's: FORBIDDEN. */
    EXPECT_DONE(&r, chinwag_client_delete_message(T.client, draft_id, done_message, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_OK(&r, chinwag_client_delete_message(S.client, draft_id, done_message, &r));
    m = (const chinwag_message *)r.one;
    CHECK(m != NULL && m->id == draft_id && m->deleted_at > 0 && m->text == NULL);
    e = WAIT_EVENT(&T, EV_DELETED, draft, "sybil");
    CHECK(e != NULL && e->message->id == draft_id && e->message->deleted_at > 0 && e->message->text == NULL);
    CHECK(AWAIT(&r, chinwag_client_delete_message(S.client, draft_id, done_message, &r)) != CHINWAG_RESULT_OK);
    CHECK(AWAIT(&r, chinwag_client_edit_message(S.client, draft_id, "undo", NULL, NULL, done_message, &r)) != CHINWAG_RESULT_OK);
    EXPECT_DONE(&r, chinwag_client_delete_message(S.client, (int64_t)1 << 40, done_message, &r), CHINWAG_RESULT_NOT_FOUND);

    /* Transient. */
    CHECK_OK(chinwag_client_send_transient(S.client, CHINWAG_RECEIVER_TYPE_USER, "trent", "{\"reaction\":\"thumbs-up\"}"));
    e = WAIT_EVENT(&T, EV_TRANSIENT, "sybil", "trent");
    CHECK(e != NULL && strstr(e->data, "thumbs-up") != NULL && e->receiver_type == CHINWAG_RECEIVER_TYPE_USER);

    /* Barrier: once sybil has trent's message, echoes of her own edits and deletes would have
     * come before it. */
    pthread_mutex_lock(&g_lock);
    S.free_borrowed = 1; /* and the next message callback tries to free its borrowed payload */
    pthread_mutex_unlock(&g_lock);
    send_text_ok(&T, CHINWAG_RECEIVER_TYPE_USER, "sybil", "got it all", &barrier);
    WAIT_EVENT(&S, EV_TEXT, barrier, "trent");
    CHECK(count_events(&S, EV_EDITED, NULL, NULL) == 0);
    CHECK(count_events(&S, EV_DELETED, NULL, NULL) == 0);
    CHECK(count_events(&S, EV_MEDIA, NULL, NULL) == 0);
    CHECK(count_events(&S, EV_TRANSIENT, NULL, NULL) == 0);
    CHECK(read_counter(&S.borrowed_refused) == 1);
    CHECK(count_events(&T, EV_EDITED, draft, NULL) == 1);
    send_text_ok(&S, CHINWAG_RECEIVER_TYPE_USER, "trent", "plain", &plain);
    WAIT_EVENT(&T, EV_TEXT, plain, "sybil");

    chinwag_string_free(image);
    chinwag_string_free(file);
    chinwag_string_free(custom);
    chinwag_string_free(draft);
    chinwag_string_free(barrier);
    chinwag_string_free(plain);
}

/* ----- history --------------------------------------------------------------------------------- */

/* The ids of the page in `r` are ids[from..from+n-1], in that order. */
static void page_is(const int64_t *ids, int from, int n, bool has_more, int line) {
    int i;
    if (r.len != (size_t)n || r.has_more != has_more) {
        fail_at(__FILE__, line, "page of %d (has_more %d), expected %d (has_more %d)", (int)r.len,
                (int)r.has_more, n, (int)has_more);
        return;
    }
    for (i = 0; i < n; i++)
        if (MSG(i)->id != ids[from + i])
            fail_at(__FILE__, line, "item %d is message %lld, expected %lld", i, (long long)MSG(i)->id,
                    (long long)ids[from + i]);
}

#define PAGE_IS(from, n, more) page_is(ids, (from), (n), (more), __LINE__)

static void history(void) {
    /* rupert writes to victor (offline): texts and two custom "note" messages. */
    int64_t ids[7];
    int64_t custom_ids[2];
    int i;
    chinwag_messages_request *req = NULL;
    chinwag_messages_request_options o;
    printf("chat_surface: history: fetch previous and next, limits, cursors, filters\n");
    for (i = 0; i < 7; i++) {
        if (i == 2 || i == 5) {
            char data[32];
            snprintf(data, sizeof data, "{\"n\":%d}", i);
            EXPECT_OK(&r, chinwag_client_send_custom(R.client, CHINWAG_RECEIVER_TYPE_USER, "victor", "note", data, done_message, &r, NULL));
            ids[i] = r.one ? ((const chinwag_message *)r.one)->id : -1;
            custom_ids[i == 2 ? 0 : 1] = ids[i];
        } else {
            char text[16];
            snprintf(text, sizeof text, "h%d", i);
            ids[i] = send_text_ok(&R, CHINWAG_RECEIVER_TYPE_USER, "victor", text, NULL);
        }
        if (i > 0) CHECK(ids[i] > ids[i - 1]);
    }

    /* Backwards, three at a time, from the newest. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.limit = 3;
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    PAGE_IS(4, 3, true);
    if (r.len == 3) {
        CHECK(same_str(MSG(0)->text, "h4") && same_str(MSG(0)->sender, "rupert") && same_str(MSG(0)->receiver, "victor"));
        CHECK(same_str(MSG(1)->category, "custom") && same_str(MSG(1)->message_type, "note") && MSG(1)->data_json && strstr(MSG(1)->data_json, "5"));
    }
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    PAGE_IS(1, 3, true);
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    PAGE_IS(0, 1, false);
    EXPECT_OK(&r, chinwag_client_fetch_next(R.client, req, done_messages, &r)); /* nothing newer */
    PAGE_IS(0, 0, false);
    chinwag_messages_request_free(req);

    /* Around a message: next pages above it, previous pages below it. */
    o.from_message_id = ids[3];
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_next(R.client, req, done_messages, &r));
    PAGE_IS(4, 3, false);
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    PAGE_IS(0, 3, false);
    chinwag_messages_request_free(req);

    /* Forwards from the oldest, four at a time. */
    o.from_message_id = 0;
    o.limit = 4;
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_next(R.client, req, done_messages, &r));
    PAGE_IS(0, 4, true);
    EXPECT_OK(&r, chinwag_client_fetch_next(R.client, req, done_messages, &r));
    PAGE_IS(4, 3, false);
    chinwag_messages_request_free(req);

    /* Filters: category, type. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.category = "custom";
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    CHECK(r.len == 2 && !r.has_more && MSG(0)->id == custom_ids[0] && MSG(1)->id == custom_ids[1]);
    chinwag_messages_request_free(req);
    o.category = "message";
    o.message_type = "text";
    o.limit = 100;
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    CHECK(r.len == 5 && !r.has_more);
    for (i = 0; i < (int)r.len; i++) CHECK(same_str(MSG(i)->message_type, "text"));
    chinwag_messages_request_free(req);
    o.category = NULL;
    o.message_type = "note";
    o.limit = 1;
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    CHECK(r.len == 1 && r.has_more && MSG(0)->id == custom_ids[1]);
    EXPECT_OK(&r, chinwag_client_fetch_previous(R.client, req, done_messages, &r));
    CHECK(r.len == 1 && !r.has_more && MSG(0)->id == custom_ids[0]);
    chinwag_messages_request_free(req);

    /* The same conversation seen by someone else is another conversation: empty. */
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_USER, "victor", NULL, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(T.client, req, done_messages, &r));
    CHECK(r.len == 0 && !r.has_more);
    chinwag_messages_request_free(req);

    /* A group's history: members only. */
    CHECK_OK(chinwag_messages_request_new(CHINWAG_RECEIVER_TYPE_GROUP, "cs-private", NULL, &req));
    EXPECT_DONE(&r, chinwag_client_fetch_previous(T.client, req, done_messages, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_OK(&r, chinwag_client_fetch_previous(N.client, req, done_messages, &r));
    CHECK(r.len == 3 && !r.has_more); /* hello crew, hi mallory, the deleted clip */
    if (r.len == 3) {
        CHECK(same_str(MSG(0)->text, "hello crew") && MSG(0)->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP);
        CHECK(same_str(MSG(2)->message_type, "video") && MSG(2)->deleted_at > 0 && MSG(2)->text == NULL);
    }
    chinwag_messages_request_free(req);
}

/* ----- users and friends ----------------------------------------------------------------------- */

static int contains_ci(const char *hay, char c) {
    for (; *hay; hay++)
        if ((*hay | 0x20) == c) return 1;
    return 0;
}

static void user_lists(void) {
    chinwag_users_request *req = NULL;
    chinwag_users_request_options o;
    char seen[CAST_LEN][16];
    int n = 0, pages = 0, i, expected;
    size_t k;
    peer *online[7];
    printf("chat_surface: user lists: paging, search, status, role\n");
    online[0] = &M; online[1] = &N; online[2] = &O; online[3] = &P;
    online[4] = &R; online[5] = &S; online[6] = &T;

    /* Everyone, seven per page, by uid. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.limit = 7;
    CHECK_OK(chinwag_users_request_new(&o, &req));
    for (;;) {
        EXPECT_OK(&r, chinwag_client_fetch_users(M.client, req, done_users, &r));
        if (r.runs == 0 || r.code != 0) break;
        pages++;
        CHECK(r.len <= 7);
        for (k = 0; k < r.len && n < CAST_LEN; k++) {
            if (n > 0) CHECK(strcmp(USER(k)->uid, seen[n - 1]) > 0);
            snprintf(seen[n++], sizeof seen[0], "%s", USER(k)->uid);
        }
        if (!r.has_more) break;
        CHECK(r.len == 7);
        if (pages > 10) break;
    }
    CHECK(pages == (CAST_LEN + 6) / 7 && n == CAST_LEN);
    for (i = 0; i < n && i < CAST_LEN; i++) CHECK(strcmp(seen[i], CAST[i]) == 0);
    EXPECT_OK(&r, chinwag_client_fetch_users(M.client, req, done_users, &r)); /* exhausted */
    CHECK(r.len == 0 && !r.has_more);
    chinwag_users_request_free(req);

    /* Search in uid or name, case-insensitively, paged two at a time. */
    o.limit = 2;
    o.search = "a";
    CHECK_OK(chinwag_users_request_new(&o, &req));
    n = 0;
    for (pages = 0; pages < 20; pages++) {
        EXPECT_OK(&r, chinwag_client_fetch_users(N.client, req, done_users, &r));
        if (r.runs == 0 || r.code != 0) break;
        for (k = 0; k < r.len; k++) {
            CHECK(contains_ci(USER(k)->uid, 'a') || contains_ci(USER(k)->name, 'a'));
            n++;
        }
        if (!r.has_more) break;
    }
    for (i = 0, expected = 0; i < CAST_LEN; i++) expected += contains_ci(CAST[i], 'a');
    if (n != expected) fail_at(__FILE__, __LINE__, "search \"a\" found %d users, expected %d", n, expected);
    chinwag_users_request_free(req);
    o.limit = 100;
    o.search = "O"; /* bob, carol, mallory, olivia, victor, zoe */
    CHECK_OK(chinwag_users_request_new(&o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_users(N.client, req, done_users, &r));
    CHECK(r.len == 6 && !r.has_more && has_user(&r, "bob") && has_user(&r, "zoe") && has_user(&r, "mallory"));
    chinwag_users_request_free(req);

    /* Status: the test's connected users are online; walter and victor never connected. */
    o.search = NULL;
    o.status = "online";
    CHECK_OK(chinwag_users_request_new(&o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_users(O.client, req, done_users, &r));
    for (i = 0; i < 7; i++)
        if (!has_user(&r, online[i]->uid)) fail_at(__FILE__, __LINE__, "%s is not listed online", online[i]->uid);
    CHECK(!has_user(&r, "walter") && !has_user(&r, "victor"));
    for (k = 0; k < r.len; k++) CHECK(USER(k)->status == CHINWAG_USER_STATUS_ONLINE);
    chinwag_users_request_free(req);
    o.status = "offline";
    CHECK_OK(chinwag_users_request_new(&o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_users(O.client, req, done_users, &r));
    CHECK(has_user(&r, "walter") && has_user(&r, "victor"));
    for (i = 0; i < 7; i++) CHECK(!has_user(&r, online[i]->uid));
    for (k = 0; k < r.len; k++) CHECK(USER(k)->status == CHINWAG_USER_STATUS_OFFLINE);
    CHECK(r.len + 7 <= (size_t)CAST_LEN);
    chinwag_users_request_free(req);

    /* Role. */
    o.status = NULL;
    o.role = "default";
    CHECK_OK(chinwag_users_request_new(&o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_users(P.client, req, done_users, &r));
    CHECK(r.len == (size_t)CAST_LEN && !r.has_more);
    for (k = 0; k < r.len; k++) CHECK(same_str(USER(k)->role, "default"));
    chinwag_users_request_free(req);
    o.role = "moderators";
    CHECK_OK(chinwag_users_request_new(&o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_users(P.client, req, done_users, &r));
    CHECK(r.len == 0 && !r.has_more);
    chinwag_users_request_free(req);
}

static void users_and_friends(void) {
    const chinwag_user *u;
    printf("chat_surface: get user, add and remove friends, friends lists\n");
    EXPECT_OK(&r, chinwag_client_get_user(M.client, "walter", done_user, &r));
    u = (const chinwag_user *)r.one;
    CHECK(u != NULL && same_str(u->uid, "walter") && same_str(u->name, "Walter") && same_str(u->role, "default"));
    CHECK(u != NULL && u->status == CHINWAG_USER_STATUS_OFFLINE && !u->deactivated && u->avatar == NULL);
    CHECK(u != NULL && strstr(u->json, "walter") != NULL);
    EXPECT_OK(&r, chinwag_client_get_user(M.client, "trent", done_user, &r));
    CHECK(r.one != NULL && ((const chinwag_user *)r.one)->status == CHINWAG_USER_STATUS_ONLINE);
    EXPECT_DONE(&r, chinwag_client_get_user(M.client, "nobody-here", done_user, &r), CHINWAG_RESULT_NOT_FOUND);

    EXPECT_OK(&r, chinwag_client_friends(S.client, done_users, &r));
    CHECK(r.len == 0 && !r.has_more);
    /* adding only asks; the friendship exists once the other side adds back */
    EXPECT_OK(&r, chinwag_client_add_friend(S.client, "trent", done_users, &r));
    CHECK(r.len == 0 && !r.has_more);
    EXPECT_OK(&r, chinwag_client_add_friend(T.client, "sybil", done_users, &r));
    CHECK(r.len == 1 && !r.has_more && has_user(&r, "sybil"));
    EXPECT_OK(&r, chinwag_client_add_friend(S.client, "olivia", done_users, &r));
    CHECK(r.len == 1 && has_user(&r, "trent"));
    EXPECT_OK(&r, chinwag_client_add_friend(O.client, "sybil", done_users, &r));
    CHECK(r.len == 1 && has_user(&r, "sybil"));
    EXPECT_OK(&r, chinwag_client_friends(S.client, done_users, &r));
    CHECK(r.len == 2 && has_user(&r, "trent") && has_user(&r, "olivia"));
    EXPECT_OK(&r, chinwag_client_friends(T.client, done_users, &r)); /* mutual */
    CHECK(r.len == 1 && !r.has_more && has_user(&r, "sybil"));
    EXPECT_DONE(&r, chinwag_client_add_friend(S.client, "nobody-here", done_users, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_OK(&r, chinwag_client_remove_friend(S.client, "trent", done_plain, &r));
    EXPECT_OK(&r, chinwag_client_friends(S.client, done_users, &r));
    CHECK(r.len == 1 && has_user(&r, "olivia"));
    EXPECT_OK(&r, chinwag_client_friends(T.client, done_users, &r));
    CHECK(r.len == 0);
    EXPECT_OK(&r, chinwag_client_remove_friend(O.client, "sybil", done_plain, &r)); /* either side */
    EXPECT_OK(&r, chinwag_client_friends(S.client, done_users, &r));
    CHECK(r.len == 0);
}

int main(int argc, char **argv) {
    chinwag_message *kept = NULL;
    const event_rec *e;
    read_server(argc, argv);

    bad_input_copies();
    bad_input_null_and_freed_client(bad_input_session_state());

    peer_start(&M, "mallory");
    peer_start(&N, "niaj");
    peer_start(&O, "olivia");
    peer_start(&P, "peggy");
    peer_start(&R, "rupert");
    peer_start(&S, "sybil");
    peer_start(&T, "trent");
    bad_input_arguments(M.client);

    private_group();
    private_group_moderation();
    public_group();
    group_lists();
    group_conversation();
    direct_messages();
    history();
    user_lists();
    users_and_friends();

    /* trent got nothing of the private group (barrier: trent's own last direct message). */
    CHECK(count_events(&T, EV_ADDED, "cs-private", NULL) == 0);
    CHECK(count_events(&T, EV_TEXT, NULL, "mallory") == 0);

    /* Keep one recorded copy past its client's free: copies belong to the app. */
    pthread_mutex_lock(&g_lock);
    e = find_event(&T, EV_MEDIA, NULL, "sybil");
    if (e) chinwag_message_copy(e->message, &kept);
    pthread_mutex_unlock(&g_lock);

    result_clear(&r);
    peer_stop(&M);
    peer_stop(&N);
    peer_stop(&O);
    peer_stop(&P);
    peer_stop(&R);
    peer_stop(&S);
    peer_stop(&T);

    CHECK(kept != NULL);
    if (kept) {
        CHECK(same_str(kept->message_type, "image") && strstr(kept->json, "cat.png") != NULL);
        copies_type_and_double_free(kept);
        chinwag_message_free(kept);
    }
    if (stray.runs != 0) fail_at(__FILE__, __LINE__, "a call that failed ran its completion %d times", stray.runs);
    return finish("chat_surface");
}
