/* The C ABI's half of the Kotlin bench (RoundTripBench.kt): round trips A -> server -> B ->
 * server -> A, B's listener echoing each text back. Does what the Kotlin half does, so that the
 * difference is the binding: both sends pass a completion (a no-op here), and the round trip ends
 * when the sending thread has woken up to the echo.
 * Prints one line per timed round trip, CLOCK_MONOTONIC ns since the send started:
 *   send_returned b_callback b_send_returned a_callback a_woken
 * (a_woken is the round trip), then "cpu_ns TOTAL RUNTIME DISPATCHERS OTHER": the process's CPU
 * time (user + system) over the timed round trips, and its threads' on-CPU time by kind (the
 * SDK's runtime workers, the clients' dispatcher threads, the rest: here the sending thread),
 * then "slices_n RUNTIME DISPATCHERS OTHER": how many times those threads were scheduled in.
 * Usage: c_round_trip URL AUTH_KEY UID_A UID_B WARMUP N */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "chinwag.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long connected;
static long echoes, b_echoed;
static chinwag_client *b_client;
/* Stamps of the round trip in flight (under mu), read by the main thread after it woke. */
static int64_t b_callback_ns, b_sent_ns, a_callback_ns;
static long send_failures;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return ((int64_t)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL +
         ((int64_t)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

/* On-CPU ns and times scheduled in of this process's threads by kind (/proc/self/task/<tid>/
 * schedstat and comm): [0] the SDK's runtime ("chinwag-rt"), [1] other SDK threads
 * (dispatchers), [2] the rest. */
static void thread_cpu(int64_t by_kind[3], int64_t slices[3]) {
  for (int i = 0; i < 3; i++) by_kind[i] = slices[i] = 0;
  DIR *d = opendir("/proc/self/task");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[64], comm[32] = "";
    long long ns = 0, wait_ns = 0, n = 0;
    snprintf(path, sizeof path, "/proc/self/task/%.16s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
    fclose(f);
    snprintf(path, sizeof path, "/proc/self/task/%.16s/schedstat", e->d_name);
    if (!(f = fopen(path, "r"))) continue;
    if (fscanf(f, "%lld %lld %lld", &ns, &wait_ns, &n) != 3) ns = n = 0;
    fclose(f);
    int kind = strncmp(comm, "chinwag-rt", 10) == 0 ? 0 : strncmp(comm, "chinwag-", 8) == 0 ? 1 : 2;
    by_kind[kind] += ns;
    slices[kind] += n;
  }
  closedir(d);
}

static void on_state(void *ud, const chinwag_state_change *c) {
  (void)ud;
  if (c->current == CHINWAG_CONNECTION_STATE_CONNECTED) {
    pthread_mutex_lock(&mu);
    connected++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void on_sent(void *ud, const chinwag_error *error, const chinwag_message *m) {
  (void)ud;
  (void)m;
  if (error) __atomic_add_fetch(&send_failures, 1, __ATOMIC_RELAXED);
}

static void b_on_text(void *ud, const chinwag_message *m) {
  (void)ud;
  int64_t t = now_ns();
  chinwag_client_send_text(b_client, CHINWAG_RECEIVER_TYPE_USER, m->sender, m->text, on_sent, NULL, NULL);
  int64_t sent = now_ns();
  pthread_mutex_lock(&mu);
  b_callback_ns = t;
  b_sent_ns = sent;
  b_echoed++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void a_on_text(void *ud, const chinwag_message *m) {
  (void)ud;
  (void)m;
  int64_t t = now_ns();
  pthread_mutex_lock(&mu);
  a_callback_ns = t;
  echoes++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits up to 15 s for *counter >= target; call with mu held. */
static int wait_locked(const long *counter, long target) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 15;
  int ok = 1;
  while (ok && *counter < target) ok = pthread_cond_timedwait(&cv, &mu, &deadline) == 0;
  return *counter >= target;
}

static chinwag_client *make(const char *url, const char *uid, const char *key, chinwag_message_cb on_text) {
  chinwag_settings s = {0};
  s.struct_size = sizeof s;
  s.server_url = url;
  chinwag_client *c = NULL;
  if (chinwag_client_init("chinwag-app", &s, &c) != CHINWAG_RESULT_OK) return NULL;
  chinwag_connection_listener cl = {0};
  cl.struct_size = sizeof cl;
  cl.on_state_changed = on_state;
  chinwag_message_listener ml = {0};
  ml.struct_size = sizeof ml;
  ml.on_text_message_received = on_text;
  if (chinwag_client_add_connection_listener(c, "bench", &cl, NULL, NULL) != CHINWAG_RESULT_OK ||
      chinwag_client_add_message_listener(c, "bench", &ml, NULL, NULL) != CHINWAG_RESULT_OK ||
      chinwag_client_login(c, uid, key, NULL, NULL) != CHINWAG_RESULT_OK) {
    chinwag_client_free(c);
    return NULL;
  }
  return c;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s URL AUTH_KEY UID_A UID_B WARMUP N\n", argv[0]);
    return 2;
  }
  long warmup = atol(argv[5]), n = atol(argv[6]);
  chinwag_client *a = make(argv[1], argv[3], argv[2], a_on_text);
  b_client = make(argv[1], argv[4], argv[2], b_on_text);
  pthread_mutex_lock(&mu);
  int up = a && b_client && wait_locked(&connected, 2);
  pthread_mutex_unlock(&mu);
  if (!up) {
    fprintf(stderr, "c_round_trip: clients did not connect\n");
    return 1;
  }
  int64_t cpu0 = 0, threads0[3] = {0, 0, 0}, threads1[3], slices0[3] = {0, 0, 0}, slices1[3];
  for (long i = 0; i < warmup + n; i++) {
    if (i == warmup) {
      cpu0 = cpu_ns();
      thread_cpu(threads0, slices0);
    }
    int64_t t0 = now_ns();
    chinwag_result rc = chinwag_client_send_text(a, CHINWAG_RECEIVER_TYPE_USER, argv[4], "round trip", on_sent, NULL, NULL);
    int64_t sent = now_ns();
    if (rc != CHINWAG_RESULT_OK) {
      char msg[256];
      chinwag_last_error_message(msg, sizeof msg, NULL);
      fprintf(stderr, "c_round_trip: send %ld: %s: %s\n", i, chinwag_result_name(rc), msg);
      return 1;
    }
    pthread_mutex_lock(&mu);
    int echoed = wait_locked(&echoes, i + 1);
    int64_t woken = now_ns();
    /* B records its stamps after its send returned: usually long before the echo is back. */
    echoed = echoed && wait_locked(&b_echoed, i + 1);
    int64_t b_cb = b_callback_ns, b_sent = b_sent_ns, a_cb = a_callback_ns;
    pthread_mutex_unlock(&mu);
    if (!echoed) {
      fprintf(stderr, "c_round_trip: no echo of round trip %ld within 15 s\n", i);
      return 1;
    }
    if (i >= warmup)
      printf("%lld %lld %lld %lld %lld\n", (long long)(sent - t0), (long long)(b_cb - t0), (long long)(b_sent - t0),
             (long long)(a_cb - t0), (long long)(woken - t0));
  }
  int64_t cpu1 = cpu_ns();
  thread_cpu(threads1, slices1);
  printf("cpu_ns %lld %lld %lld %lld\n", (long long)(cpu1 - cpu0), (long long)(threads1[0] - threads0[0]),
         (long long)(threads1[1] - threads0[1]), (long long)(threads1[2] - threads0[2]));
  printf("slices_n %lld %lld %lld\n", (long long)(slices1[0] - slices0[0]), (long long)(slices1[1] - slices0[1]),
         (long long)(slices1[2] - slices0[2]));
  long failures = __atomic_load_n(&send_failures, __ATOMIC_RELAXED);
  chinwag_client_free(a);
  chinwag_client_free(b_client);
  if (failures) {
    fprintf(stderr, "c_round_trip: %ld sends failed\n", failures);
    return 1;
  }
  return 0;
}
