/* Chinwag quickstart (auto-connect mode).
 *
 * Two users chat: each app creates a client with a data directory, adds listeners, logs in
 * (which saves the session and connects by itself), and they exchange messages. Then Alice's
 * app "restarts": a second client object on the same data directory restores her session
 * without a network call and reconnects by itself, and shows the first screen of a chat app:
 * her conversations, newest first, with their unread counts; reading clears the badge on every
 * device (the conversation-updated event).
 *
 * Build: cc -std=c99 quickstart.c $(pkg-config --cflags --libs chinwag) -pthread
 * Run:   ./quickstart URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
 * The users "alice" and "bob" must exist on the server (`make demo` sets all this up).
 */
#define _POSIX_C_SOURCE 200809L

#include <chinwag.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What one app knows; updated by callbacks on the client's dispatcher thread. */
typedef struct {
    const char *name;
    chinwag_connection_state state;
    int received;
    int sent;
    int logged_out;
    int listed;       /* conversation list pages received */
    int badge_clears; /* conversation-updated events with nothing unread */
    int64_t last_id;  /* the newest message of the first conversation, if unread */
} app;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

/* ----- callbacks ---------------------------------------------------------------------- */

static void on_state(void *user_data, const chinwag_state_change *change) {
    app *a = (app *)user_data;
    printf("[%s] connection: %s -> %s (%s)\n", a->name,
           chinwag_connection_state_name(change->previous),
           chinwag_connection_state_name(change->current), change->message);
    pthread_mutex_lock(&lock);
    a->state = change->current;
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

static void on_custom(void *user_data, const chinwag_message *m) {
    app *a = (app *)user_data;
    printf("[%s] custom \"%s\" from %s: %s\n", a->name, m->message_type, m->sender, m->data_json);
    pthread_mutex_lock(&lock);
    a->received++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_login_success(void *user_data, const chinwag_user *user) {
    printf("[%s] logged in as %s (%s)\n", ((app *)user_data)->name, user->uid, user->name);
}

static void on_sent(void *user_data, const chinwag_error *error, const chinwag_message *m) {
    app *a = (app *)user_data;
    if (error != NULL)
        printf("[%s] send failed: %s: %s\n", a->name, error->name, error->message);
    else
        printf("[%s] sent message #%lld to %s\n", a->name, (long long)m->id, m->receiver);
    pthread_mutex_lock(&lock);
    a->sent++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_logged_out(void *user_data, const chinwag_error *error) {
    app *a = (app *)user_data;
    printf("[%s] logged out%s%s\n", a->name, error ? ": " : "", error ? error->message : "");
    pthread_mutex_lock(&lock);
    a->logged_out = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* The first screen of a chat app: one line per conversation with its unread badge. */
static void on_conversations(void *user_data, const chinwag_error *error,
                             const chinwag_conversation_page *page) {
    app *a = (app *)user_data;
    size_t i;
    if (error) {
        printf("[%s] conversations failed: %s: %s\n", a->name, error->name, error->message);
    } else {
        for (i = 0; i < page->len; i++) {
            const chinwag_conversation *c = &page->items[i];
            const chinwag_message *last = c->last_message;
            printf("[%s] conversation with %s: %llu unread, last: %s\n", a->name, c->with_id,
                   (unsigned long long)c->unread_count, last && last->text ? last->text : "-");
        }
    }
    pthread_mutex_lock(&lock);
    /* The newest conversation, when it has unread messages from someone else. */
    if (!error && page->len > 0 && page->items[0].unread_count > 0 && page->items[0].last_message &&
        strcmp(page->items[0].last_message->sender, a->name) != 0)
        a->last_id = page->items[0].last_message->id;
    a->listed++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_conversation_updated(void *user_data, const chinwag_conversation *c) {
    app *a = (app *)user_data;
    if (c->unread_count != 0) return;
    printf("[%s] conversation with %s: all read\n", a->name, c->with_id);
    pthread_mutex_lock(&lock);
    a->badge_clears++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* ----- helpers -------------------------------------------------------------------------- */

static int fail(const char *what) {
    char message[512];
    chinwag_last_error_message(message, sizeof message, NULL);
    fprintf(stderr, "quickstart: %s failed: %s\n", what, message);
    exit(1);
}

#define TRY(call) ((call) == CHINWAG_RESULT_OK ? 0 : fail(#call))

/* Waits up to 30 s for `*value >= at_least` (a field of an app, under the lock). */
static void wait_for(const int *value, int at_least, const char *what) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&lock);
    while (*value < at_least) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "quickstart: timed out waiting for %s\n", what);
            exit(1);
        }
    }
    pthread_mutex_unlock(&lock);
}

static void wait_connected(app *a) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&lock);
    while (a->state != CHINWAG_CONNECTION_STATE_CONNECTED) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "quickstart: %s did not connect\n", a->name);
            exit(1);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* A client in auto mode with the three listeners this app needs, added right after init. With
 * a saved session init starts connecting at once; the listeners still miss nothing: the
 * connection listener first hears the state it starts from, and the messages the server
 * replays wait (up to a second) for a message listener. */
static chinwag_client *start_client(const char *url, const char *data_dir, app *a) {
    chinwag_settings settings;
    chinwag_connection_listener connection;
    chinwag_login_listener login;
    chinwag_message_listener messages;
    chinwag_client *client = NULL;

    memset(&settings, 0, sizeof settings); /* zero = default for every field */
    settings.struct_size = sizeof settings;
    settings.server_url = url;
    settings.data_dir = data_dir; /* NULL keeps the session in memory only */
    TRY(chinwag_client_init("chinwag-app", &settings, &client));

    memset(&connection, 0, sizeof connection); /* NULL callbacks are skipped; structs are copied */
    connection.struct_size = sizeof connection;
    connection.on_state_changed = on_state;
    TRY(chinwag_client_add_connection_listener(client, "transcript", &connection, a, NULL));
    memset(&login, 0, sizeof login);
    login.struct_size = sizeof login;
    login.on_login_success = on_login_success;
    TRY(chinwag_client_add_login_listener(client, "transcript", &login, a, NULL));
    memset(&messages, 0, sizeof messages);
    messages.struct_size = sizeof messages;
    messages.on_text_message_received = on_text;
    messages.on_custom_message_received = on_custom;
    messages.on_conversation_updated = on_conversation_updated;
    TRY(chinwag_client_add_message_listener(client, "transcript", &messages, a, NULL));
    return client;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("CHINWAG_URL");
    const char *auth_key = argc > 2 ? argv[2] : getenv("CHINWAG_AUTH_KEY");
    char data_dir[] = "/tmp/chinwag-quickstart-XXXXXX";
    char session_file[sizeof data_dir + 64];
    app alice = {"alice", CHINWAG_CONNECTION_STATE_DISCONNECTED, 0, 0, 0, 0, 0, 0};
    app bob = {"bob", CHINWAG_CONNECTION_STATE_DISCONNECTED, 0, 0, 0, 0, 0, 0};
    chinwag_client *a, *b;
    chinwag_user *me = NULL;

    if (url == NULL || auth_key == NULL) {
        fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    if (mkdtemp(data_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("chinwag %s; server %s; alice's data directory %s\n", chinwag_version(), url, data_dir);

    /* Both apps log in; in auto mode login saves the session and connects. */
    a = start_client(url, data_dir, &alice);
    b = start_client(url, NULL, &bob);
    TRY(chinwag_client_login(a, "alice", auth_key, NULL, NULL));
    TRY(chinwag_client_login(b, "bob", auth_key, NULL, NULL));
    wait_connected(&alice);
    wait_connected(&bob);

    /* They talk. Sends return at once; the completion reports the stored message. */
    TRY(chinwag_client_send_text(a, CHINWAG_RECEIVER_TYPE_USER, "bob", "Hi Bob!", on_sent, &alice, NULL));
    wait_for(&bob.received, 1, "bob to get alice's message");
    TRY(chinwag_client_send_text(b, CHINWAG_RECEIVER_TYPE_USER, "alice", "Hi Alice, how are you?", on_sent, &bob, NULL));
    wait_for(&alice.received, 1, "alice to get bob's answer");
    TRY(chinwag_client_send_custom(a, CHINWAG_RECEIVER_TYPE_USER, "bob", "location",
                                   "{\"lat\": 51.5, \"lon\": -0.12}", on_sent, &alice, NULL));
    wait_for(&bob.received, 2, "bob to get alice's location");
    wait_for(&alice.sent, 2, "alice's sends to complete");

    /* Alice's app restarts: a new client on the same data directory is logged in at once
     * (no network call) and reconnects by itself; its listeners hear it from the start. */
    printf("[alice] app restarts\n");
    chinwag_client_free(a);
    alice.state = CHINWAG_CONNECTION_STATE_DISCONNECTED; /* the old client's last state */
    a = start_client(url, data_dir, &alice);
    TRY(chinwag_client_get_logged_in_user(a, &me)); /* an owned copy */
    printf("[alice] restored session of %s (%s)\n", me->uid, me->name);
    chinwag_user_free(me);
    wait_connected(&alice);
    TRY(chinwag_client_send_text(b, CHINWAG_RECEIVER_TYPE_USER, "alice", "Welcome back!", on_sent, &bob, NULL));
    wait_for(&alice.received, 2, "alice to get bob's welcome");
    wait_for(&bob.sent, 2, "bob's sends to complete");

    /* Alice's conversation list, newest first, with unread badges; reading the newest message
     * clears the badge (every device of hers hears on_conversation_updated). */
    {
        chinwag_conversations_request *list = NULL;
        TRY(chinwag_conversations_request_new(NULL, &list)); /* NULL options: 30 per page */
        TRY(chinwag_client_fetch_conversations(a, list, on_conversations, &alice));
        wait_for(&alice.listed, 1, "alice's conversation list");
        chinwag_conversations_request_free(list);
        if (alice.last_id > 0) {
            TRY(chinwag_client_mark_read(a, alice.last_id));
            wait_for(&alice.badge_clears, 1, "alice's badge to clear");
        }
    }

    /* Log out (tells the server, purges the saved session) and clean up. */
    TRY(chinwag_client_logout(a, on_logged_out, &alice));
    TRY(chinwag_client_logout(b, on_logged_out, &bob));
    wait_for(&alice.logged_out, 1, "alice's logout");
    wait_for(&bob.logged_out, 1, "bob's logout");
    chinwag_client_free(a);
    chinwag_client_free(b);
    snprintf(session_file, sizeof session_file, "%s/chinwag-session.json", data_dir);
    unlink(session_file);
    rmdir(data_dir);
    printf("quickstart: done\n");
    return 0;
}
