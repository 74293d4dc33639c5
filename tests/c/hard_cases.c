/* The hard cases of the C ABI rules (src/ffi/mod.rs): a listener removed from inside its own callback, the
 * client freed while events are in flight (from the main thread, from another thread, from
 * inside its own callback), 10,000 listener add/remove pairs racing with events, and
 * completions that run exactly once under cancellation. */
#include "common.h"

#include <stdint.h>

/* ----- a sender that keeps messages flowing to a user ----------------------------------- */

typedef struct {
    chinwag_client *client;
    const char *to;
    int max;       /* messages to send; 0: until `stop` */
    int stop;      /* set under g_lock */
    int sent;      /* send calls that returned OK */
    int completed; /* completions run */
    pthread_t thread;
} sender;

static void sender_done(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    sender *s = (sender *)user_data;
    (void)error;
    (void)m;
    bump(&s->completed);
}

static void *sender_main(void *arg) {
    sender *s = (sender *)arg;
    int i;
    for (i = 0; s->max == 0 || i < s->max; i++) {
        char text[64];
        pthread_mutex_lock(&g_lock);
        if (s->stop) {
            pthread_mutex_unlock(&g_lock);
            break;
        }
        pthread_mutex_unlock(&g_lock);
        snprintf(text, sizeof text, "message %d", i);
        if (chinwag_client_send_text(s->client, CHINWAG_RECEIVER_TYPE_USER, s->to, text,
                                     sender_done, s, NULL) == CHINWAG_RESULT_OK)
            bump(&s->sent);
        pause_ms(s->max == 0 ? 5 : 1);
    }
    return NULL;
}

static void sender_start(sender *s, chinwag_client *c, const char *to, int max) {
    memset(s, 0, sizeof *s);
    s->client = c;
    s->to = to;
    s->max = max;
    pthread_create(&s->thread, NULL, sender_main, s);
}

static void sender_finish(sender *s) {
    pthread_mutex_lock(&g_lock);
    s->stop = 1;
    pthread_mutex_unlock(&g_lock);
    pthread_join(s->thread, NULL);
    WAIT_FOR(s->completed == s->sent);
}

/* ----- a receiver: one client of a user with a counting message listener ----------------- */

typedef struct {
    chinwag_client *client;
    conn_watch watch;
    int received;       /* text messages seen */
    int freed;          /* user_data_free runs */
    int free_returned;  /* chinwag_client_free has returned */
    int late;           /* callbacks that ran after free returned */
    int free_inside;    /* free from inside the first callback */
    int second_calls;   /* calls of a second listener */
} receiver;

static void receiver_message(void *user_data, const chinwag_message *m) {
    receiver *r = (receiver *)user_data;
    int free_now;
    (void)m;
    pthread_mutex_lock(&g_lock);
    r->received++;
    if (r->free_returned) r->late++;
    free_now = r->free_inside && r->received == 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    if (free_now) {
        chinwag_client_free(r->client); /* deferred until this callback returns */
        CHECK_RC(chinwag_client_connect(r->client), CHINWAG_RESULT_CLIENT_FREED);
        bump(&r->free_returned);
    }
}

static void second_message(void *user_data, const chinwag_message *m) {
    receiver *r = (receiver *)user_data;
    (void)m;
    bump(&r->second_calls);
}

static void receiver_freed(void *user_data) {
    receiver *r = (receiver *)user_data;
    bump(&r->freed);
}

static void receiver_start(receiver *r, const char *uid) {
    chinwag_message_listener l;
    memset(r, 0, sizeof *r);
    r->client = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    add_watch(r->client, &r->watch);
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = receiver_message;
    CHECK_OK(chinwag_client_add_message_listener(r->client, "count", &l, r, receiver_freed));
    l.on_text_message_received = second_message;
    CHECK_OK(chinwag_client_add_message_listener(r->client, "second", &l, r, receiver_freed));
    CHECK(login_and_wait(r->client, uid) == 0);
    WAIT_FOR(r->watch.state == CHINWAG_CONNECTION_STATE_CONNECTED);
}

/* ----- 1. a listener removed from inside its own callback --------------------------------- */

typedef struct {
    chinwag_client *client;
    int calls;
    int freed;
    chinwag_result remove_rc;
    int freed_during_callback;
} self_remover;

static void self_remove(void *user_data, const chinwag_message *m) {
    self_remover *s = (self_remover *)user_data;
    chinwag_result rc;
    (void)m;
    bump(&s->calls);
    rc = chinwag_client_remove_message_listener(s->client, "self");
    pthread_mutex_lock(&g_lock);
    s->remove_rc = rc;
    s->freed_during_callback = s->freed; /* released only after this returns */
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void self_freed(void *user_data) {
    self_remover *s = (self_remover *)user_data;
    bump(&s->freed);
}

static void listener_removes_itself(chinwag_client *sender_client) {
    receiver r;
    self_remover s;
    chinwag_message_listener l;
    sender snd;
    printf("hard_cases: a listener removes itself inside its own callback\n");
    receiver_start(&r, "frank");
    memset(&s, 0, sizeof s);
    s.client = r.client;
    s.remove_rc = 9999;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = self_remove;
    CHECK_OK(chinwag_client_add_message_listener(r.client, "self", &l, &s, self_freed));
    sender_start(&snd, sender_client, "frank", 5);
    WAIT_FOR(r.received >= 5);
    sender_finish(&snd);
    CHECK(read_counter(&s.calls) == 1);
    CHECK(s.remove_rc == CHINWAG_RESULT_OK);
    CHECK(s.freed_during_callback == 0);
    WAIT_FOR(s.freed == 1);
    chinwag_client_free(r.client);
    CHECK(read_counter(&s.freed) == 1);
    CHECK(read_counter(&r.freed) == 2);
}

/* ----- 2. the client freed while events are in flight ------------------------------------ */

static void *free_in_thread(void *arg) {
    receiver *r = (receiver *)arg;
    chinwag_client_free(r->client);
    pthread_mutex_lock(&g_lock);
    r->free_returned = 1;
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void freed_while_events_flow(chinwag_client *sender_client, int from_thread) {
    receiver r;
    sender snd;
    printf("hard_cases: client freed %s while messages arrive\n",
           from_thread ? "from another thread" : "from the main thread");
    receiver_start(&r, "frank");
    sender_start(&snd, sender_client, "frank", 0);
    WAIT_FOR(r.received >= 3);
    if (from_thread) {
        pthread_t t;
        chinwag_connection_state state;
        pthread_create(&t, NULL, free_in_thread, &r);
        /* Calls racing with the free: each either works or reports CLIENT_FREED. */
        for (;;) {
            chinwag_result rc = chinwag_client_connection_status(r.client, &state);
            if (rc == CHINWAG_RESULT_CLIENT_FREED) break;
            CHECK(rc == CHINWAG_RESULT_OK);
            pause_ms(1); /* no busy loop: valgrind runs one thread at a time */
        }
        pthread_join(t, NULL);
    } else {
        chinwag_client_free(r.client);
        pthread_mutex_lock(&g_lock);
        r.free_returned = 1;
        pthread_mutex_unlock(&g_lock);
    }
    /* Every listener was released before free returned... */
    CHECK(read_counter(&r.freed) == 2);
    /* ...and none runs afterwards, though messages keep coming. */
    pause_ms(300);
    CHECK(read_counter(&r.late) == 0);
    sender_finish(&snd);
    CHECK(read_counter(&r.late) == 0);
}

static void freed_inside_callback(chinwag_client *sender_client) {
    receiver r;
    sender snd;
    printf("hard_cases: client freed inside its own callback\n");
    receiver_start(&r, "frank");
    pthread_mutex_lock(&g_lock);
    r.free_inside = 1;
    pthread_mutex_unlock(&g_lock);
    sender_start(&snd, sender_client, "frank", 0);
    WAIT_FOR(r.free_returned == 1);
    WAIT_FOR(r.freed == 2); /* released on the dispatcher thread after the callback */
    pause_ms(300);
    sender_finish(&snd);
    CHECK(read_counter(&r.received) == 1);
    /* The listener after the one that freed the client never heard this event. */
    CHECK(read_counter(&r.second_calls) == 0);
    CHECK(read_counter(&r.freed) == 2);
}

/* ----- 3. 10,000 listener add/remove pairs racing with events ----------------------------- */

#define PAIRS 10000

typedef struct {
    chinwag_client *client;
    const char *id;
    const char *inner_id;
    int frees;
    int failures;
    int callback_failures;
} churner;

static void nothing(void *user_data, const chinwag_message *m) {
    (void)user_data;
    (void)m;
}

/* The churned listener calls back into the client while the other thread may be waiting in
 * remove for this very callback to return. */
static void churn_message(void *user_data, const chinwag_message *m) {
    churner *c = (churner *)user_data;
    chinwag_message_listener l;
    (void)m;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = nothing;
    if (chinwag_client_add_message_listener(c->client, c->inner_id, &l, NULL, NULL) != CHINWAG_RESULT_OK ||
        chinwag_client_remove_message_listener(c->client, c->inner_id) != CHINWAG_RESULT_OK)
        bump(&c->callback_failures);
}

static void churn_free(void *user_data) {
    churner *c = (churner *)user_data;
    bump(&c->frees);
}

static void *churn(void *arg) {
    churner *c = (churner *)arg;
    chinwag_message_listener l;
    int i;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = churn_message;
    for (i = 0; i < PAIRS; i++) {
        if (chinwag_client_add_message_listener(c->client, c->id, &l, c, churn_free) !=
            CHINWAG_RESULT_OK)
            c->failures++;
        if (chinwag_client_remove_message_listener(c->client, c->id) != CHINWAG_RESULT_OK)
            c->failures++;
        /* Removed outside a callback: released before remove returned. */
        if (read_counter(&c->frees) != i + 1) c->failures++;
    }
    return NULL;
}

/* A listener that itself adds and removes another listener on every event, re-entrantly,
 * while other threads' removals may be waiting for it. */
typedef struct {
    chinwag_client *client;
    int calls;
    int failures;
    int inner_frees;
} reentrant;

static void inner_free(void *user_data) {
    reentrant *r = (reentrant *)user_data;
    bump(&r->inner_frees);
}

static void reentrant_message(void *user_data, const chinwag_message *m) {
    reentrant *r = (reentrant *)user_data;
    chinwag_message_listener l;
    (void)m;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = nothing;
    if (chinwag_client_add_message_listener(r->client, "inner", &l, r, inner_free) != CHINWAG_RESULT_OK ||
        chinwag_client_remove_message_listener(r->client, "inner") != CHINWAG_RESULT_OK)
        bump(&r->failures);
    bump(&r->calls);
}

static void add_remove_race(chinwag_client *sender_client) {
    receiver r;
    sender snd;
    churner a, b;
    reentrant re;
    pthread_t ta, tb;
    chinwag_message_listener l;
    printf("hard_cases: %d listener add/remove pairs on each of two threads, racing with events\n", PAIRS);
    receiver_start(&r, "frank");
    memset(&re, 0, sizeof re);
    re.client = r.client;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_text_message_received = reentrant_message;
    CHECK_OK(chinwag_client_add_message_listener(r.client, "reentrant", &l, &re, NULL));
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.client = b.client = r.client;
    a.id = "race-a";
    a.inner_id = "inner-a";
    b.id = "race-b";
    b.inner_id = "inner-b";
    sender_start(&snd, sender_client, "frank", 0);
    WAIT_FOR(r.received >= 1);
    pthread_create(&ta, NULL, churn, &a);
    pthread_create(&tb, NULL, churn, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    sender_finish(&snd);
    printf("  %d messages arrived during the race\n", read_counter(&r.received));
    CHECK(a.failures == 0 && b.failures == 0);
    CHECK(read_counter(&a.callback_failures) == 0 && read_counter(&b.callback_failures) == 0);
    CHECK(read_counter(&a.frees) == PAIRS && read_counter(&b.frees) == PAIRS);
    chinwag_client_free(r.client); /* every callback has returned when this returns */
    CHECK(re.failures == 0);
    CHECK(re.calls > 0 && re.inner_frees == re.calls);
}

/* ----- 4. completions exactly once under cancellation ------------------------------------ */

#define SENDS 40

typedef struct {
    int count;
    int code;
} slot;

static slot slots[SENDS];
/* Sends accepted (the rest were refused synchronously and must never complete). */
static int queued = 0;
/* When set, the first completion to run frees this client from inside itself. */
static chinwag_client *free_target = NULL;

static void slot_done(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    slot *s = (slot *)user_data;
    chinwag_client *to_free;
    pthread_mutex_lock(&g_lock);
    s->count++;
    s->code = error ? (int)error->code : 0;
    if (error == NULL && m == NULL) s->code = -2;
    to_free = free_target;
    free_target = NULL;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    if (to_free) chinwag_client_free(to_free);
}

static int all_done(void) {
    int i;
    for (i = 0; i < queued; i++)
        if (slots[i].count == 0) return 0;
    return 1;
}

/* Checks every slot ran once with one of the allowed codes; prints the distribution. */
static void check_slots(const char *what, int allowed_a, int allowed_b) {
    int i, a = 0, b = 0;
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < SENDS; i++) {
        if (slots[i].count != (i < queued ? 1 : 0)) {
            fprintf(stderr, "FAIL: %s: completion %d ran %d times\n", what, i, slots[i].count);
            g_failures++;
        }
        if (i >= queued) continue;
        if (slots[i].code == allowed_a) a++;
        else if (slots[i].code == allowed_b) b++;
        else {
            fprintf(stderr, "FAIL: %s: completion %d ended with %s\n", what, i,
                    chinwag_result_name((chinwag_result)slots[i].code));
            g_failures++;
        }
    }
    pthread_mutex_unlock(&g_lock);
    printf("  %s: %d x %s, %d x %s, each exactly once", what, a,
           chinwag_result_name((chinwag_result)allowed_a), b,
           chinwag_result_name((chinwag_result)allowed_b));
    if (queued < SENDS) printf(" (%d later sends refused: CLIENT_FREED, never completed)", SENDS - queued);
    printf("\n");
}

static chinwag_client *queue_sends(const char *uid, int free_inside) {
    chinwag_client *c = new_client(CHINWAG_CONNECT_MODE_MANUAL, NULL);
    int i;
    CHECK(login_and_wait(c, uid) == 0);
    pthread_mutex_lock(&g_lock);
    memset(slots, 0, sizeof slots);
    free_target = free_inside ? c : NULL;
    pthread_mutex_unlock(&g_lock);
    CHECK_OK(chinwag_client_connect(c));
    queued = SENDS;
    for (i = 0; i < SENDS; i++) {
        chinwag_result rc = chinwag_client_send_text(c, CHINWAG_RECEIVER_TYPE_USER, "grace",
                                                     "queued", slot_done, &slots[i], NULL);
        /* With free_inside, an early completion may already have freed the client. */
        if (free_inside && rc == CHINWAG_RESULT_CLIENT_FREED) {
            pthread_mutex_lock(&g_lock);
            queued = i;
            pthread_mutex_unlock(&g_lock);
            break;
        }
        CHECK_OK(rc);
    }
    return c;
}

static void completions_exactly_once(void) {
    chinwag_client *c;
    int login_result = -1;
    int logout_result = -1;
    printf("hard_cases: completions run exactly once under cancellation\n");

    c = queue_sends("heidi", 0);
    chinwag_client_free(c); /* returns after every completion ran */
    check_slots("sends queued, then free", CHINWAG_RESULT_OK, CHINWAG_RESULT_CANCELLED);

    c = queue_sends("heidi", 1); /* the first completion frees the client from inside itself */
    WAIT_FOR(all_done() && free_target == NULL);
    pause_ms(200);
    check_slots("free inside the first completion", CHINWAG_RESULT_OK, CHINWAG_RESULT_CANCELLED);

    c = queue_sends("heidi", 0);
    CHECK_OK(chinwag_client_logout(c, logout_done, &logout_result));
    WAIT_FOR(all_done() && logout_result != -1);
    check_slots("sends queued, then logout", CHINWAG_RESULT_OK, CHINWAG_RESULT_LOGGED_OUT);
    chinwag_client_free(c);

    c = queue_sends("heidi", 0);
    CHECK_OK(chinwag_client_disconnect(c));
    WAIT_FOR(all_done());
    check_slots("sends queued, then disconnect", CHINWAG_RESULT_OK, CHINWAG_RESULT_DISCONNECTED);
    chinwag_client_free(c);

    c = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    CHECK_OK(chinwag_client_login(c, "heidi", g_auth_key, login_done, &login_result));
    chinwag_client_free(c);
    CHECK(login_result == 0 || login_result == CHINWAG_RESULT_CANCELLED);
    printf("  login, then free: the completion ran once with %s\n",
           chinwag_result_name((chinwag_result)login_result));
}

int main(int argc, char **argv) {
    chinwag_client *s;
    conn_watch w;
    read_server(argc, argv);
    s = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    add_watch(s, &w);
    CHECK(login_and_wait(s, "erin") == 0);
    WAIT_FOR(w.state == CHINWAG_CONNECTION_STATE_CONNECTED);

    listener_removes_itself(s);
    freed_while_events_flow(s, 0);
    freed_while_events_flow(s, 1);
    freed_inside_callback(s);
    add_remove_race(s);
    completions_exactly_once();

    chinwag_client_free(s);
    return finish("hard_cases");
}
