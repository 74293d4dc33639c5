/* Chinwag: group chat and calls.
 *
 * Three apps, one user each (alice, bob, carol), in one process for the demo:
 *   1. they log in;
 *   2. Alice creates a private group and adds Bob and Carol;
 *   3. all three chat in the group (each app prints what it receives);
 *   4. Alice calls the group: it rings on Bob's and Carol's apps, Bob answers, Alice sees the
 *      call accepted, then hangs up and the others see it ended;
 *   5. Alice calls Carol, who does not answer: after the server's timeout both see the call
 *      cancelled as "unanswered".
 *
 * Chinwag only does the signalling of a call (ringing, answer, hang-up); the app carries the
 * audio and video itself (WebRTC or the like), using the call's session id to pair the sides.
 *
 * Build: cc -std=c99 group_call.c $(pkg-config --cflags --libs chinwag) -pthread
 * Run:   ./group_call URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
 * The users alice, bob and carol must exist. `make demo` sets this up, with a server that gives
 * up on unanswered calls after 3 s (CHINWAG_TEST_CALL_TIMEOUT_MS); a real server waits 45 s.
 */
#define _POSIX_C_SOURCE 200809L

#include <chinwag.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What one app knows. Its callbacks run on its client's own thread and update it under `lock`;
 * main() waits on `changed` for the counters to move. */
typedef struct {
    const char *name;
    chinwag_client *client;
    chinwag_connection_state state;
    int done;          /* completions of the app's own requests */
    int failed;        /* ... that failed */
    int messages;      /* group messages received */
    int group_events;  /* membership changes heard */
    int rang;          /* incoming calls */
    int accepted;      /* calls answered (heard by the other participants) */
    int ended;         /* calls ended by someone else */
    int cancelled;     /* calls cancelled or not answered */
    char ringing[64];  /* session id of the call ringing on this app ("" if none) */
} app;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

/* Adds one to a counter of an app and wakes main(). */
static void bump(int *counter) {
    pthread_mutex_lock(&lock);
    (*counter)++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static int count(const int *counter) {
    int v;
    pthread_mutex_lock(&lock);
    v = *counter;
    pthread_mutex_unlock(&lock);
    return v;
}

/* ----- listeners: each prints what it hears --------------------------------------------------- */

static void on_state(void *user_data, const chinwag_state_change *change) {
    app *a = (app *)user_data;
    pthread_mutex_lock(&lock);
    a->state = change->current;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_group_message(void *user_data, const chinwag_message *m) {
    app *a = (app *)user_data;
    if (m->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP)
        printf("[%s]   %s in %s: \"%s\"\n", a->name, m->sender, m->receiver, m->text);
    else
        printf("[%s]   %s to me: \"%s\"\n", a->name, m->sender, m->text);
    bump(&a->messages);
}

static void on_member_added(void *user_data, const chinwag_group_member_event *e) {
    app *a = (app *)user_data;
    printf("[%s]   %s added %s to \"%s\" as %s\n", a->name, e->by, e->member, e->group_name,
           e->scope ? e->scope : "participant");
    bump(&a->group_events);
}

/* The payload is only valid during the callback: keep what is needed (here, the session id). */
static void on_incoming_call(void *user_data, const chinwag_call *call) {
    app *a = (app *)user_data;
    if (call->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP)
        printf("[%s]   ring ring: %s call from %s to the group %s\n", a->name, call->call_type,
               call->initiator, call->receiver);
    else
        printf("[%s]   ring ring: %s call from %s\n", a->name, call->call_type, call->initiator);
    pthread_mutex_lock(&lock);
    snprintf(a->ringing, sizeof a->ringing, "%s", call->session_id);
    a->rang++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_call_accepted(void *user_data, const chinwag_call *call) {
    app *a = (app *)user_data;
    int was_ringing;
    pthread_mutex_lock(&lock);
    was_ringing = strcmp(a->ringing, call->session_id) == 0;
    if (was_ringing) a->ringing[0] = '\0'; /* someone else took it: stop ringing here */
    pthread_mutex_unlock(&lock);
    if (was_ringing)
        printf("[%s]   %s answered the group call; it stops ringing here\n", a->name, call->by);
    else
        printf("[%s]   %s answered: the call is %s\n", a->name, call->by, call->status);
    bump(&a->accepted);
}

static void on_call_rejected(void *user_data, const chinwag_call *call) {
    app *a = (app *)user_data;
    printf("[%s]   %s declined the call (%s)\n", a->name, call->by, call->status);
}

/* Cancelled by the caller ("cancelled") or given up by the server ("unanswered"). */
static void on_call_cancelled(void *user_data, const chinwag_call *call) {
    app *a = (app *)user_data;
    int caller = strcmp(call->initiator, a->name) == 0;
    if (strcmp(call->status, "unanswered") == 0)
        printf("[%s]   %s\n", a->name, caller ? "nobody answered: the call was cancelled (unanswered)"
                                              : "missed call: it stopped ringing (unanswered)");
    else
        printf("[%s]   %s cancelled the call\n", a->name, call->by);
    pthread_mutex_lock(&lock);
    a->ringing[0] = '\0';
    a->cancelled++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_call_ended(void *user_data, const chinwag_call *call) {
    app *a = (app *)user_data;
    printf("[%s]   %s hung up: the call has ended\n", a->name, call->by);
    bump(&a->ended);
}

/* ----- completions of the app's own requests -------------------------------------------------- */

static void report(app *a, const char *what, const chinwag_error *error) {
    if (error != NULL) {
        printf("[%s] %s failed: %s: %s\n", a->name, what, error->name, error->message);
        bump(&a->failed);
    }
    bump(&a->done);
}

static void on_logged_in(void *user_data, const chinwag_error *error, const chinwag_user *user) {
    app *a = (app *)user_data;
    if (user != NULL) printf("[%s] logged in as %s\n", a->name, user->name);
    report(a, "login", error);
}

static void on_group_created(void *user_data, const chinwag_error *error, const chinwag_group *g) {
    app *a = (app *)user_data;
    if (g != NULL)
        printf("[%s] created the %s group \"%s\" (%s); my scope: %s\n", a->name,
               g->group_type == CHINWAG_GROUP_TYPE_PRIVATE ? "private" : "public", g->name, g->guid,
               g->scope);
    report(a, "create group", error);
}

static void on_members(void *user_data, const chinwag_error *error, const chinwag_member_list *list) {
    app *a = (app *)user_data;
    size_t i;
    if (list != NULL) {
        printf("[%s] the group now has %zu members:", a->name, list->len);
        for (i = 0; i < list->len; i++)
            printf(" %s (%s)%s", list->items[i].user.uid, list->items[i].scope, i + 1 < list->len ? "," : "\n");
    }
    report(a, "add members", error);
}

static void on_sent(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    (void)m;
    report((app *)user_data, "send", error);
}

static void on_call_request(void *user_data, const chinwag_error *error, const chinwag_call *call) {
    app *a = (app *)user_data;
    if (call != NULL) printf("[%s] call %s is now %s\n", a->name, call->session_id, call->status);
    report(a, "call request", error);
}

static void on_logged_out(void *user_data, const chinwag_error *error) {
    report((app *)user_data, "logout", error);
}

/* ----- helpers ------------------------------------------------------------------------------------ */

static void fail(const char *what) {
    char message[512];
    chinwag_last_error_message(message, sizeof message, NULL);
    fprintf(stderr, "group_call: %s failed: %s\n", what, message);
    exit(1);
}

#define TRY(call)                                                                                \
    do {                                                                                         \
        if ((call) != CHINWAG_RESULT_OK) fail(#call);                                            \
    } while (0)

/* Waits up to `seconds` for `*value >= at_least` (an app's counter). */
static void wait_for(const int *value, int at_least, int seconds, const char *what) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&lock);
    while (*value < at_least) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "group_call: timed out waiting for %s\n", what);
            exit(1);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* Makes a request of `a` and waits for its completion, which must succeed. */
#define REQUEST(a, call)                                                                         \
    do {                                                                                         \
        int before_ = count(&(a)->done);                                                         \
        TRY(call);                                                                               \
        wait_for(&(a)->done, before_ + 1, 60, #call);                                            \
        if (count(&(a)->failed) != 0) exit(1);                                                   \
    } while (0)

/* One app: a client with its listeners, logged in and connected. */
static void start_app(app *a, const char *url, const char *auth_key) {
    chinwag_settings settings;
    chinwag_connection_listener connection;
    chinwag_message_listener messages;
    chinwag_group_listener groups;
    chinwag_call_listener calls;

    memset(&settings, 0, sizeof settings); /* zero: the default, for every field */
    settings.struct_size = sizeof settings;
    settings.server_url = url;
    TRY(chinwag_client_init("chinwag-app", &settings, &a->client));

    /* Listeners: zero the struct, set struct_size and the callbacks you want. */
    memset(&connection, 0, sizeof connection);
    connection.struct_size = sizeof connection;
    connection.on_state_changed = on_state;
    TRY(chinwag_client_add_connection_listener(a->client, "app", &connection, a, NULL));
    memset(&messages, 0, sizeof messages);
    messages.struct_size = sizeof messages;
    messages.on_text_message_received = on_group_message;
    TRY(chinwag_client_add_message_listener(a->client, "app", &messages, a, NULL));
    memset(&groups, 0, sizeof groups);
    groups.struct_size = sizeof groups;
    groups.on_member_added = on_member_added;
    TRY(chinwag_client_add_group_listener(a->client, "app", &groups, a, NULL));
    memset(&calls, 0, sizeof calls);
    calls.struct_size = sizeof calls;
    calls.on_incoming_call_received = on_incoming_call;
    calls.on_outgoing_call_accepted = on_call_accepted;
    calls.on_outgoing_call_rejected = on_call_rejected;
    calls.on_incoming_call_cancelled = on_call_cancelled;
    calls.on_call_ended = on_call_ended;
    TRY(chinwag_client_add_call_listener(a->client, "app", &calls, a, NULL));

    /* Login saves the session and (auto mode, the default) connects. */
    REQUEST(a, chinwag_client_login(a->client, a->name, auth_key, on_logged_in, a));
}

static void wait_connected(app *a) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&lock);
    while (a->state != CHINWAG_CONNECTION_STATE_CONNECTED) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "group_call: %s did not connect\n", a->name);
            exit(1);
        }
    }
    pthread_mutex_unlock(&lock);
}

static void say(app *a, const char *group, const char *text, app *r1, app *r2) {
    int n1 = count(&r1->messages), n2 = count(&r2->messages);
    printf("[%s] says in the group: \"%s\"\n", a->name, text);
    REQUEST(a, chinwag_client_send_text(a->client, CHINWAG_RECEIVER_TYPE_GROUP, group, text, on_sent, a, NULL));
    wait_for(&r1->messages, n1 + 1, 60, "the message to arrive");
    wait_for(&r2->messages, n2 + 1, 60, "the message to arrive");
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("CHINWAG_URL");
    const char *auth_key = argc > 2 ? argv[2] : getenv("CHINWAG_AUTH_KEY");
    const char *timeout_env = getenv("CHINWAG_TEST_CALL_TIMEOUT_MS");
    int unanswered_wait = 60 + (timeout_env ? atoi(timeout_env) / 1000 : 45);
    app alice, bob, carol;
    app *all[3];
    const char *members[2] = {"bob", "carol"};
    char group[64], session[64];
    char *call_id = NULL;
    chinwag_call *active = NULL;
    struct timespec rang_at, gave_up_at;
    int i;

    if (url == NULL || auth_key == NULL) {
        fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(&alice, 0, sizeof alice);
    memset(&bob, 0, sizeof bob);
    memset(&carol, 0, sizeof carol);
    alice.name = "alice";
    bob.name = "bob";
    carol.name = "carol";
    all[0] = &alice;
    all[1] = &bob;
    all[2] = &carol;

    printf("== 1. Alice, Bob and Carol log in (chinwag %s, server %s)\n", chinwag_version(), url);
    for (i = 0; i < 3; i++) start_app(all[i], url, auth_key);
    for (i = 0; i < 3; i++) wait_connected(all[i]);

    printf("\n== 2. Alice creates a private group and adds Bob and Carol\n");
    snprintf(group, sizeof group, "team-%ld", (long)getpid()); /* group ids are unique per server */
    REQUEST(&alice, chinwag_client_create_group(alice.client, group, "Team", CHINWAG_GROUP_TYPE_PRIVATE,
                                                on_group_created, &alice));
    REQUEST(&alice, chinwag_client_add_group_members(alice.client, group, members, NULL, 2, on_members, &alice));
    wait_for(&bob.group_events, 2, 60, "bob to hear both additions");
    wait_for(&carol.group_events, 1, 60, "carol to hear she was added");

    printf("\n== 3. They chat in the group\n");
    say(&alice, group, "Hi team! Quick call in a minute?", &bob, &carol);
    say(&bob, group, "Sure, ring me.", &alice, &carol);
    say(&carol, group, "I'm in too.", &alice, &bob);

    printf("\n== 4. Alice calls the group: it rings on Bob and Carol; Bob answers\n");
    REQUEST(&alice, chinwag_client_initiate_call(alice.client, CHINWAG_RECEIVER_TYPE_GROUP, group,
                                                 CHINWAG_CALL_TYPE_VIDEO, on_call_request, &alice, &call_id));
    wait_for(&bob.rang, 1, 60, "the call to ring on bob");
    wait_for(&carol.rang, 1, 60, "the call to ring on carol");
    pthread_mutex_lock(&lock);
    snprintf(session, sizeof session, "%s", bob.ringing);
    pthread_mutex_unlock(&lock);
    printf("[bob] answers\n");
    REQUEST(&bob, chinwag_client_accept_call(bob.client, session, on_call_request, &bob));
    wait_for(&alice.accepted, 1, 60, "alice to see the call accepted");
    wait_for(&carol.accepted, 1, 60, "carol's phone to stop ringing");
    TRY(chinwag_client_active_call(alice.client, &active)); /* an owned copy, or NULL */
    if (active != NULL)
        printf("[alice] in call %s with %s: %s\n", active->session_id, active->receiver, active->status);
    chinwag_call_free(active);
    printf("[alice] hangs up\n");
    REQUEST(&alice, chinwag_client_end_call(alice.client, call_id, on_call_request, &alice));
    wait_for(&bob.ended, 1, 60, "bob to see the call ended");
    wait_for(&carol.ended, 1, 60, "carol to see the call ended");
    chinwag_string_free(call_id);

    printf("\n== 5. Alice calls Carol, who does not answer\n");
    clock_gettime(CLOCK_MONOTONIC, &rang_at);
    REQUEST(&alice, chinwag_client_initiate_call(alice.client, CHINWAG_RECEIVER_TYPE_USER, "carol",
                                                 CHINWAG_CALL_TYPE_AUDIO, on_call_request, &alice, NULL));
    wait_for(&carol.rang, 2, 60, "the call to ring on carol");
    printf("[carol] lets it ring...\n");
    wait_for(&carol.cancelled, 1, unanswered_wait, "carol to see the call unanswered");
    wait_for(&alice.cancelled, 1, unanswered_wait, "alice to see the call unanswered");
    clock_gettime(CLOCK_MONOTONIC, &gave_up_at);
    printf("(the server gave up after %.1f s)\n",
           (double)(gave_up_at.tv_sec - rang_at.tv_sec) + (double)(gave_up_at.tv_nsec - rang_at.tv_nsec) / 1e9);

    printf("\n== 6. Everyone logs out\n");
    for (i = 0; i < 3; i++) REQUEST(all[i], chinwag_client_logout(all[i]->client, on_logged_out, all[i]));
    for (i = 0; i < 3; i++) chinwag_client_free(all[i]->client);
    printf("group_call: done\n");
    return 0;
}
