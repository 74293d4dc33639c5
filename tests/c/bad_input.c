/* Bad input on every exported function (docs/behaviour.md, section 9): NULL pointers,
 * invalid UTF-8, empty ids, oversized text, bad enum values and struct sizes, calls before
 * login, after logout and after free. Each gets its specific code and a readable message;
 * nothing crashes, hangs or silently does nothing. */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static const char BAD_UTF8[] = {'b', (char)0xC3, (char)0x28, 0};

static int frees = 0;
static void count_free(void *user_data) {
    (void)user_data;
    bump(&frees);
}

static void on_log(void *user_data, const chinwag_log_record *record) {
    (void)user_data;
    (void)record;
}

static chinwag_result store_load(void *user_data, chinwag_store_reply *reply) {
    (void)user_data;
    (void)reply;
    return CHINWAG_RESULT_OK;
}
static chinwag_result store_save(void *user_data, const char *json, bool durable) {
    (void)user_data;
    (void)json;
    (void)durable;
    return CHINWAG_RESULT_OK;
}
static chinwag_result store_clear(void *user_data) {
    (void)user_data;
    return CHINWAG_RESULT_OK;
}

static int sent_code = -1;
static void send_done(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    (void)user_data;
    (void)m;
    pthread_mutex_lock(&g_lock);
    sent_code = error ? (int)error->code : 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void message_contains(const char *needle) {
    char buf[512];
    size_t n = 0;
    CHECK_OK(chinwag_last_error_message(buf, sizeof buf, &n));
    if (strstr(buf, needle) == NULL) {
        fprintf(stderr, "FAIL: last error \"%s\" does not mention \"%s\"\n", buf, needle);
        g_failures++;
    }
}

static void library_functions(void) {
    char buf[64];
    size_t n = 99;
    CHECK(chinwag_abi_version() == CHINWAG_ABI_VERSION);
    CHECK(chinwag_version() != NULL);
    CHECK(strcmp(chinwag_result_name(CHINWAG_RESULT_OK), "OK") == 0);
    CHECK(strcmp(chinwag_result_name(CHINWAG_RESULT_TEXT_TOO_LONG), "TEXT_TOO_LONG") == 0);
    CHECK(strcmp(chinwag_result_name(77777), "UNKNOWN") == 0);
    CHECK(strcmp(chinwag_connection_state_name(CHINWAG_CONNECTION_STATE_CONNECTED), "CONNECTED") == 0);
    CHECK(strcmp(chinwag_connection_state_name(42), "UNKNOWN") == 0);
    CHECK(strcmp(chinwag_state_reason_name(CHINWAG_STATE_REASON_CONNECTION_LOST), "CONNECTION_LOST") == 0);
    CHECK_RC(chinwag_last_error_message(NULL, 10, &n), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_last_error_message(buf, 0, &n), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(n == 99); /* out-parameters untouched on failure */
    CHECK_OK(chinwag_last_error_message(buf, sizeof buf, NULL));
    chinwag_string_free(NULL);
    chinwag_client_free(NULL);
    CHECK_RC(chinwag_store_reply_set(NULL, "{}"), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_store_reply_set((chinwag_store_reply *)buf, "{}"), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("load callback");
}

static void init_rejects_bad_settings(void) {
    chinwag_client *c = NULL;
    chinwag_settings s = test_settings(CHINWAG_CONNECT_MODE_AUTO, NULL);
    chinwag_settings bad;
    chinwag_session_store store;
    static const char PEM[] = "not a certificate";

    CHECK_RC(chinwag_client_init(NULL, &s, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    message_contains("app_id");
    CHECK_RC(chinwag_client_init("chinwag-app", NULL, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_init("chinwag-app", &s, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_init(BAD_UTF8, &s, &c), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_init("", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_init("no:colons", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);

    bad = s;
    bad.struct_size = sizeof(size_t);
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("struct_size");
    bad = s;
    bad.server_url = NULL;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    bad.server_url = "ftp://example.invalid";
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    bad.server_url = BAD_UTF8;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_UTF8);
    bad = s;
    bad.connect_mode = 9;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    bad = s;
    bad.presence = 9;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    bad.presence = CHINWAG_PRESENCE_ROLES;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("presence_roles");
    bad.presence_roles = "bad role!";
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    bad = s;
    bad.connect_timeout_ms = 1;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("connect_timeout");
    bad = s;
    bad.extra_ca_pem_len = 10;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    bad.extra_ca_pem = (const uint8_t *)PEM;
    bad.extra_ca_pem_len = sizeof PEM - 1;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);

    /* A failed init takes no ownership: neither user_data_free runs. */
    bad.log = on_log;
    bad.log_user_data_free = count_free;
    memset(&store, 0, sizeof store);
    store.struct_size = sizeof store;
    store.load = store_load;
    store.save = store_save;
    store.clear = store_clear;
    store.user_data_free = count_free;
    bad.session_store = &store;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    store.clear = NULL;
    bad = s;
    bad.session_store = &store;
    CHECK_RC(chinwag_client_init("chinwag-app", &bad, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    message_contains("clear");
    CHECK(read_counter(&frees) == 0);
    CHECK(c == NULL);
}

/* Listeners handed to init: every malformed element fails init, and then none of the
 * elements' user_data_free runs, not even for the well-formed ones before it. */
static void init_rejects_bad_initial_listeners(void) {
    chinwag_client *c = NULL;
    chinwag_settings s = test_settings(CHINWAG_CONNECT_MODE_AUTO, NULL);
    chinwag_message_listener ml;
    chinwag_initial_listener good, bad;
    const chinwag_initial_listener *list[2];
    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    memset(&good, 0, sizeof good);
    good.struct_size = sizeof good;
    good.kind = CHINWAG_LISTENER_KIND_MESSAGE;
    good.id = "good";
    good.listener = &ml;
    good.user_data_free = count_free;
    list[0] = &good;
    list[1] = &bad;
    s.listeners = list;
    s.listeners_len = 2;

    bad = good;
    bad.kind = 42;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("CHINWAG_LISTENER_KIND_");
    bad = good;
    bad.listener = NULL;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    bad = good;
    bad.id = "";
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    bad.id = BAD_UTF8;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_INVALID_UTF8);
    bad = good;
    bad.struct_size = 4;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    list[1] = NULL;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    s.listeners = NULL;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK(read_counter(&frees) == 0);
    CHECK(c == NULL);

    /* Well-formed: registered like any listener; freed with the client. */
    s.listeners = list;
    s.listeners_len = 1;
    CHECK_OK(chinwag_client_init("chinwag-app", &s, &c));
    CHECK_RC(chinwag_client_remove_message_listener(c, "other"), CHINWAG_RESULT_NOT_FOUND);
    chinwag_client_free(c);
    CHECK(read_counter(&frees) == 1);
}

/* Every client function given a NULL handle. */
static void null_handle(void) {
    char *out = NULL;
    chinwag_connection_state state;
    chinwag_message_listener ml;
    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    CHECK_RC(chinwag_client_login(NULL, "alice", g_auth_key, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_login_with_token(NULL, "t", NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_logout(NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_logged_in_user(NULL, &out), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_connection_status(NULL, &state), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_connect(NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_disconnect(NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_network_changed(NULL, CHINWAG_NETWORK_UP), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_app_state_changed(NULL, CHINWAG_APP_STATE_FOREGROUND), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_text(NULL, CHINWAG_RECEIVER_TYPE_USER, "bob", "hi", NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_custom(NULL, CHINWAG_RECEIVER_TYPE_USER, "bob", "x", "{}", NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_message(NULL, "{}", NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_start_typing(NULL, CHINWAG_RECEIVER_TYPE_USER, "bob"), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_end_typing(NULL, CHINWAG_RECEIVER_TYPE_USER, "bob"), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_mark_delivered(NULL, 1), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_mark_read(NULL, 1), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_transient(NULL, CHINWAG_RECEIVER_TYPE_USER, "bob", "{}"), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_add_message_listener(NULL, "m", &ml, NULL, count_free), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_remove_message_listener(NULL, "m"), CHINWAG_RESULT_NULL_ARGUMENT);
    message_contains("client");
    CHECK(read_counter(&frees) == 1);
}

/* The call family of one live client, with every kind of bad argument. */
static void bad_arguments(chinwag_client *c) {
    char *out = NULL;
    char *big = malloc(64 * 1024 + 2);
    chinwag_connection_listener cl;
    chinwag_login_listener ll;
    chinwag_message_listener ml;
    chinwag_user_listener ul;
    chinwag_group_listener gl;
    chinwag_call_listener kl;
    chinwag_log_listener lg;

    memset(big, 'x', 64 * 1024 + 1);
    big[64 * 1024 + 1] = 0;
    CHECK_RC(chinwag_client_login(c, NULL, g_auth_key, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_login(c, "alice", NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_login(c, "", g_auth_key, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("uid");
    CHECK_RC(chinwag_client_login(c, "alice", "", NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_login(c, BAD_UTF8, g_auth_key, NULL, NULL), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_login_with_token(c, NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_login_with_token(c, "", NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_logged_in_user(c, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_connection_status(c, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_network_changed(c, 7), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_app_state_changed(c, 7), CHINWAG_RESULT_INVALID_ARGUMENT);

    CHECK_RC(chinwag_client_send_text(c, 5, "bob", "hi", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("receiver_type");
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, NULL, "hi", NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "", "hi", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, BAD_UTF8, "hi", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", NULL, NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", BAD_UTF8, NULL, NULL, NULL), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", big, NULL, NULL, &out), CHINWAG_RESULT_TEXT_TOO_LONG);
    message_contains("65536");
    CHECK(out == NULL);
    CHECK_RC(chinwag_client_send_custom(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "", "{}", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_custom(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "loc", "{oops", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("JSON");
    CHECK_RC(chinwag_client_send_custom(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "loc", NULL, NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_send_message(c, "[1,2]", NULL, NULL, NULL), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_message(c, NULL, NULL, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_start_typing(c, CHINWAG_RECEIVER_TYPE_USER, ""), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_end_typing(c, 3, "bob"), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_mark_delivered(c, 0), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_mark_read(c, -5), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_transient(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "nope"), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_send_transient(c, CHINWAG_RECEIVER_TYPE_USER, NULL, "{}"), CHINWAG_RESULT_NULL_ARGUMENT);

    /* Listeners: NULL / empty / invalid ids, NULL structs, too small struct_size, unknown
     * ids on removal. None of the failures takes ownership of user_data. */
    memset(&cl, 0, sizeof cl);
    memset(&ll, 0, sizeof ll);
    memset(&ml, 0, sizeof ml);
    memset(&ul, 0, sizeof ul);
    memset(&gl, 0, sizeof gl);
    memset(&kl, 0, sizeof kl);
    memset(&lg, 0, sizeof lg);
    cl.struct_size = sizeof cl;
    ll.struct_size = sizeof ll;
    ml.struct_size = sizeof ml - 1;
    ul.struct_size = sizeof ul;
    gl.struct_size = sizeof gl;
    kl.struct_size = sizeof kl;
    lg.struct_size = sizeof lg;
    CHECK_RC(chinwag_client_add_connection_listener(c, NULL, &cl, NULL, count_free), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_add_login_listener(c, "", &ll, NULL, count_free), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_add_message_listener(c, "m", &ml, NULL, count_free), CHINWAG_RESULT_INVALID_ARGUMENT);
    message_contains("struct_size");
    CHECK_RC(chinwag_client_add_user_listener(c, BAD_UTF8, &ul, NULL, count_free), CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_add_group_listener(c, "g", NULL, NULL, count_free), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK(read_counter(&frees) == 1);
    CHECK_OK(chinwag_client_add_call_listener(c, "k", &kl, NULL, count_free));
    CHECK_OK(chinwag_client_add_call_listener(c, "k", &kl, NULL, count_free)); /* replaces */
    CHECK(read_counter(&frees) == 2);
    CHECK_OK(chinwag_client_remove_call_listener(c, "k"));
    CHECK(read_counter(&frees) == 3);
    CHECK_RC(chinwag_client_remove_call_listener(c, "k"), CHINWAG_RESULT_NOT_FOUND);
    message_contains("\"k\"");
    CHECK_RC(chinwag_client_remove_log_listener(c, ""), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_remove_connection_listener(c, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_remove_login_listener(c, "nobody"), CHINWAG_RESULT_NOT_FOUND);
    CHECK_RC(chinwag_client_remove_message_listener(c, "nobody"), CHINWAG_RESULT_NOT_FOUND);
    CHECK_RC(chinwag_client_remove_user_listener(c, "nobody"), CHINWAG_RESULT_NOT_FOUND);
    CHECK_RC(chinwag_client_remove_group_listener(c, "nobody"), CHINWAG_RESULT_NOT_FOUND);
    CHECK_OK(chinwag_client_add_log_listener(c, "log", &lg, NULL, count_free));
    free(big);
}

/* Before login, after logout: specific codes, never a silent no-op. */
static void logged_out_calls(chinwag_client *c, const char *when) {
    char *out = NULL;
    int logout_code = -1;
    printf("  %s: connect, send and logged_in_user fail with NOT_LOGGED_IN\n", when);
    CHECK_RC(chinwag_client_connect(c), CHINWAG_RESULT_NOT_LOGGED_IN);
    message_contains("login");
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "hi", send_done, NULL, &out), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK(out == NULL);
    CHECK_RC(chinwag_client_send_custom(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "ping", "{}", NULL, NULL, NULL), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK_RC(chinwag_client_logged_in_user(c, &out), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK(out == NULL);
    CHECK_RC(chinwag_client_start_typing(c, CHINWAG_RECEIVER_TYPE_USER, "bob"), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_mark_read(c, 1), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_RC(chinwag_client_send_transient(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "{}"), CHINWAG_RESULT_NOT_CONNECTED);
    CHECK_OK(chinwag_client_disconnect(c)); /* DISCONNECTED: a documented no-op */
    CHECK_OK(chinwag_client_logout(c, logout_done, &logout_code));
    WAIT_FOR(logout_code != -1);
    CHECK(logout_code == CHINWAG_RESULT_NOT_LOGGED_IN);
}

/* Every client function given a freed handle. */
static void after_free(chinwag_client *c) {
    char *out = NULL;
    chinwag_connection_state state = 99;
    chinwag_log_listener lg;
    memset(&lg, 0, sizeof lg);
    lg.struct_size = sizeof lg;
    CHECK_RC(chinwag_client_connect(c), CHINWAG_RESULT_CLIENT_FREED);
    message_contains("freed");
    CHECK_RC(chinwag_client_disconnect(c), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_login(c, "alice", g_auth_key, NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_login_with_token(c, "t", NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_logout(c, NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_logged_in_user(c, &out), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_connection_status(c, &state), CHINWAG_RESULT_CLIENT_FREED);
    CHECK(state == 99);
    CHECK_RC(chinwag_client_network_changed(c, CHINWAG_NETWORK_DOWN), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_app_state_changed(c, CHINWAG_APP_STATE_BACKGROUND), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "hi", NULL, NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_send_custom(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "x", "{}", NULL, NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_send_message(c, "{}", NULL, NULL, NULL), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_start_typing(c, CHINWAG_RECEIVER_TYPE_USER, "bob"), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_end_typing(c, CHINWAG_RECEIVER_TYPE_USER, "bob"), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_mark_delivered(c, 1), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_mark_read(c, 1), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_send_transient(c, CHINWAG_RECEIVER_TYPE_USER, "bob", "{}"), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_add_log_listener(c, "late", &lg, NULL, count_free), CHINWAG_RESULT_CLIENT_FREED);
    CHECK_RC(chinwag_client_remove_log_listener(c, "log"), CHINWAG_RESULT_CLIENT_FREED);
    chinwag_client_free(c); /* a second free: recorded, harmless */
    message_contains("not live");
}

/* A second login while one is in progress is refused. The first one goes to a socket that
 * accepts connections and never answers, so it is still in progress however slow or fast the
 * machine is; freeing the client ends it with CANCELLED. */
static void second_login_refused_while_one_is_in_progress(void) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    char url[64];
    chinwag_settings s;
    chinwag_client *c = NULL;
    int first = -1, second = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(fd, 8) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(addr.sin_port));
    s = test_settings(CHINWAG_CONNECT_MODE_AUTO, NULL);
    s.server_url = url;
    CHECK_OK(chinwag_client_init("chinwag-app", &s, &c));
    CHECK_OK(chinwag_client_login(c, "judy", g_auth_key, login_done, &first));
    CHECK_RC(chinwag_client_login(c, "judy", g_auth_key, login_done, &second), CHINWAG_RESULT_LOGIN_IN_PROGRESS);
    chinwag_client_free(c);
    CHECK(read_counter(&first) == CHINWAG_RESULT_CANCELLED);
    CHECK(read_counter(&second) == -1); /* a refused call never completes */
    close(fd);
}

int main(int argc, char **argv) {
    chinwag_client *c;
    char *json = NULL;
    int first = -1;
    read_server(argc, argv);
    printf("bad_input: library functions and init\n");
    library_functions();
    init_rejects_bad_settings();
    init_rejects_bad_initial_listeners();
    null_handle();

    c = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    printf("bad_input: bad arguments on a live client\n");
    bad_arguments(c);
    logged_out_calls(c, "before login");

    printf("bad_input: login errors\n");
    CHECK(login_and_wait(c, "nobody-here") == CHINWAG_RESULT_NOT_FOUND);
    first = -1;
    CHECK_OK(chinwag_client_login(c, "judy", "wrong-key", login_done, &first));
    WAIT_FOR(first != -1);
    CHECK(first == CHINWAG_RESULT_AUTH_FAILED);
    first = -1;
    CHECK_OK(chinwag_client_login(c, "judy", g_auth_key, login_done, &first));
    WAIT_FOR(first != -1);
    CHECK(first == 0);
    second_login_refused_while_one_is_in_progress();
    CHECK_OK(chinwag_client_logged_in_user(c, &json));
    CHECK(json != NULL && strstr(json, "\"uid\":\"judy\"") != NULL);
    chinwag_string_free(json);
    CHECK(logout_and_wait(c) == 0);
    logged_out_calls(c, "after logout");

    printf("bad_input: after free\n");
    chinwag_client_free(c);
    CHECK(read_counter(&frees) == 4); /* + the two call listeners and the log listener */
    after_free(c);
    CHECK(read_counter(&frees) == 4);
    return finish("bad_input");
}
