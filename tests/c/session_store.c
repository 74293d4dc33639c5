/* An app-supplied session store (load/save/clear callbacks), as a keychain would be: login
 * saves through it, a new client restores the session from it without a network call and
 * reconnects by itself, logout clears it, and a failing or corrupt store is reported through
 * the log and treated as "logged out". A save callback may call the client's read-only
 * functions (chinwag_client_logged_in_user here): the SDK holds no lock of the client while
 * the store runs, and never runs it on the runtime's workers. */
#include "common.h"

typedef struct {
    char *json; /* the saved session, owned here */
    int saves, durable_saves, clears, loads;
    chinwag_result load_result;
    const char *load_override; /* returned instead of json when set */
} memory_store;

typedef struct {
    memory_store *mem;
    int freed;
    chinwag_client *client; /* set once init returned: the save reads it back */
    int reads_ok;           /* saves in which chinwag_client_logged_in_user answered the user */
} store_handle;

static chinwag_result mem_load(void *user_data, chinwag_store_reply *reply) {
    memory_store *m = ((store_handle *)user_data)->mem;
    chinwag_result rc = CHINWAG_RESULT_OK;
    pthread_mutex_lock(&g_lock);
    m->loads++;
    if (m->load_result != CHINWAG_RESULT_OK) {
        rc = m->load_result;
    } else if (m->load_override) {
        rc = chinwag_store_reply_set(reply, m->load_override);
    } else if (m->json) {
        CHECK_RC(chinwag_store_reply_set(reply, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
        rc = chinwag_store_reply_set(reply, m->json);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static chinwag_result mem_save(void *user_data, const char *json, bool durable) {
    store_handle *h = (store_handle *)user_data;
    memory_store *m = h->mem;
    chinwag_client *client;
    char *user = NULL;
    pthread_mutex_lock(&g_lock);
    client = h->client;
    pthread_mutex_unlock(&g_lock);
    /* Not under g_lock: the call may take the SDK's own locks. */
    if (client != NULL && chinwag_client_logged_in_user(client, &user) == CHINWAG_RESULT_OK) {
        chinwag_user *typed = NULL;
        /* The typed copy too: both read the same in-memory session. */
        if (strstr(user, "\"uid\":\"ivan\"") != NULL &&
            chinwag_client_get_logged_in_user(client, &typed) == CHINWAG_RESULT_OK &&
            typed != NULL && strcmp(typed->uid, "ivan") == 0)
            bump(&h->reads_ok);
        if (typed != NULL) chinwag_user_free(typed);
        chinwag_string_free(user);
    }
    pthread_mutex_lock(&g_lock);
    free(m->json);
    m->json = malloc(strlen(json) + 1);
    strcpy(m->json, json);
    m->saves++;
    if (durable) m->durable_saves++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    return CHINWAG_RESULT_OK;
}

static chinwag_result mem_clear(void *user_data) {
    memory_store *m = ((store_handle *)user_data)->mem;
    pthread_mutex_lock(&g_lock);
    free(m->json);
    m->json = NULL;
    m->clears++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    return CHINWAG_RESULT_OK;
}

static void handle_free(void *user_data) {
    bump(&((store_handle *)user_data)->freed);
}

static int store_errors_logged = 0;
static void on_log(void *user_data, const chinwag_log_record *r) {
    (void)user_data;
    if (r->level == CHINWAG_LOG_LEVEL_ERROR && strstr(r->message, "store") != NULL) {
        printf("  log: %s: %s\n", r->target, r->message);
        bump(&store_errors_logged);
    }
}

/* A client on the memory store; its connection watch is registered by init itself, so it hears
 * the first CONNECTING and CONNECTED of a restored session. */
static chinwag_client *client_with(store_handle *h, conn_watch *w) {
    chinwag_settings s = test_settings(CHINWAG_CONNECT_MODE_AUTO, NULL);
    chinwag_session_store store;
    chinwag_connection_listener l;
    chinwag_initial_listener initial;
    const chinwag_initial_listener *listeners[1];
    chinwag_client *c = NULL;
    memset(&store, 0, sizeof store);
    store.struct_size = sizeof store;
    store.load = mem_load;
    store.save = mem_save;
    store.clear = mem_clear;
    store.user_data = h;
    store.user_data_free = handle_free;
    s.session_store = &store;
    s.log = on_log;
    memset(w, 0, sizeof *w);
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_state_changed = watch_state;
    memset(&initial, 0, sizeof initial);
    initial.struct_size = sizeof initial;
    initial.kind = CHINWAG_LISTENER_KIND_CONNECTION;
    initial.id = "watch";
    initial.listener = &l;
    initial.user_data = w;
    listeners[0] = &initial;
    s.listeners = listeners;
    s.listeners_len = 1;
    CHECK_OK(chinwag_client_init("chinwag-app", &s, &c));
    if (c == NULL) exit(1);
    return c;
}

int main(int argc, char **argv) {
    memory_store mem;
    store_handle h1 = {&mem, 0, NULL, 0}, h2 = {&mem, 0, NULL, 0}, h3 = {&mem, 0, NULL, 0},
                 h4 = {&mem, 0, NULL, 0};
    conn_watch w;
    chinwag_client *c;
    char *json = NULL;
    read_server(argc, argv);
    memset(&mem, 0, sizeof mem);

    printf("session_store: login saves through the app's store\n");
    c = client_with(&h1, &w);
    CHECK(mem.loads == 1);
    pthread_mutex_lock(&g_lock);
    h1.client = c;
    pthread_mutex_unlock(&g_lock);
    CHECK(login_and_wait(c, "ivan") == 0);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);
    pthread_mutex_lock(&g_lock);
    CHECK(mem.durable_saves >= 1);
    CHECK(mem.json != NULL && strstr(mem.json, "\"token\"") != NULL && strstr(mem.json, "ivan") != NULL);
    pthread_mutex_unlock(&g_lock);
    printf("session_store: the save callback called chinwag_client_logged_in_user and _get_logged_in_user, which answered\n");
    WAIT_FOR(h1.reads_ok >= 1);
    pthread_mutex_lock(&g_lock);
    h1.client = NULL;
    pthread_mutex_unlock(&g_lock);
    chinwag_client_free(c);
    WAIT_FOR(h1.freed == 1);

    printf("session_store: a new client restores the session and reconnects by itself\n");
    c = client_with(&h2, &w);
    CHECK_OK(chinwag_client_logged_in_user(c, &json));
    CHECK(json != NULL && strstr(json, "\"uid\":\"ivan\"") != NULL);
    chinwag_string_free(json);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);
    CHECK(w.changes == 2); /* DISCONNECTED -> CONNECTING -> CONNECTED, all heard */
    printf("session_store: logout clears it\n");
    CHECK(logout_and_wait(c) == 0);
    WAIT_FOR(mem.clears == 1 && mem.json == NULL);
    chinwag_client_free(c);
    WAIT_FOR(h2.freed == 1);

    printf("session_store: a failing store means logged out, reported through the log\n");
    mem.load_result = CHINWAG_RESULT_STORAGE;
    c = client_with(&h3, &w);
    CHECK_RC(chinwag_client_logged_in_user(c, &json), CHINWAG_RESULT_NOT_LOGGED_IN);
    WAIT_FOR(store_errors_logged == 1);
    chinwag_client_free(c);
    WAIT_FOR(h3.freed == 1);

    printf("session_store: so does a corrupt session\n");
    mem.load_result = CHINWAG_RESULT_OK;
    mem.load_override = "{\"not\": \"a session\"}";
    c = client_with(&h4, &w);
    CHECK_RC(chinwag_client_logged_in_user(c, &json), CHINWAG_RESULT_NOT_LOGGED_IN);
    WAIT_FOR(store_errors_logged == 2);
    chinwag_client_free(c);
    WAIT_FOR(h4.freed == 1);
    free(mem.json);
    return finish("session_store");
}
