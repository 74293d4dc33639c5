/* First use from C (issue 19): create a user from the SDK and its errors, the logged-in user as
 * a typed struct, listeners added right after init on a restored session (ROUNDS times: the
 * connection listener starts from the current state and misses no change, the message sent
 * while the app was closed arrives once), and a message sent between login and the first
 * connect() in manual mode, delivered once after it. */
#include "common.h"

#include <unistd.h>

/* Under valgrind (its preload library in LD_PRELOAD) a round costs about 50 times more. */
static int rounds(void) {
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL ? 250 : 1000;
}

/* ----- a completion with a user -------------------------------------------------------------- */

typedef struct {
    int code; /* -1 until the completion ran */
    char uid[64];
    char name[64];
} user_result;

static void user_done(void *user_data, const chinwag_error *error, const chinwag_user *user) {
    user_result *r = (user_result *)user_data;
    pthread_mutex_lock(&g_lock);
    r->code = error ? (int)error->code : 0;
    if (user != NULL) {
        snprintf(r->uid, sizeof r->uid, "%s", user->uid);
        snprintf(r->name, sizeof r->name, "%s", user->name);
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static int create_and_wait(chinwag_client *c, const char *uid, const char *name, const char *key,
                           user_result *r) {
    memset(r, 0, sizeof *r);
    r->code = -1;
    CHECK_OK(chinwag_client_create_user(c, uid, name, key, user_done, r));
    WAIT_FOR(r->code != -1);
    return r->code;
}

static void create_user_and_the_logged_in_user(void) {
    chinwag_client *c = new_client(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    chinwag_user *me = NULL;
    user_result r;

    CHECK_RC(create_and_wait(c, "fu-new", "New User", g_auth_key, &r), CHINWAG_RESULT_OK);
    CHECK(strcmp(r.uid, "fu-new") == 0);
    CHECK(strcmp(r.name, "New User") == 0);
    CHECK_RC(create_and_wait(c, "fu-new", "Again", g_auth_key, &r), CHINWAG_RESULT_USER_EXISTS);
    CHECK_RC(create_and_wait(c, "fu-other", NULL, "wrong-key", &r), CHINWAG_RESULT_AUTH_FAILED);
    /* NULL name: the uid. */
    CHECK_RC(create_and_wait(c, "fu-noname", NULL, g_auth_key, &r), CHINWAG_RESULT_OK);
    CHECK(strcmp(r.name, "fu-noname") == 0);
    /* Refused at once: nothing is sent, the completion never runs. */
    CHECK_RC(chinwag_client_create_user(c, "has space", NULL, g_auth_key, user_done, &r),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(c, "", NULL, g_auth_key, user_done, &r),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(c, "fu-x", "", g_auth_key, user_done, &r),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(c, "fu-x", NULL, "", user_done, &r),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(c, NULL, NULL, g_auth_key, user_done, &r),
             CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(c, "fu-x", NULL, NULL, user_done, &r),
             CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_create_user(NULL, "fu-x", NULL, g_auth_key, user_done, &r),
             CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK(strcmp(chinwag_result_name(CHINWAG_RESULT_USER_EXISTS), "USER_EXISTS") == 0);

    /* The logged-in user, typed: none before login, an owned copy after. */
    CHECK_RC(chinwag_client_get_logged_in_user(c, &me), CHINWAG_RESULT_NOT_LOGGED_IN);
    CHECK(me == NULL);
    CHECK_RC(login_and_wait(c, "fu-new"), CHINWAG_RESULT_OK);
    CHECK_RC(chinwag_client_get_logged_in_user(c, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_get_logged_in_user(NULL, &me), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_OK(chinwag_client_get_logged_in_user(c, &me));
    chinwag_client_free(c); /* the copy is the app's: it outlives the client */
    if (me != NULL) {
        CHECK(strcmp(me->uid, "fu-new") == 0);
        CHECK(strcmp(me->name, "New User") == 0);
        CHECK(me->json != NULL && strstr(me->json, "\"fu-new\"") != NULL);
        chinwag_user_free(me);
    }
    chinwag_user_free(NULL);
}

/* ----- what one client saw through listeners added after init ----------------------------------- */

#define MAX_STATES 16

typedef struct {
    chinwag_state_change states[MAX_STATES];
    int n_states;
    int messages;
    char last_text[64];
} seen;

static void seen_state(void *user_data, const chinwag_state_change *c) {
    seen *s = (seen *)user_data;
    pthread_mutex_lock(&g_lock);
    if (s->n_states < MAX_STATES) {
        s->states[s->n_states] = *c;
        s->states[s->n_states].message = NULL; /* borrowed: not kept */
        s->states[s->n_states].json = NULL;
    }
    s->n_states++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void seen_message(void *user_data, const chinwag_message *m) {
    seen *s = (seen *)user_data;
    pthread_mutex_lock(&g_lock);
    s->messages++;
    snprintf(s->last_text, sizeof s->last_text, "%s", m->text ? m->text : "");
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void add_seen_listeners(chinwag_client *c, seen *s) {
    chinwag_connection_listener cl;
    chinwag_message_listener ml;
    memset(&cl, 0, sizeof cl);
    cl.struct_size = sizeof cl;
    cl.on_state_changed = seen_state;
    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    ml.on_text_message_received = seen_message;
    CHECK_OK(chinwag_client_add_connection_listener(c, "app", &cl, s, NULL));
    CHECK_OK(chinwag_client_add_message_listener(c, "app", &ml, s, NULL));
}

static int last_state(const seen *s) {
    if (s->n_states == 0 || s->n_states > MAX_STATES) return -1;
    return (int)s->states[s->n_states - 1].current;
}

/* The first event is the state the listener starts from; every later one follows from it. */
static int chain_ok(const seen *s, int round) {
    int i;
    if (s->n_states < 1 || s->n_states > MAX_STATES) return 0;
    if (s->states[0].reason != CHINWAG_STATE_REASON_LISTENER_ADDED ||
        s->states[0].previous != s->states[0].current) {
        fprintf(stderr, "round %d: first event %s -> %s (%s)\n", round,
                chinwag_connection_state_name(s->states[0].previous),
                chinwag_connection_state_name(s->states[0].current),
                chinwag_state_reason_name(s->states[0].reason));
        return 0;
    }
    for (i = 1; i < s->n_states; i++) {
        if (s->states[i].previous != s->states[i - 1].current ||
            s->states[i].previous == s->states[i].current) {
            fprintf(stderr, "round %d: event %d %s -> %s after %s\n", round, i,
                    chinwag_connection_state_name(s->states[i].previous),
                    chinwag_connection_state_name(s->states[i].current),
                    chinwag_connection_state_name(s->states[i - 1].current));
            return 0;
        }
    }
    return 1;
}

typedef struct {
    int code; /* -1 until sent */
} send_result;

static void sent(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    send_result *r = (send_result *)user_data;
    (void)m;
    pthread_mutex_lock(&g_lock);
    r->code = error ? (int)error->code : 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void send_and_wait(chinwag_client *from, const char *to, const char *text) {
    send_result r = {-1};
    CHECK_OK(chinwag_client_send_text(from, CHINWAG_RECEIVER_TYPE_USER, to, text, sent, &r, NULL));
    WAIT_FOR(r.code != -1);
    CHECK_RC((chinwag_result)r.code, CHINWAG_RESULT_OK);
}

static void listeners_after_init_on_a_restored_session(chinwag_client *sender) {
    char dir[] = "/tmp/chinwag-first-use-XXXXXX";
    char path[128];
    int round, n = rounds(), greeted[6] = {0};
    conn_watch w;
    chinwag_client *c;

    if (mkdtemp(dir) == NULL) {
        CHECK(!"mkdtemp");
        return;
    }
    /* The session to restore. */
    c = new_client(CHINWAG_CONNECT_MODE_AUTO, dir);
    add_watch(c, &w);
    CHECK_RC(login_and_wait(c, "grace"), CHINWAG_RESULT_OK);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);
    chinwag_client_free(c);

    for (round = 0; round < n && g_failures == 0; round++) {
        seen s;
        char text[64];
        memset(&s, 0, sizeof s);
        snprintf(text, sizeof text, "while closed %d", round);
        send_and_wait(sender, "grace", text);
        c = new_client(CHINWAG_CONNECT_MODE_AUTO, dir);
        add_seen_listeners(c, &s);
        WAIT_FOR(s.messages >= 1 && last_state(&s) == CHINWAG_CONNECTION_STATE_CONNECTED);
        chinwag_client_free(c); /* nothing arrives after this: what was seen is final */
        CHECK(s.messages == 1);
        CHECK(strcmp(s.last_text, text) == 0);
        CHECK(chain_ok(&s, round));
        if (s.n_states > 0 && s.states[0].current < 6) greeted[s.states[0].current]++;
    }
    printf("first_use: %d rounds; a listener added after init started from DISCONNECTED %d "
           "times, CONNECTING %d, CONNECTED %d\n",
           round, greeted[CHINWAG_CONNECTION_STATE_DISCONNECTED],
           greeted[CHINWAG_CONNECTION_STATE_CONNECTING], greeted[CHINWAG_CONNECTION_STATE_CONNECTED]);
    snprintf(path, sizeof path, "%s/chinwag-session.json", dir);
    unlink(path);
    rmdir(dir);
}

static void manual_first_connect_resumes_from_login(chinwag_client *sender) {
    seen s;
    chinwag_client *c = new_client(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    chinwag_connection_state now;
    int connected_at;

    memset(&s, 0, sizeof s);
    add_seen_listeners(c, &s);
    send_and_wait(sender, "heidi", "before login"); /* history: not replayed */
    CHECK_RC(login_and_wait(c, "heidi"), CHINWAG_RESULT_OK);
    send_and_wait(sender, "heidi", "between login and connect");
    CHECK_OK(chinwag_client_connection_status(c, &now));
    CHECK(now == CHINWAG_CONNECTION_STATE_DISCONNECTED);
    CHECK_OK(chinwag_client_connect(c));
    WAIT_FOR(s.messages >= 1);
    pthread_mutex_lock(&g_lock);
    connected_at = last_state(&s);
    pthread_mutex_unlock(&g_lock);
    CHECK(connected_at == CHINWAG_CONNECTION_STATE_CONNECTED); /* CONNECTED came first */
    CHECK(strcmp(s.last_text, "between login and connect") == 0);
    pause_ms(300); /* a second copy would come right behind the first */
    CHECK(read_counter(&s.messages) == 1);
    chinwag_client_free(c);
}

int main(int argc, char **argv) {
    chinwag_client *sender;
    conn_watch w;
    read_server(argc, argv);

    create_user_and_the_logged_in_user();

    sender = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    add_watch(sender, &w);
    CHECK_RC(login_and_wait(sender, "ivan"), CHINWAG_RESULT_OK);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);
    manual_first_connect_resumes_from_login(sender);
    listeners_after_init_on_a_restored_session(sender);
    chinwag_client_free(sender);
    return finish("first_use");
}
