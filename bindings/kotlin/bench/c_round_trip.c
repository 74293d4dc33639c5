/* The C ABI's half of the Kotlin bench (RoundTripBench.kt): round trips A -> server -> B ->
 * server -> A, B's listener echoing each text back; prints each timed round trip in ns.
 * Usage: c_round_trip URL AUTH_KEY UID_A UID_B WARMUP N */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chinwag.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected;
static long echoes;
static chinwag_client *b_client;

static void on_state(void *ud, const chinwag_state_change *c) {
  (void)ud;
  if (c->current == CHINWAG_CONNECTION_STATE_CONNECTED) {
    pthread_mutex_lock(&mu);
    connected++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void b_on_text(void *ud, const chinwag_message *m) {
  (void)ud;
  chinwag_client_send_text(b_client, CHINWAG_RECEIVER_TYPE_USER, m->sender, m->text, NULL, NULL, NULL);
}

static void a_on_text(void *ud, const chinwag_message *m) {
  (void)ud;
  (void)m;
  pthread_mutex_lock(&mu);
  echoes++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static int wait_until(int *flag_or_null, long target) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 15;
  pthread_mutex_lock(&mu);
  int ok = 1;
  while (ok && (flag_or_null ? *flag_or_null < target : echoes < target))
    ok = pthread_cond_timedwait(&cv, &mu, &deadline) == 0;
  pthread_mutex_unlock(&mu);
  return ok;
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
  if (!a || !b_client || !wait_until(&connected, 2)) {
    fprintf(stderr, "c_round_trip: clients did not connect\n");
    return 1;
  }
  for (long i = 0; i < warmup + n; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    chinwag_result rc = chinwag_client_send_text(a, CHINWAG_RECEIVER_TYPE_USER, argv[4], "round trip", NULL, NULL, NULL);
    if (rc != CHINWAG_RESULT_OK) {
      char msg[256];
      chinwag_last_error_message(msg, sizeof msg, NULL);
      fprintf(stderr, "c_round_trip: send %ld: %s: %s\n", i, chinwag_result_name(rc), msg);
      return 1;
    }
    if (!wait_until(NULL, i + 1)) {
      fprintf(stderr, "c_round_trip: no echo of round trip %ld within 15 s\n", i);
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (i >= warmup) printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
  }
  chinwag_client_free(a);
  chinwag_client_free(b_client);
  return 0;
}
