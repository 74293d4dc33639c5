/* Chinwag manual connection control (auto-connect off).
 *
 * Carol's app controls the connection itself: connect() before anyone logged in fails with a
 * clear error; login does not connect (but records where carol stands); connect() does, and
 * what was sent to her since the login arrives, then live events; disconnect() stops them
 * (nothing is delivered while disconnected); connect() again resumes, and the server replays
 * what was missed.
 *
 * Build: cc -std=c99 manual_connection.c $(pkg-config --cflags --libs chinwag) -pthread
 * Run:   ./manual_connection URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
 * The users "carol" and "dave" must exist on the server (`make demo` sets all this up).
 */
#define _POSIX_C_SOURCE 200809L

#include <chinwag.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *name;
    chinwag_connection_state state;
    int state_events;
    int received;
    int logged_in;
    int sent;
} app;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void on_state(void *user_data, const chinwag_state_change *change) {
    app *a = (app *)user_data;
    printf("[%s] connection: %s -> %s (%s: %s)\n", a->name,
           chinwag_connection_state_name(change->previous),
           chinwag_connection_state_name(change->current),
           chinwag_state_reason_name(change->reason), change->message);
    pthread_mutex_lock(&lock);
    a->state = change->current;
    a->state_events++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_text(void *user_data, const chinwag_message *m) {
    app *a = (app *)user_data;
    printf("[%s] message #%lld from %s: %s\n", a->name, (long long)m->id, m->sender, m->text);
    pthread_mutex_lock(&lock);
    a->received++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_login(void *user_data, const chinwag_error *error, const chinwag_user *user) {
    app *a = (app *)user_data;
    if (error != NULL)
        printf("[%s] login failed: %s: %s\n", a->name, error->name, error->message);
    else
        printf("[%s] logged in as %s\n", a->name, user->uid);
    pthread_mutex_lock(&lock);
    a->logged_in = error == NULL ? 1 : -1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_sent(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    app *a = (app *)user_data;
    if (error != NULL)
        printf("[%s] send failed: %s: %s\n", a->name, error->name, error->message);
    else
        printf("[%s] sent message #%lld\n", a->name, (long long)m->id);
    pthread_mutex_lock(&lock);
    a->sent++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void fail(const char *what) {
    char message[512];
    chinwag_last_error_message(message, sizeof message, NULL);
    fprintf(stderr, "manual_connection: %s failed: %s\n", what, message);
    exit(1);
}

#define TRY(call)                                                                             \
    do {                                                                                      \
        if ((call) != CHINWAG_RESULT_OK) fail(#call);                                         \
    } while (0)

/* Waits up to 30 s until `*value >= at_least`; returns 0 if it did not happen. */
static int wait_at_least(const int *value, int at_least, int seconds) {
    struct timespec deadline;
    int ok = 1;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&lock);
    while (*value < at_least && ok)
        ok = pthread_cond_timedwait(&changed, &lock, &deadline) != ETIMEDOUT || *value >= at_least;
    pthread_mutex_unlock(&lock);
    return ok;
}

static void expect(const int *value, int at_least, const char *what) {
    if (!wait_at_least(value, at_least, 30)) {
        fprintf(stderr, "manual_connection: timed out waiting for %s\n", what);
        exit(1);
    }
}

static void wait_state(app *a, chinwag_connection_state state) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&lock);
    while (a->state != state) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "manual_connection: %s never became %s\n", a->name,
                    chinwag_connection_state_name(state));
            exit(1);
        }
    }
    pthread_mutex_unlock(&lock);
}

static int read_int(const int *value) {
    int v;
    pthread_mutex_lock(&lock);
    v = *value;
    pthread_mutex_unlock(&lock);
    return v;
}

static chinwag_client *start_client(const char *url, chinwag_connect_mode mode, app *a) {
    chinwag_settings settings;
    chinwag_connection_listener connection;
    chinwag_message_listener messages;
    chinwag_client *client = NULL;
    memset(&settings, 0, sizeof settings);
    settings.struct_size = sizeof settings;
    settings.server_url = url;
    settings.connect_mode = mode;
    TRY(chinwag_client_init("chinwag-app", &settings, &client));
    memset(&connection, 0, sizeof connection);
    connection.struct_size = sizeof connection;
    connection.on_state_changed = on_state;
    TRY(chinwag_client_add_connection_listener(client, "transcript", &connection, a, NULL));
    memset(&messages, 0, sizeof messages);
    messages.struct_size = sizeof messages;
    messages.on_text_message_received = on_text;
    TRY(chinwag_client_add_message_listener(client, "transcript", &messages, a, NULL));
    return client;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("CHINWAG_URL");
    const char *auth_key = argc > 2 ? argv[2] : getenv("CHINWAG_AUTH_KEY");
    app carol = {"carol", CHINWAG_CONNECTION_STATE_DISCONNECTED, 0, 0, 0, 0};
    app dave = {"dave", CHINWAG_CONNECTION_STATE_DISCONNECTED, 0, 0, 0, 0};
    chinwag_client *c, *d;
    chinwag_result rc;
    chinwag_connection_state status;
    char message[512];
    int events;

    if (url == NULL || auth_key == NULL) {
        fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    printf("chinwag %s; server %s\n", chinwag_version(), url);
    c = start_client(url, CHINWAG_CONNECT_MODE_MANUAL, &carol);

    /* 1. connect() needs a logged-in user. */
    rc = chinwag_client_connect(c);
    chinwag_last_error_message(message, sizeof message, NULL);
    printf("[carol] connect() before login: %s: %s\n", chinwag_result_name(rc), message);
    if (rc != CHINWAG_RESULT_NOT_LOGGED_IN) return 1;

    /* 2. In manual mode, login saves the session but does not connect. */
    TRY(chinwag_client_login(c, "carol", auth_key, on_login, &carol));
    expect(&carol.logged_in, 1, "carol's login");
    events = read_int(&carol.state_events);
    TRY(chinwag_client_connection_status(c, &status));
    printf("[carol] after login the connection is %s\n", chinwag_connection_state_name(status));
    if (status != CHINWAG_CONNECTION_STATE_DISCONNECTED) return 1;

    /* Dave is an ordinary auto-mode app; he writes to carol before she connects. */
    d = start_client(url, CHINWAG_CONNECT_MODE_AUTO, &dave);
    TRY(chinwag_client_login(d, "dave", auth_key, on_login, &dave));
    wait_state(&dave, CHINWAG_CONNECTION_STATE_CONNECTED);
    TRY(chinwag_client_send_text(d, CHINWAG_RECEIVER_TYPE_USER, "carol", "ping 1 (before carol connects)", on_sent, &dave, NULL));
    expect(&dave.sent, 1, "dave's first send");
    if (read_int(&carol.state_events) != events || read_int(&carol.received) != 0) {
        fprintf(stderr, "manual_connection: carol connected without connect()\n");
        return 1;
    }

    /* 3. connect(): CONNECTING, CONNECTED, then what was sent since the login: ping 1. */
    printf("[carol] connect()\n");
    TRY(chinwag_client_connect(c));
    wait_state(&carol, CHINWAG_CONNECTION_STATE_CONNECTED);
    expect(&carol.received, 1, "ping 1, sent between login and connect()");

    /* 4. disconnect(): DISCONNECTED, and no events until the next connect(). */
    printf("[carol] disconnect()\n");
    TRY(chinwag_client_disconnect(c));
    wait_state(&carol, CHINWAG_CONNECTION_STATE_DISCONNECTED);
    TRY(chinwag_client_send_text(d, CHINWAG_RECEIVER_TYPE_USER, "carol", "ping 2 (while carol is away)", on_sent, &dave, NULL));
    expect(&dave.sent, 2, "dave's second send");
    if (wait_at_least(&carol.received, 2, 1)) {
        fprintf(stderr, "manual_connection: carol got a message while disconnected\n");
        return 1;
    }
    printf("[carol] nothing delivered while disconnected\n");

    /* 5. connect() again: the server replays what carol missed. */
    printf("[carol] connect()\n");
    TRY(chinwag_client_connect(c));
    wait_state(&carol, CHINWAG_CONNECTION_STATE_CONNECTED);
    expect(&carol.received, 2, "the replay of ping 2");

    TRY(chinwag_client_disconnect(c));
    wait_state(&carol, CHINWAG_CONNECTION_STATE_DISCONNECTED);
    chinwag_client_free(c);
    chinwag_client_free(d);
    printf("manual_connection: done\n");
    return 0;
}
