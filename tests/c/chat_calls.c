/* Call signalling through the C ABI against the real server (docs/behaviour.md, section 6):
 * audio and video calls to a user and to a group; accept, reject (rejected and busy), cancel,
 * end; the call listener callbacks on both sides (incoming received, outgoing accepted,
 * outgoing rejected, incoming cancelled, call ended) and on the caller's other device; a call
 * left unanswered until the server's timeout (tests/c/run.sh sets it short with
 * CHINWAG_TEST_CALL_TIMEOUT_MS); CALL_IN_PROGRESS for a second call; the active call before,
 * during and after; who may accept, reject, cancel (FORBIDDEN) and in which state. */
#include "chat_common.h"

static peer Z, Z2, W, V; /* zoe (and her second device), walter, victor */
static result r;

/* The call in a completion or an event. */
#define CALL_OF(res) ((const chinwag_call *)(res).one)

/* The active call of `p` has session `sid` (NULL: none) and, if given, that status. */
static void active_is(peer *p, const char *sid, const char *status, int line) {
    chinwag_call *call = (chinwag_call *)&r;
    chinwag_result rc = chinwag_client_active_call(p->client, &call);
    if (rc != CHINWAG_RESULT_OK) {
        fail_at(__FILE__, line, "active_call of %s returned %s", p->uid, chinwag_result_name(rc));
        return;
    }
    if (sid == NULL) {
        if (call != NULL)
            fail_at(__FILE__, line, "%s is still in call %s (%s)", p->uid, call->session_id, call->status);
    } else if (call == NULL) {
        fail_at(__FILE__, line, "%s is in no call, expected %s", p->uid, sid);
    } else if (strcmp(call->session_id, sid) != 0 || (status && strcmp(call->status, status) != 0)) {
        fail_at(__FILE__, line, "%s is in call %s (%s), expected %s (%s)", p->uid, call->session_id,
                call->status, sid, status ? status : "*");
    }
    chinwag_call_free(call); /* an owned copy (NULL: no-op) */
}

#define ACTIVE_IS(p, sid, status) active_is((p), (sid), (status), __LINE__)

/* The state every side of a call must agree on. */
static void check_call(const chinwag_call *c, const char *sid, const char *initiator,
                       chinwag_receiver_type type, const char *receiver, const char *call_type,
                       const char *status, const char *by, int line) {
    if (c == NULL) {
        fail_at(__FILE__, line, "no call");
        return;
    }
    if (!same_str(c->session_id, sid) || !same_str(c->initiator, initiator) ||
        c->receiver_type != type || !same_str(c->receiver, receiver) ||
        !same_str(c->call_type, call_type) || !same_str(c->status, status) || !same_str(c->by, by) ||
        c->initiated_at <= 0 || c->json == NULL || strstr(c->json, sid) == NULL)
        fail_at(__FILE__, line, "call %s: %s -> %s %s, %s, %s by %s; expected %s: %s -> %s, %s, %s by %s",
                c->session_id, c->initiator, c->receiver_type == CHINWAG_RECEIVER_TYPE_GROUP ? "group" : "user",
                c->receiver, c->call_type, c->status, c->by, sid, initiator, receiver, call_type, status, by);
    if (strcmp(status, "initiated") == 0 && (c->joined_at != 0 || c->ended_at != 0))
        fail_at(__FILE__, line, "a ringing call has joined_at %lld ended_at %lld", (long long)c->joined_at,
                (long long)c->ended_at);
    if (strcmp(status, "ongoing") == 0 && (c->joined_at < c->initiated_at || c->ended_at != 0))
        fail_at(__FILE__, line, "an ongoing call has joined_at %lld ended_at %lld", (long long)c->joined_at,
                (long long)c->ended_at);
    if (strcmp(status, "initiated") != 0 && strcmp(status, "ongoing") != 0 && c->ended_at < c->initiated_at)
        fail_at(__FILE__, line, "a finished call (%s) has ended_at %lld", status, (long long)c->ended_at);
}

#define CHECK_CALL(c, sid, initiator, type, receiver, call_type, status, by)                    \
    check_call((c), (sid), (initiator), (type), (receiver), (call_type), (status), (by), __LINE__)

/* An operation on a call in a state that does not allow it: SERVER_REJECTED, the message
 * names the server's CALL_STATE. */
#define REFUSED_IN_STATE(call)                                                                   \
    do {                                                                                         \
        EXPECT_DONE(&r, call, CHINWAG_RESULT_SERVER_REJECTED);                                   \
        if (strstr(r.error, "CALL_STATE") == NULL)                                               \
            fail_at(__FILE__, __LINE__, "%s: \"%s\" does not name CALL_STATE", #call, r.error);  \
    } while (0)

static long call_timeout_ms(void) {
    const char *v = getenv("CHINWAG_TEST_CALL_TIMEOUT_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;
    return ms > 0 ? ms : 45000;
}

/* zoe calls walter (audio): it rings on walter and on zoe's other device; only walter may
 * accept; then walter ends it. */
static void user_call_accepted_and_ended(void) {
    char *sid = NULL, *second = (char *)&r;
    const event_rec *e;
    chinwag_result rc;
    printf("chat_calls: a user call, accepted, then ended by the callee\n");
    ACTIVE_IS(&Z, NULL, NULL);
    result_clear(&r);
    CHECK_OK(chinwag_client_initiate_call(Z.client, CHINWAG_RECEIVER_TYPE_USER, "walter", CHINWAG_CALL_TYPE_AUDIO, done_call, &r, &sid));
    if (sid == NULL) {
        fail_at(__FILE__, __LINE__, "no session id");
        return;
    }
    CHECK(sid[0] != '\0');
    /* A second call at once, before the server answered the first: refused. */
    rc = chinwag_client_initiate_call(Z.client, CHINWAG_RECEIVER_TYPE_USER, "victor", CHINWAG_CALL_TYPE_VIDEO, NULL, NULL, &second);
    if (rc != CHINWAG_RESULT_CALL_IN_PROGRESS)
        fail_at(__FILE__, __LINE__, "a second call right after the first returned %s, expected CALL_IN_PROGRESS",
                chinwag_result_name(rc));
    CHECK(second == (char *)&r); /* untouched */
    WAIT_FOR(r.runs == 1);
    CHECK(r.code == 0);
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "initiated", "zoe");
    ACTIVE_IS(&Z, sid, "initiated");
    /* ... and after the answer too. */
    second = (char *)&r;
    CHECK_RC(chinwag_client_initiate_call(Z.client, CHINWAG_RECEIVER_TYPE_USER, "victor", CHINWAG_CALL_TYPE_VIDEO, NULL, NULL, &second), CHINWAG_RESULT_CALL_IN_PROGRESS);
    LAST_ERROR_MENTIONS(sid);
    CHECK(second == (char *)&r);

    e = WAIT_EVENT(&W, EV_CALL_INCOMING, sid, "initiated");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "initiated", "zoe");
    e = WAIT_EVENT(&Z2, EV_CALL_INCOMING, sid, "initiated"); /* zoe's other device */
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "initiated", "zoe");
    ACTIVE_IS(&Z2, NULL, NULL); /* that device is in no call */

    /* Not victor's call; not walter's to cancel. */
    EXPECT_DONE(&r, chinwag_client_accept_call(V.client, sid, done_call, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_reject_call(V.client, sid, false, done_call, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_cancel_call(V.client, sid, done_call, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_cancel_call(W.client, sid, done_call, &r), CHINWAG_RESULT_FORBIDDEN);
    EXPECT_DONE(&r, chinwag_client_accept_call(Z.client, sid, done_call, &r), CHINWAG_RESULT_FORBIDDEN); /* the caller */
    REFUSED_IN_STATE(chinwag_client_end_call(Z.client, sid, done_call, &r)); /* not answered yet */

    /* walter accepts: zoe's devices hear it. */
    EXPECT_OK(&r, chinwag_client_accept_call(W.client, sid, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "ongoing", "walter");
    ACTIVE_IS(&W, sid, "ongoing");
    e = WAIT_EVENT(&Z, EV_CALL_ACCEPTED, sid, "ongoing");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "ongoing", "walter");
    WAIT_EVENT(&Z2, EV_CALL_ACCEPTED, sid, "ongoing");
    ACTIVE_IS(&Z, sid, "ongoing");
    /* Both are busy now. */
    CHECK_RC(chinwag_client_initiate_call(W.client, CHINWAG_RECEIVER_TYPE_USER, "victor", CHINWAG_CALL_TYPE_AUDIO, NULL, NULL, NULL), CHINWAG_RESULT_CALL_IN_PROGRESS);
    CHECK_RC(chinwag_client_initiate_call(Z.client, CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", CHINWAG_CALL_TYPE_AUDIO, NULL, NULL, NULL), CHINWAG_RESULT_CALL_IN_PROGRESS);
    REFUSED_IN_STATE(chinwag_client_accept_call(W.client, sid, done_call, &r));
    REFUSED_IN_STATE(chinwag_client_cancel_call(Z.client, sid, done_call, &r));

    /* walter hangs up: zoe hears it ended; nobody is in a call any more. */
    EXPECT_OK(&r, chinwag_client_end_call(W.client, sid, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "ended", "walter");
    ACTIVE_IS(&W, NULL, NULL);
    e = WAIT_EVENT(&Z, EV_CALL_ENDED, sid, "ended");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "ended", "walter");
    WAIT_EVENT(&Z2, EV_CALL_ENDED, sid, "ended");
    ACTIVE_IS(&Z, NULL, NULL);
    REFUSED_IN_STATE(chinwag_client_end_call(Z.client, sid, done_call, &r));
    chinwag_string_free(sid);
}

/* A new ringing call from zoe to `callee`; returns its session id (owned) once it rang. */
static char *ring(peer *callee, chinwag_receiver_type type, const char *receiver, chinwag_call_type call_type) {
    char *sid = NULL;
    EXPECT_OK(&r, chinwag_client_initiate_call(Z.client, type, receiver, call_type, done_call, &r, &sid));
    if (sid == NULL) return NULL;
    CHECK_CALL(CALL_OF(r), sid, "zoe", type, receiver, call_type == CHINWAG_CALL_TYPE_VIDEO ? "video" : "audio",
               "initiated", "zoe");
    WAIT_EVENT(callee, EV_CALL_INCOMING, sid, "initiated");
    return sid;
}

static void user_calls_rejected_busy_cancelled(const char *first_sid) {
    char *sid;
    const event_rec *e;
    printf("chat_calls: user calls rejected, busy, cancelled by the caller\n");
    /* Rejected (a video call). */
    sid = ring(&W, CHINWAG_RECEIVER_TYPE_USER, "walter", CHINWAG_CALL_TYPE_VIDEO);
    if (sid == NULL) return;
    e = WAIT_EVENT(&W, EV_CALL_INCOMING, sid, NULL);
    CHECK(e != NULL && same_str(e->call->call_type, "video"));
    /* Barrier: this call rang on walter after the first call's events: none of his own
     * accept and end came back to his listener. */
    CHECK(count_events(&W, EV_CALL_ACCEPTED, first_sid, NULL) == 0);
    CHECK(count_events(&W, EV_CALL_ENDED, first_sid, NULL) == 0);
    EXPECT_OK(&r, chinwag_client_reject_call(W.client, sid, false, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "video", "rejected", "walter");
    e = WAIT_EVENT(&Z, EV_CALL_REJECTED, sid, "rejected");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "video", "rejected", "walter");
    ACTIVE_IS(&Z, NULL, NULL);
    ACTIVE_IS(&W, NULL, NULL);
    REFUSED_IN_STATE(chinwag_client_accept_call(W.client, sid, done_call, &r));
    chinwag_string_free(sid);

    /* Busy. */
    sid = ring(&W, CHINWAG_RECEIVER_TYPE_USER, "walter", CHINWAG_CALL_TYPE_AUDIO);
    if (sid == NULL) return;
    EXPECT_OK(&r, chinwag_client_reject_call(W.client, sid, true, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "busy", "walter");
    e = WAIT_EVENT(&Z, EV_CALL_REJECTED, sid, "busy");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "busy", "walter");
    CHECK(count_events(&Z, EV_CALL_REJECTED, sid, "rejected") == 0);
    ACTIVE_IS(&Z, NULL, NULL);
    chinwag_string_free(sid);

    /* Cancelled by the caller before an answer. */
    sid = ring(&W, CHINWAG_RECEIVER_TYPE_USER, "walter", CHINWAG_CALL_TYPE_AUDIO);
    if (sid == NULL) return;
    ACTIVE_IS(&Z, sid, "initiated");
    EXPECT_OK(&r, chinwag_client_cancel_call(Z.client, sid, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "cancelled", "zoe");
    ACTIVE_IS(&Z, NULL, NULL);
    e = WAIT_EVENT(&W, EV_CALL_CANCELLED, sid, "cancelled");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "walter", "audio", "cancelled", "zoe");
    WAIT_EVENT(&Z2, EV_CALL_CANCELLED, sid, "cancelled");
    REFUSED_IN_STATE(chinwag_client_accept_call(W.client, sid, done_call, &r));
    chinwag_string_free(sid);

    /* No such call. */
    EXPECT_DONE(&r, chinwag_client_accept_call(W.client, "no-such-call", done_call, &r), CHINWAG_RESULT_NOT_FOUND);
    EXPECT_DONE(&r, chinwag_client_end_call(W.client, "no-such-call", done_call, &r), CHINWAG_RESULT_NOT_FOUND);
}

/* zoe calls her group: it rings on walter and victor; victor takes it; walter hears it was
 * taken; zoe ends it; both hear it ended. */
static void group_call(void) {
    const char *members[] = {"walter", "victor"};
    char *sid;
    const event_rec *e;
    printf("chat_calls: a group call: rings on every member, one accepts, the caller ends it\n");
    EXPECT_OK(&r, chinwag_client_create_group(Z.client, "cc-team", "Call team", CHINWAG_GROUP_TYPE_PRIVATE, done_group, &r));
    /* Not a member (yet): walter cannot call the group (private: to him it does not exist). A
     * refused call leaves no active call behind, and the next call goes out. */
    EXPECT_DONE(&r, chinwag_client_initiate_call(W.client, CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", CHINWAG_CALL_TYPE_AUDIO, done_call, &r, NULL), CHINWAG_RESULT_NOT_FOUND);
    ACTIVE_IS(&W, NULL, NULL);
    EXPECT_DONE(&r, chinwag_client_initiate_call(W.client, CHINWAG_RECEIVER_TYPE_USER, "nobody-here", CHINWAG_CALL_TYPE_AUDIO, done_call, &r, NULL), CHINWAG_RESULT_NOT_FOUND);
    ACTIVE_IS(&W, NULL, NULL);
    EXPECT_OK(&r, chinwag_client_add_group_members(Z.client, "cc-team", members, NULL, 2, done_members, &r));
    WAIT_EVENT(&W, EV_ADDED, "cc-team", "walter");
    WAIT_EVENT(&V, EV_ADDED, "cc-team", "victor");

    sid = ring(&W, CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", CHINWAG_CALL_TYPE_VIDEO);
    if (sid == NULL) return;
    e = WAIT_EVENT(&V, EV_CALL_INCOMING, sid, "initiated");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", "video", "initiated", "zoe");
    EXPECT_DONE(&r, chinwag_client_accept_call(Z2.client, sid, done_call, &r), CHINWAG_RESULT_FORBIDDEN); /* the caller */
    EXPECT_OK(&r, chinwag_client_accept_call(V.client, sid, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", "video", "ongoing", "victor");
    e = WAIT_EVENT(&Z, EV_CALL_ACCEPTED, sid, "ongoing");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", "video", "ongoing", "victor");
    e = WAIT_EVENT(&W, EV_CALL_ACCEPTED, sid, "ongoing"); /* walter learns victor took it */
    CHECK(e == NULL || same_str(e->call->by, "victor"));
    REFUSED_IN_STATE(chinwag_client_accept_call(W.client, sid, done_call, &r)); /* too late */
    ACTIVE_IS(&V, sid, "ongoing");
    ACTIVE_IS(&Z, sid, "ongoing");
    ACTIVE_IS(&W, NULL, NULL);

    EXPECT_OK(&r, chinwag_client_end_call(Z.client, sid, done_call, &r));
    CHECK_CALL(CALL_OF(r), sid, "zoe", CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", "video", "ended", "zoe");
    ACTIVE_IS(&Z, NULL, NULL);
    e = WAIT_EVENT(&V, EV_CALL_ENDED, sid, "ended");
    if (e) CHECK_CALL(e->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_GROUP, "cc-team", "video", "ended", "zoe");
    WAIT_EVENT(&W, EV_CALL_ENDED, sid, "ended");
    ACTIVE_IS(&V, NULL, NULL);
    chinwag_string_free(sid);
}

/* Nobody answers: the server cancels the call as unanswered after its timeout; the callee and
 * the caller both hear it, and the caller is free again. */
static void unanswered_call(void) {
    long timeout = call_timeout_ms();
    struct timespec start;
    const event_rec *callee, *caller;
    char *sid;
    printf("chat_calls: an unanswered call (the server gives up after %ld ms)\n", timeout);
    clock_gettime(CLOCK_MONOTONIC, &start);
    sid = ring(&V, CHINWAG_RECEIVER_TYPE_USER, "victor", CHINWAG_CALL_TYPE_AUDIO);
    if (sid == NULL) return;
    callee = WAIT_EVENT(&V, EV_CALL_CANCELLED, sid, "unanswered");
    caller = WAIT_EVENT(&Z, EV_CALL_CANCELLED, sid, "unanswered");
    if (callee) CHECK_CALL(callee->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "victor", "audio", "unanswered", "zoe");
    if (caller) {
        long waited = ms_between(&start, &caller->at);
        CHECK_CALL(caller->call, sid, "zoe", CHINWAG_RECEIVER_TYPE_USER, "victor", "audio", "unanswered", "zoe");
        if (waited < timeout * 8 / 10)
            fail_at(__FILE__, __LINE__, "cancelled as unanswered after %ld ms; the timeout is %ld ms", waited, timeout);
        printf("  cancelled as unanswered after %ld ms\n", waited);
    }
    WAIT_EVENT(&Z2, EV_CALL_CANCELLED, sid, "unanswered");
    CHECK(count_events(&V, EV_CALL_CANCELLED, sid, "cancelled") == 0);
    ACTIVE_IS(&Z, NULL, NULL);
    REFUSED_IN_STATE(chinwag_client_accept_call(V.client, sid, done_call, &r));
    chinwag_string_free(sid);

    /* The caller is free: the next call goes out (and is cancelled at once). */
    sid = ring(&V, CHINWAG_RECEIVER_TYPE_USER, "victor", CHINWAG_CALL_TYPE_VIDEO);
    if (sid == NULL) return;
    EXPECT_OK(&r, chinwag_client_cancel_call(Z.client, sid, done_call, &r));
    WAIT_EVENT(&V, EV_CALL_CANCELLED, sid, "cancelled");
    chinwag_string_free(sid);
}

/* The copies kept by the recorders outlive the callbacks and the clients; each is freed once. */
static void copies_outlive_clients(void) {
    chinwag_call *kept = NULL;
    const event_rec *e;
    pthread_mutex_lock(&g_lock);
    e = find_event(&W, EV_CALL_INCOMING, NULL, NULL);
    if (e) chinwag_call_copy(e->call, &kept);
    pthread_mutex_unlock(&g_lock);
    peer_stop(&W);
    CHECK(kept != NULL && same_str(kept->initiator, "zoe") && same_str(kept->receiver, "walter"));
    chinwag_call_free(kept);
    chinwag_client_connect(NULL);
    chinwag_call_free(kept); /* a second free is refused */
    LAST_ERROR_MENTIONS("not a live copy");
}

int main(int argc, char **argv) {
    char *first = NULL;
    read_server(argc, argv);
    peer_start(&Z, "zoe");
    peer_start(&Z2, "zoe");
    peer_start(&W, "walter");
    peer_start(&V, "victor");

    user_call_accepted_and_ended();
    pthread_mutex_lock(&g_lock);
    {
        const event_rec *e = find_event(&W, EV_CALL_INCOMING, NULL, NULL);
        first = e ? strdup(e->call->session_id) : NULL;
    }
    pthread_mutex_unlock(&g_lock);
    user_calls_rejected_busy_cancelled(first ? first : "-");
    free(first);
    group_call();
    unanswered_call();

    result_clear(&r);
    copies_outlive_clients();
    peer_stop(&Z);
    peer_stop(&Z2);
    peer_stop(&V);
    return finish("chat_calls");
}
