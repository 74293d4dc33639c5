/* App-driven dispatch (CHINWAG_DISPATCH_MODE_APP) from C: the main thread is the app's event
 * loop, poll(2) on chinwag_client_dispatch_fd then chinwag_client_dispatch. Checks: thread
 * mode has neither; callbacks and completions run on the dispatching thread, in order, at most
 * max_items per call; the descriptor is readable exactly while events wait; dispatch from
 * inside a callback is REENTRANT_CALL; a free from inside a callback is finished by the
 * dispatch call after the callback returns; a free from outside runs every completion exactly
 * once before it returns. A sender in thread mode keeps its own callbacks on its own thread. */
#include "common.h"

#include <poll.h>

static pthread_t g_main;

/* Whether `fd` becomes readable within `timeout_ms` (poll(2), restarted on EINTR). */
static int fd_readable(int fd, int timeout_ms) {
    struct pollfd p;
    int n;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n == 1 && (p.revents & POLLIN) != 0;
}

static int ms_left(time_t deadline) {
    time_t now = time(NULL);
    return now >= deadline ? 0 : (int)(deadline - now) * 1000;
}

/* The event loop: waits for the descriptor and dispatches at most `max` items per call (0:
 * all waiting) until `cond` holds; fails after WAIT_SECONDS. Callbacks run right here. */
#define PUMP_UNTIL(client, fd, max, cond)                                                     \
    do {                                                                                      \
        time_t dl_ = time(NULL) + WAIT_SECONDS;                                               \
        while (!(cond)) {                                                                     \
            size_t ran_ = 0;                                                                  \
            if (ms_left(dl_) == 0) {                                                          \
                fail_at(__FILE__, __LINE__, "timed out waiting for %s", #cond);               \
                break;                                                                        \
            }                                                                                 \
            if (!fd_readable((fd), ms_left(dl_))) continue;                                   \
            CHECK_OK(chinwag_client_dispatch((client), (max), &ran_));                        \
            CHECK((max) == 0 || ran_ <= (size_t)(max));                                       \
        }                                                                                     \
    } while (0)

/* Dispatches until nothing waits. */
static void drain(chinwag_client *c, int fd) {
    while (fd_readable(fd, 0)) CHECK_OK(chinwag_client_dispatch(c, 0, NULL));
}

static chinwag_client *app_client(void) {
    chinwag_settings s = test_settings(CHINWAG_CONNECT_MODE_AUTO, NULL);
    chinwag_client *c = NULL;
    s.dispatch_mode = CHINWAG_DISPATCH_MODE_APP;
    CHECK_OK(chinwag_client_init("chinwag-app", &s, &c));
    if (c == NULL) {
        fprintf(stderr, "cannot create an app-mode client\n");
        exit(1);
    }
    return c;
}

/* ----- the app-mode client's view -------------------------------------------------------- */

#define MESSAGES 60

typedef struct {
    chinwag_client *client;
    chinwag_connection_state state;
    int received;
    int out_of_order;    /* a text that was not "n<received>" */
    int off_thread;      /* callbacks or completions not on the main thread */
    int reentry_checked; /* dispatch from inside a callback: REENTRANT_CALL seen */
    int reentry_wrong;
    int freed;           /* user_data_free runs */
    /* the free-inside-a-callback case */
    int free_inside;
    int free_returned;
    int freed_during_callback;
    int late;            /* callbacks after the free */
    int completion_runs;
    chinwag_result completion_code;
} app_view;

static void note_thread(app_view *v) {
    if (!pthread_equal(pthread_self(), g_main)) v->off_thread++;
}

static void app_state(void *user_data, const chinwag_state_change *change) {
    app_view *v = (app_view *)user_data;
    note_thread(v);
    v->state = change->current;
}

static void app_send_done(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    app_view *v = (app_view *)user_data;
    (void)m;
    note_thread(v);
    v->completion_runs++;
    v->completion_code = error ? error->code : CHINWAG_RESULT_OK;
}

static void app_text(void *user_data, const chinwag_message *m) {
    app_view *v = (app_view *)user_data;
    char want[32];
    note_thread(v);
    if (v->free_returned) v->late++;
    snprintf(want, sizeof want, "n%d", v->received);
    if (m->text == NULL || strcmp(m->text, want) != 0) v->out_of_order++;
    v->received++;
    if (v->reentry_checked == 0) {
        size_t ran = 12345;
        chinwag_result rc = chinwag_client_dispatch(v->client, 0, &ran);
        v->reentry_checked = 1;
        if (rc != CHINWAG_RESULT_REENTRANT_CALL || ran != 12345) v->reentry_wrong++;
    }
    if (v->free_inside && v->received == 1) {
        /* A completion still unresolved when the client goes: it runs exactly once, after
         * this callback returns and before the dispatch call does. */
        CHECK_OK(chinwag_client_send_text(v->client, CHINWAG_RECEIVER_TYPE_USER, "peggy", "late",
                                          app_send_done, v, NULL));
        chinwag_client_free(v->client); /* deferred until this callback returns */
        CHECK_RC(chinwag_client_connect(v->client), CHINWAG_RESULT_CLIENT_FREED);
        v->freed_during_callback = v->freed;
        CHECK(v->completion_runs == 0);
        v->free_returned = 1;
    }
}

static void app_freed(void *user_data) {
    app_view *v = (app_view *)user_data;
    note_thread(v);
    v->freed++;
}

static void app_login_done(void *user_data, const chinwag_error *error, const chinwag_user *user) {
    app_view *v = (app_view *)user_data;
    (void)user;
    note_thread(v);
    CHECK(error == NULL);
    v->completion_runs++;
}

/* An app-mode client logged in as `uid`, CONNECTED and drained; its descriptor in *fd. */
static void app_start(app_view *v, const char *uid, int *fd) {
    chinwag_connection_listener cl;
    chinwag_message_listener ml;
    memset(v, 0, sizeof *v);
    v->client = app_client();
    CHECK_OK(chinwag_client_dispatch_fd(v->client, fd));
    CHECK(*fd >= 0);
    memset(&cl, 0, sizeof cl);
    cl.struct_size = sizeof cl;
    cl.on_state_changed = app_state;
    CHECK_OK(chinwag_client_add_connection_listener(v->client, "view", &cl, v, app_freed));
    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    ml.on_text_message_received = app_text;
    CHECK_OK(chinwag_client_add_message_listener(v->client, "view", &ml, v, app_freed));
    CHECK_OK(chinwag_client_login(v->client, uid, g_auth_key, app_login_done, v));
    CHECK(v->completion_runs == 0); /* nothing runs before the app dispatches */
    PUMP_UNTIL(v->client, *fd, 0,
               v->completion_runs == 1 && v->state == CHINWAG_CONNECTION_STATE_CONNECTED);
    v->completion_runs = 0;
    drain(v->client, *fd);
}

/* ----- the sender, in thread mode -------------------------------------------------------- */

static int g_sent_done;

static void sender_done(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    (void)user_data;
    (void)m;
    CHECK(error == NULL);
    bump(&g_sent_done);
}

static void send_numbered(chinwag_client *sender, const char *to, int n) {
    int i;
    pthread_mutex_lock(&g_lock);
    g_sent_done = 0;
    pthread_mutex_unlock(&g_lock);
    for (i = 0; i < n; i++) {
        char text[32];
        snprintf(text, sizeof text, "n%d", i);
        CHECK_OK(chinwag_client_send_text(sender, CHINWAG_RECEIVER_TYPE_USER, to, text,
                                          sender_done, NULL, NULL));
    }
    WAIT_FOR(g_sent_done == n);
}

/* ----- the cases ------------------------------------------------------------------------- */

static void thread_mode_has_neither(void) {
    chinwag_settings s = test_settings(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    chinwag_client *c = NULL;
    int fd = -7;
    size_t ran = 7;
    printf("app_dispatch: thread mode has no descriptor and no dispatch\n");
    s.dispatch_mode = 2;
    CHECK_RC(chinwag_client_init("chinwag-app", &s, &c), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(c == NULL);
    c = new_client(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    CHECK_RC(chinwag_client_dispatch_fd(c, &fd), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(fd == -7);
    CHECK_RC(chinwag_client_dispatch(c, 0, &ran), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(ran == 7);
    CHECK_RC(chinwag_client_dispatch_fd(NULL, &fd), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_dispatch(NULL, 0, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    chinwag_client_free(c);
    CHECK_RC(chinwag_client_dispatch(c, 0, NULL), CHINWAG_RESULT_CLIENT_FREED);
}

static void delivery_on_the_main_thread(chinwag_client *sender) {
    app_view v;
    int fd = -1;
    printf("app_dispatch: %d messages, in order, on this thread, 3 at a time\n", MESSAGES);
    app_start(&v, "olivia", &fd);
    CHECK(!fd_readable(fd, 200)); /* idle and drained */
    send_numbered(sender, "olivia", MESSAGES);
    CHECK(fd_readable(fd, WAIT_SECONDS * 1000));
    CHECK(v.received == 0); /* nothing runs before dispatch */
    PUMP_UNTIL(v.client, fd, 3, v.received == MESSAGES);
    CHECK(!fd_readable(fd, 0));
    CHECK(v.out_of_order == 0);
    CHECK(v.off_thread == 0);
    CHECK(v.reentry_checked == 1 && v.reentry_wrong == 0);
    /* A free from outside any callback: listeners released before it returns. */
    chinwag_client_free(v.client);
    CHECK(v.freed == 2);
    CHECK(v.off_thread == 0);
}

static void freed_inside_a_callback(chinwag_client *sender) {
    app_view v;
    int fd = -1;
    size_t ran = 0;
    printf("app_dispatch: freed inside its own callback\n");
    app_start(&v, "rupert", &fd);
    v.free_inside = 1;
    send_numbered(sender, "rupert", 3);
    CHECK(fd_readable(fd, WAIT_SECONDS * 1000));
    CHECK_OK(chinwag_client_dispatch(v.client, 0, &ran));
    CHECK(ran >= 1);
    CHECK(v.free_returned == 1);
    CHECK(v.freed_during_callback == 0); /* released only after the callback returned */
    CHECK(v.freed == 2);                  /* ...and before dispatch returned */
    CHECK(v.completion_runs == 1);        /* exactly once */
    CHECK(v.completion_code == CHINWAG_RESULT_CANCELLED ||
          v.completion_code == CHINWAG_RESULT_OK);
    CHECK(v.received == 1);
    CHECK(v.late == 0);
    CHECK(v.off_thread == 0);
    CHECK_RC(chinwag_client_dispatch(v.client, 0, &ran), CHINWAG_RESULT_CLIENT_FREED);
}

static void freed_with_completions_waiting(void) {
    app_view v;
    int fd = -1;
    int i;
    printf("app_dispatch: freed with completions waiting: each runs once before free returns\n");
    app_start(&v, "sybil", &fd);
    for (i = 0; i < 5; i++)
        CHECK_OK(chinwag_client_send_text(v.client, CHINWAG_RECEIVER_TYPE_USER, "peggy", "bye",
                                          app_send_done, &v, NULL));
    /* No dispatch: whether acknowledged (queued) or not (cancelled), each runs in the free. */
    CHECK(v.completion_runs == 0);
    chinwag_client_free(v.client);
    CHECK(v.completion_runs == 5);
    CHECK(v.freed == 2);
    CHECK(v.off_thread == 0);
}

int main(int argc, char **argv) {
    chinwag_client *sender;
    conn_watch w;
    read_server(argc, argv);
    g_main = pthread_self();
    sender = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    add_watch(sender, &w);
    CHECK(login_and_wait(sender, "peggy") == 0);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);

    thread_mode_has_neither();
    delivery_on_the_main_thread(sender);
    freed_inside_a_callback(sender);
    freed_with_completions_waiting();

    chinwag_client_free(sender);
    return finish("app_dispatch");
}
