/* Helpers shared by the C tests: checks that report the SDK's last error, waiting on
 * conditions set by callbacks (never sleeping for an event), and test settings. */
#ifndef CHINWAG_TEST_COMMON_H
#define CHINWAG_TEST_COMMON_H

#define _POSIX_C_SOURCE 200809L

#include "chinwag.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Generous: the tests also run under valgrind, which is 20-50 times slower. */
#define WAIT_SECONDS 60

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_failures = 0;

static inline void fail_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    char message[512] = "";
    size_t written = 0;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    chinwag_last_error_message(message, sizeof message, &written);
    fprintf(stderr, " (last error: %s)\n", message);
    g_failures++;
}

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) fail_at(__FILE__, __LINE__, "%s", #cond);                                \
    } while (0)

/* Checks that a call returns `expected`; prints the code names and the last error if not. */
#define CHECK_RC(call, expected)                                                              \
    do {                                                                                      \
        chinwag_result rc_ = (call);                                                          \
        if (rc_ != (chinwag_result)(expected))                                                \
            fail_at(__FILE__, __LINE__, "%s returned %s, expected %s", #call,                 \
                    chinwag_result_name(rc_), chinwag_result_name(expected));                 \
    } while (0)

#define CHECK_OK(call) CHECK_RC(call, CHINWAG_RESULT_OK)

/* Locked counters that callbacks bump and the test waits on. */
static inline void bump(int *counter) {
    pthread_mutex_lock(&g_lock);
    (*counter)++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline int read_counter(const int *counter) {
    int v;
    pthread_mutex_lock(&g_lock);
    v = *counter;
    pthread_mutex_unlock(&g_lock);
    return v;
}

static inline void signal_change(void) {
    pthread_mutex_lock(&g_lock);
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void deadline_in(struct timespec *ts, double seconds) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)seconds;
    ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits (holding g_lock while testing) until `cond` holds or WAIT_SECONDS pass. */
#define WAIT_FOR(cond)                                                                        \
    do {                                                                                      \
        struct timespec dl_;                                                                  \
        int ok_ = 1;                                                                          \
        deadline_in(&dl_, WAIT_SECONDS);                                                      \
        pthread_mutex_lock(&g_lock);                                                          \
        while (!(cond)) {                                                                     \
            if (pthread_cond_timedwait(&g_cond, &g_lock, &dl_) == ETIMEDOUT && !(cond)) {     \
                ok_ = 0;                                                                      \
                break;                                                                        \
            }                                                                                 \
        }                                                                                     \
        pthread_mutex_unlock(&g_lock);                                                        \
        if (!ok_) fail_at(__FILE__, __LINE__, "timed out waiting for %s", #cond);             \
    } while (0)

/* Sleeps for a little while (only to give something a chance NOT to happen). */
static inline void pause_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *g_url;
static const char *g_auth_key;

static inline void read_server(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines interleave with stderr in the logs */
    g_url = argc > 1 ? argv[1] : getenv("CHINWAG_URL");
    g_auth_key = argc > 2 ? argv[2] : getenv("CHINWAG_AUTH_KEY");
    if (g_url == NULL || g_auth_key == NULL) {
        fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n",
                argv[0]);
        exit(2);
    }
}

/* Settings for a test client: fast retries, the given mode, optional data directory. */
static inline chinwag_settings test_settings(chinwag_connect_mode mode, const char *data_dir) {
    chinwag_settings s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.server_url = g_url;
    s.connect_mode = mode;
    s.data_dir = data_dir;
    s.first_retry_max_ms = 50;
    s.backoff_base_ms = 20;
    s.backoff_cap_ms = 200;
    return s;
}

static inline chinwag_client *new_client(chinwag_connect_mode mode, const char *data_dir) {
    chinwag_settings s = test_settings(mode, data_dir);
    chinwag_client *c = NULL;
    CHECK_OK(chinwag_client_init("chinwag-app", &s, &c));
    if (c == NULL) {
        fprintf(stderr, "cannot create a client\n");
        exit(1);
    }
    return c;
}

/* State of one client as seen through its connection listener. */
typedef struct {
    chinwag_connection_state state;
    int changes;
    int connected;
    int disconnected;
} conn_watch;

static inline void watch_state(void *user_data, const chinwag_state_change *change) {
    conn_watch *w = (conn_watch *)user_data;
    pthread_mutex_lock(&g_lock);
    w->state = change->current;
    w->changes++;
    if (change->current == CHINWAG_CONNECTION_STATE_CONNECTED) w->connected++;
    if (change->current == CHINWAG_CONNECTION_STATE_DISCONNECTED) w->disconnected++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Events delivered before a listener is added are not replayed to it (init may already have
 * started connecting): seed the watch from the current status unless an event came first. */
static inline void add_watch(chinwag_client *c, conn_watch *w) {
    chinwag_connection_listener l;
    chinwag_connection_state now;
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.on_state_changed = watch_state;
    memset(w, 0, sizeof *w);
    CHECK_OK(chinwag_client_add_connection_listener(c, "watch", &l, w, NULL));
    CHECK_OK(chinwag_client_connection_status(c, &now));
    pthread_mutex_lock(&g_lock);
    if (w->changes == 0) w->state = now;
    pthread_mutex_unlock(&g_lock);
}

/* Login completion: stores the result code in an int (initially -1). */
static inline void login_done(void *user_data, const chinwag_error *error, const chinwag_user *user) {
    int *slot = (int *)user_data;
    pthread_mutex_lock(&g_lock);
    *slot = error ? (int)error->code : 0;
    if (error == NULL && user == NULL) *slot = -2; /* must not happen */
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void logout_done(void *user_data, const chinwag_error *error) {
    int *slot = (int *)user_data;
    pthread_mutex_lock(&g_lock);
    *slot = error ? (int)error->code : 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Logs in and waits for the completion; returns its code. */
static inline int login_and_wait(chinwag_client *c, const char *uid) {
    int result = -1;
    CHECK_OK(chinwag_client_login(c, uid, g_auth_key, login_done, &result));
    WAIT_FOR(result != -1);
    return result;
}

static inline int logout_and_wait(chinwag_client *c) {
    int result = -1;
    CHECK_OK(chinwag_client_logout(c, logout_done, &result));
    WAIT_FOR(result != -1);
    return result;
}

static inline int finish(const char *name) {
    if (g_failures == 0) {
        printf("%s: 1 passed, 0 failed\n", name);
        return 0;
    }
    printf("%s: 0 passed, 1 failed (%d checks failed)\n", name, g_failures);
    return 1;
}

#endif
