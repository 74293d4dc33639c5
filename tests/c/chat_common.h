/* Helpers of the chat-surface tests (chat_surface.c, chat_calls.c).
 *
 * A peer is one logged-in client whose message, group and call listeners record every event.
 * Events and completions are kept as owned copies made with chinwag_*_copy inside the
 * callback: the tests read them after the callback returned and free them at the end, so the
 * copies are exercised on every event (and valgrind and LeakSanitizer see that none leaks).
 * Nothing here sleeps to synchronise: waits are condition variables with a deadline. */
#ifndef CHINWAG_CHAT_COMMON_H
#define CHINWAG_CHAT_COMMON_H

#include "common.h"

#include <stdbool.h>

/* Not UTF-8: 0xC3 starts a two-byte sequence that "(" does not continue. */
#define BAD_UTF8 "b\xC3("

/* ----- recorded events --------------------------------------------------------------------- */

typedef enum {
    EV_TEXT,
    EV_MEDIA,
    EV_CUSTOM,
    EV_EDITED,
    EV_DELETED,
    EV_TYPING_STARTED,
    EV_TYPING_ENDED,
    EV_DELIVERED,
    EV_READ,
    EV_TRANSIENT,
    EV_JOINED,
    EV_LEFT,
    EV_KICKED,
    EV_BANNED,
    EV_UNBANNED,
    EV_SCOPE_CHANGED,
    EV_ADDED,
    EV_CALL_INCOMING,
    EV_CALL_ACCEPTED,
    EV_CALL_REJECTED,
    EV_CALL_CANCELLED,
    EV_CALL_ENDED,
    EV_KIND_COUNT
} ev_kind;

static inline const char *ev_name(ev_kind kind) {
    static const char *const names[EV_KIND_COUNT] = {
        "text", "media", "custom", "edited", "deleted", "typing started", "typing ended",
        "delivered", "read", "transient", "joined", "left", "kicked", "banned", "unbanned",
        "scope changed", "added", "incoming call", "call accepted", "call rejected",
        "call cancelled", "call ended"};
    return (unsigned)kind < EV_KIND_COUNT ? names[kind] : "?";
}

/* One event. Which fields are set depends on the kind; the find keys are:
 *   messages, edits, deletes: k1 = muid, k2 = sender
 *   receipts:                 k1 = by, k2 = receiver (uid or guid of the conversation)
 *   typing, transient:        k1 = sender, k2 = receiver
 *   group member events:      k1 = guid, k2 = member
 *   calls:                    k1 = session_id, k2 = status */
typedef struct {
    ev_kind kind;
    chinwag_message *message;
    chinwag_receipt *receipt;
    chinwag_group_member_event *member;
    chinwag_call *call;
    char *sender; /* typing and transient have no copy function: strdup'ed fields */
    char *receiver;
    char *data;
    chinwag_receiver_type receiver_type;
    struct timespec at; /* CLOCK_MONOTONIC */
} event_rec;

#define MAX_EVENTS 256

typedef struct {
    const char *uid;
    chinwag_client *client;
    conn_watch watch;
    event_rec events[MAX_EVENTS];
    int count;
    int overflow;
    int copy_failures; /* a copy failed or differs from the borrowed payload */
    int released;      /* user_data_free runs of the peer's three listeners */
    int free_borrowed; /* 1: the next message callback tries to free its borrowed payload */
    int borrowed_refused; /* ... and that was refused (1) or not (-1) */
} peer;

static inline int same_str(const char *a, const char *b) {
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static inline char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static inline void event_free(event_rec *e) {
    chinwag_message_free(e->message);
    chinwag_receipt_free(e->receipt);
    chinwag_group_member_event_free(e->member);
    chinwag_call_free(e->call);
    free(e->sender);
    free(e->receiver);
    free(e->data);
    memset(e, 0, sizeof *e);
}

static inline void record(peer *p, event_rec *e, int copy_ok) {
    clock_gettime(CLOCK_MONOTONIC, &e->at);
    pthread_mutex_lock(&g_lock);
    if (!copy_ok) p->copy_failures++;
    if (p->count < MAX_EVENTS) {
        p->events[p->count++] = *e;
    } else {
        p->overflow++;
        event_free(e);
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Records a message event; the copy must equal the borrowed payload. */
static inline void rec_message(peer *p, ev_kind kind, const chinwag_message *m) {
    event_rec e;
    int ok;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    if (p->free_borrowed) {
        /* A borrowed payload is no copy: freeing it is refused and leaves it intact. */
        char buf[256] = "";
        chinwag_client_connect(NULL); /* a known last error to tell the next one from */
        chinwag_message_free((chinwag_message *)m);
        chinwag_last_error_message(buf, sizeof buf, NULL);
        pthread_mutex_lock(&g_lock);
        p->free_borrowed = 0;
        p->borrowed_refused = strstr(buf, "not a live copy") != NULL ? 1 : -1;
        pthread_mutex_unlock(&g_lock);
    }
    ok = chinwag_message_copy(m, &e.message) == CHINWAG_RESULT_OK && e.message != NULL &&
         e.message != m && e.message->id == m->id && same_str(e.message->muid, m->muid) &&
         same_str(e.message->sender, m->sender) && same_str(e.message->receiver, m->receiver) &&
         e.message->receiver_type == m->receiver_type &&
         same_str(e.message->text, m->text) && same_str(e.message->category, m->category) &&
         same_str(e.message->message_type, m->message_type) &&
         same_str(e.message->conversation_id, m->conversation_id) &&
         e.message->sent_at == m->sent_at && e.message->edited_at == m->edited_at &&
         e.message->deleted_at == m->deleted_at && (m->data_json == NULL) == (e.message->data_json == NULL);
    record(p, &e, ok);
}

static inline void on_text(void *ud, const chinwag_message *m) { rec_message((peer *)ud, EV_TEXT, m); }
static inline void on_media(void *ud, const chinwag_message *m) { rec_message((peer *)ud, EV_MEDIA, m); }
static inline void on_custom(void *ud, const chinwag_message *m) { rec_message((peer *)ud, EV_CUSTOM, m); }
static inline void on_edited(void *ud, const chinwag_message *m) { rec_message((peer *)ud, EV_EDITED, m); }
static inline void on_deleted(void *ud, const chinwag_message *m) { rec_message((peer *)ud, EV_DELETED, m); }

static inline void rec_typing(peer *p, ev_kind kind, const chinwag_typing *t) {
    event_rec e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.sender = dup_or_null(t->sender);
    e.receiver = dup_or_null(t->receiver);
    e.data = dup_or_null(t->metadata_json);
    e.receiver_type = t->receiver_type;
    record(p, &e, t->json != NULL);
}

static inline void on_typing_started(void *ud, const chinwag_typing *t) {
    rec_typing((peer *)ud, EV_TYPING_STARTED, t);
}
static inline void on_typing_ended(void *ud, const chinwag_typing *t) {
    rec_typing((peer *)ud, EV_TYPING_ENDED, t);
}

static inline void rec_receipt(peer *p, ev_kind kind, const chinwag_receipt *r) {
    event_rec e;
    int ok;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    ok = chinwag_receipt_copy(r, &e.receipt) == CHINWAG_RESULT_OK && e.receipt != NULL &&
         e.receipt->kind == r->kind && e.receipt->message_id == r->message_id &&
         same_str(e.receipt->by, r->by) && same_str(e.receipt->receiver, r->receiver) &&
         same_str(e.receipt->message_sender, r->message_sender) &&
         e.receipt->receiver_type == r->receiver_type && e.receipt->at == r->at;
    record(p, &e, ok);
}

static inline void on_delivered(void *ud, const chinwag_receipt *r) { rec_receipt((peer *)ud, EV_DELIVERED, r); }
static inline void on_read(void *ud, const chinwag_receipt *r) { rec_receipt((peer *)ud, EV_READ, r); }

static inline void on_transient(void *ud, const chinwag_transient *t) {
    event_rec e;
    memset(&e, 0, sizeof e);
    e.kind = EV_TRANSIENT;
    e.sender = dup_or_null(t->sender);
    e.receiver = dup_or_null(t->receiver);
    e.data = dup_or_null(t->data_json);
    e.receiver_type = t->receiver_type;
    record((peer *)ud, &e, t->json != NULL && t->data_json != NULL);
}

static inline void rec_member(peer *p, ev_kind kind, const chinwag_group_member_event *g) {
    event_rec e;
    int ok;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    ok = chinwag_group_member_event_copy(g, &e.member) == CHINWAG_RESULT_OK && e.member != NULL &&
         e.member->action == g->action && same_str(e.member->guid, g->guid) &&
         same_str(e.member->group_name, g->group_name) && same_str(e.member->member, g->member) &&
         same_str(e.member->by, g->by) && same_str(e.member->scope, g->scope) &&
         same_str(e.member->old_scope, g->old_scope) && e.member->at == g->at;
    record(p, &e, ok);
}

static inline void on_joined(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_JOINED, g); }
static inline void on_left(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_LEFT, g); }
static inline void on_kicked(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_KICKED, g); }
static inline void on_banned(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_BANNED, g); }
static inline void on_unbanned(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_UNBANNED, g); }
static inline void on_scope(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_SCOPE_CHANGED, g); }
static inline void on_added(void *ud, const chinwag_group_member_event *g) { rec_member((peer *)ud, EV_ADDED, g); }

static inline void rec_call(peer *p, ev_kind kind, const chinwag_call *c) {
    event_rec e;
    int ok;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    ok = chinwag_call_copy(c, &e.call) == CHINWAG_RESULT_OK && e.call != NULL &&
         same_str(e.call->session_id, c->session_id) && same_str(e.call->initiator, c->initiator) &&
         e.call->receiver_type == c->receiver_type && same_str(e.call->receiver, c->receiver) &&
         same_str(e.call->call_type, c->call_type) && same_str(e.call->status, c->status) &&
         same_str(e.call->by, c->by) && e.call->initiated_at == c->initiated_at &&
         e.call->joined_at == c->joined_at && e.call->ended_at == c->ended_at;
    record(p, &e, ok);
}

static inline void on_incoming(void *ud, const chinwag_call *c) { rec_call((peer *)ud, EV_CALL_INCOMING, c); }
static inline void on_accepted(void *ud, const chinwag_call *c) { rec_call((peer *)ud, EV_CALL_ACCEPTED, c); }
static inline void on_rejected(void *ud, const chinwag_call *c) { rec_call((peer *)ud, EV_CALL_REJECTED, c); }
static inline void on_cancelled(void *ud, const chinwag_call *c) { rec_call((peer *)ud, EV_CALL_CANCELLED, c); }
static inline void on_ended(void *ud, const chinwag_call *c) { rec_call((peer *)ud, EV_CALL_ENDED, c); }

static inline void on_released(void *ud) {
    bump(&((peer *)ud)->released);
}

/* The two keys of a recorded event (see event_rec). */
static inline void event_keys(const event_rec *e, const char **k1, const char **k2) {
    *k1 = *k2 = NULL;
    if (e->message) {
        *k1 = e->message->muid;
        *k2 = e->message->sender;
    } else if (e->receipt) {
        *k1 = e->receipt->by;
        *k2 = e->receipt->receiver;
    } else if (e->member) {
        *k1 = e->member->guid;
        *k2 = e->member->member;
    } else if (e->call) {
        *k1 = e->call->session_id;
        *k2 = e->call->status;
    } else {
        *k1 = e->sender;
        *k2 = e->receiver;
    }
}

/* The first event of `kind` whose keys match (NULL matches anything); the caller holds g_lock.
 * Records never move, so the pointer stays valid until peer_stop. */
static inline const event_rec *find_event(const peer *p, ev_kind kind, const char *k1, const char *k2) {
    int i;
    for (i = 0; i < p->count; i++) {
        const char *a, *b;
        if (p->events[i].kind != kind) continue;
        event_keys(&p->events[i], &a, &b);
        if ((k1 == NULL || same_str(a, k1)) && (k2 == NULL || same_str(b, k2))) return &p->events[i];
    }
    return NULL;
}

/* As count_events, for a caller that holds g_lock (e.g. inside WAIT_FOR). */
static inline int count_events_locked(const peer *p, ev_kind kind, const char *k1, const char *k2) {
    int i, n = 0;
    for (i = 0; i < p->count; i++) {
        const char *a, *b;
        if (p->events[i].kind != kind) continue;
        event_keys(&p->events[i], &a, &b);
        if ((k1 == NULL || same_str(a, k1)) && (k2 == NULL || same_str(b, k2))) n++;
    }
    return n;
}

static inline int count_events(peer *p, ev_kind kind, const char *k1, const char *k2) {
    int n;
    pthread_mutex_lock(&g_lock);
    n = count_events_locked(p, kind, k1, k2);
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Waits for a matching event; NULL (and a failure) after WAIT_SECONDS. */
static inline const event_rec *wait_event_at(peer *p, ev_kind kind, const char *k1, const char *k2,
                                      const char *file, int line) {
    struct timespec deadline;
    const event_rec *e;
    deadline_in(&deadline, WAIT_SECONDS);
    pthread_mutex_lock(&g_lock);
    while ((e = find_event(p, kind, k1, k2)) == NULL) {
        if (pthread_cond_timedwait(&g_cond, &g_lock, &deadline) == ETIMEDOUT) {
            e = find_event(p, kind, k1, k2);
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (e == NULL)
        fail_at(file, line, "%s never heard \"%s\" (%s, %s)", p->uid, ev_name(kind),
                k1 ? k1 : "*", k2 ? k2 : "*");
    return e;
}

#define WAIT_EVENT(p, kind, k1, k2) wait_event_at((p), (kind), (k1), (k2), __FILE__, __LINE__)

/* ----- peers --------------------------------------------------------------------------------- */

static inline void peer_start(peer *p, const char *uid) {
    chinwag_message_listener ml;
    chinwag_group_listener gl;
    chinwag_call_listener cl;
    memset(p, 0, sizeof *p);
    p->uid = uid;
    p->client = new_client(CHINWAG_CONNECT_MODE_AUTO, NULL);
    add_watch(p->client, &p->watch);

    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    ml.on_text_message_received = on_text;
    ml.on_media_message_received = on_media;
    ml.on_custom_message_received = on_custom;
    ml.on_message_edited = on_edited;
    ml.on_message_deleted = on_deleted;
    ml.on_typing_started = on_typing_started;
    ml.on_typing_ended = on_typing_ended;
    ml.on_messages_delivered = on_delivered;
    ml.on_messages_read = on_read;
    ml.on_transient_message_received = on_transient;
    CHECK_OK(chinwag_client_add_message_listener(p->client, "record", &ml, p, on_released));

    memset(&gl, 0, sizeof gl);
    gl.struct_size = sizeof gl;
    gl.on_member_joined = on_joined;
    gl.on_member_left = on_left;
    gl.on_member_kicked = on_kicked;
    gl.on_member_banned = on_banned;
    gl.on_member_unbanned = on_unbanned;
    gl.on_member_scope_changed = on_scope;
    gl.on_member_added = on_added;
    CHECK_OK(chinwag_client_add_group_listener(p->client, "record", &gl, p, on_released));

    memset(&cl, 0, sizeof cl);
    cl.struct_size = sizeof cl;
    cl.on_incoming_call_received = on_incoming;
    cl.on_outgoing_call_accepted = on_accepted;
    cl.on_outgoing_call_rejected = on_rejected;
    cl.on_incoming_call_cancelled = on_cancelled;
    cl.on_call_ended = on_ended;
    CHECK_OK(chinwag_client_add_call_listener(p->client, "record", &cl, p, on_released));

    CHECK(login_and_wait(p->client, uid) == 0);
    WAIT_FOR(p->watch.state == CHINWAG_CONNECTION_STATE_CONNECTED);
}

/* Frees the client (its three listeners are released before this returns), checks what the
 * recorder saw, and frees the copies it kept. */
static inline void peer_stop(peer *p) {
    int i;
    chinwag_client_free(p->client);
    if (read_counter(&p->released) != 3)
        fail_at(__FILE__, __LINE__, "%s: %d of 3 listeners released", p->uid, p->released);
    if (p->copy_failures != 0)
        fail_at(__FILE__, __LINE__, "%s: %d payload copies failed or differed", p->uid,
                p->copy_failures);
    if (p->overflow != 0) fail_at(__FILE__, __LINE__, "%s: %d events overflowed", p->uid, p->overflow);
    for (i = 0; i < p->count; i++) event_free(&p->events[i]);
    p->count = 0;
}

/* ----- completions ---------------------------------------------------------------------------- */

typedef enum { R_NONE, R_GROUP, R_CALL, R_MESSAGE, R_USER, R_MEMBER, R_MESSAGES, R_USERS, R_GROUPS, R_MEMBERS } r_type;

#define MAX_ITEMS 100

/* One completion: how often it ran, its code, and owned copies of what it carried. */
typedef struct {
    int runs;
    int code;
    char error[512];
    int bad;    /* error and payload both set or both NULL, or a copy failed */
    r_type type;
    void *one;  /* chinwag_group / call / message / user / group_member copy */
    void *items[MAX_ITEMS]; /* copies of a page's items */
    size_t len;
    bool has_more;
    char *next_after;
} result;

static inline void result_clear(result *r) {
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (r->runs > 1) fail_at(__FILE__, __LINE__, "a completion ran %d times", r->runs);
    pthread_mutex_unlock(&g_lock);
    switch (r->type) {
    case R_GROUP: chinwag_group_free((chinwag_group *)r->one); break;
    case R_CALL: chinwag_call_free((chinwag_call *)r->one); break;
    case R_MESSAGE: chinwag_message_free((chinwag_message *)r->one); break;
    case R_USER: chinwag_user_free((chinwag_user *)r->one); break;
    case R_MEMBER: chinwag_group_member_free((chinwag_group_member *)r->one); break;
    default: break;
    }
    for (i = 0; i < r->len && i < MAX_ITEMS; i++) {
        switch (r->type) {
        case R_MESSAGES: chinwag_message_free((chinwag_message *)r->items[i]); break;
        case R_USERS: chinwag_user_free((chinwag_user *)r->items[i]); break;
        case R_GROUPS: chinwag_group_free((chinwag_group *)r->items[i]); break;
        case R_MEMBERS: chinwag_group_member_free((chinwag_group_member *)r->items[i]); break;
        default: break;
        }
    }
    free(r->next_after);
    memset(r, 0, sizeof *r);
}

/* Called under g_lock: takes the error (if any); returns 1 if the payload should be kept. */
static inline int take_error(result *r, const chinwag_error *error, const void *payload) {
    r->runs++;
    if ((error == NULL) == (payload == NULL)) r->bad++;
    if (error != NULL) {
        r->code = (int)error->code;
        snprintf(r->error, sizeof r->error, "%s: %s", error->name ? error->name : "?",
                 error->message ? error->message : "?");
        if (error->name == NULL || strcmp(error->name, chinwag_result_name(error->code)) != 0 ||
            error->message == NULL || error->message[0] == '\0' || error->json == NULL)
            r->bad++;
        return 0;
    }
    r->code = 0;
    return payload != NULL;
}

static inline void done_plain(void *ud, const chinwag_error *error) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    r->runs++;
    r->code = error ? (int)error->code : 0;
    if (error) snprintf(r->error, sizeof r->error, "%s: %s", error->name, error->message);
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_group(void *ud, const chinwag_error *error, const chinwag_group *g) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, g)) {
        r->type = R_GROUP;
        {
            chinwag_group *copy = NULL;
            if (chinwag_group_copy(g, &copy) != CHINWAG_RESULT_OK) r->bad++;
            r->one = copy;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_call(void *ud, const chinwag_error *error, const chinwag_call *c) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, c)) {
        r->type = R_CALL;
        {
            chinwag_call *copy = NULL;
            if (chinwag_call_copy(c, &copy) != CHINWAG_RESULT_OK) r->bad++;
            r->one = copy;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_message(void *ud, const chinwag_error *error, const chinwag_message *m) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, m)) {
        r->type = R_MESSAGE;
        {
            chinwag_message *copy = NULL;
            if (chinwag_message_copy(m, &copy) != CHINWAG_RESULT_OK) r->bad++;
            r->one = copy;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_user(void *ud, const chinwag_error *error, const chinwag_user *u) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, u)) {
        r->type = R_USER;
        {
            chinwag_user *copy = NULL;
            if (chinwag_user_copy(u, &copy) != CHINWAG_RESULT_OK) r->bad++;
            r->one = copy;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_member(void *ud, const chinwag_error *error, const chinwag_group_member *m) {
    result *r = (result *)ud;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, m)) {
        r->type = R_MEMBER;
        {
            chinwag_group_member *copy = NULL;
            if (chinwag_group_member_copy(m, &copy) != CHINWAG_RESULT_OK) r->bad++;
            r->one = copy;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_messages(void *ud, const chinwag_error *error, const chinwag_message_page *page) {
    result *r = (result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, page)) {
        r->type = R_MESSAGES;
        r->has_more = page->has_more;
        if ((page->len == 0) != (page->items == NULL) || page->json == NULL || page->len > MAX_ITEMS) r->bad++;
        for (i = 0; i < page->len && i < MAX_ITEMS; i++) {
            chinwag_message *copy = NULL;
            if (chinwag_message_copy(&page->items[i], &copy) == CHINWAG_RESULT_OK)
                r->items[r->len++] = copy;
            else
                r->bad++;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_users(void *ud, const chinwag_error *error, const chinwag_user_page *page) {
    result *r = (result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, page)) {
        r->type = R_USERS;
        r->has_more = page->has_more;
        if ((page->len == 0) != (page->items == NULL) || page->json == NULL || page->len > MAX_ITEMS) r->bad++;
        for (i = 0; i < page->len && i < MAX_ITEMS; i++) {
            chinwag_user *copy = NULL;
            if (chinwag_user_copy(&page->items[i], &copy) == CHINWAG_RESULT_OK)
                r->items[r->len++] = copy;
            else
                r->bad++;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_groups(void *ud, const chinwag_error *error, const chinwag_group_page *page) {
    result *r = (result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, page)) {
        r->type = R_GROUPS;
        r->next_after = dup_or_null(page->next_after);
        if ((page->len == 0) != (page->items == NULL) || page->json == NULL || page->len > MAX_ITEMS) r->bad++;
        for (i = 0; i < page->len && i < MAX_ITEMS; i++) {
            chinwag_group *copy = NULL;
            if (chinwag_group_copy(&page->items[i], &copy) == CHINWAG_RESULT_OK)
                r->items[r->len++] = copy;
            else
                r->bad++;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline void done_members(void *ud, const chinwag_error *error, const chinwag_member_list *list) {
    result *r = (result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (take_error(r, error, list)) {
        r->type = R_MEMBERS;
        if ((list->len == 0) != (list->items == NULL) || list->json == NULL || list->len > MAX_ITEMS) r->bad++;
        for (i = 0; i < list->len && i < MAX_ITEMS; i++) {
            chinwag_group_member *copy = NULL;
            if (chinwag_group_member_copy(&list->items[i], &copy) == CHINWAG_RESULT_OK)
                r->items[r->len++] = copy;
            else
                r->bad++;
        }
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static inline const char *code_name(int code) {
    if (code == -1) return "(the call itself failed)";
    if (code == -2) return "(no completion)";
    return chinwag_result_name((chinwag_result)code);
}

/* After `rc` (the return of the call that was given `r`), waits for the completion: returns its
 * code, -1 if the call itself failed, -2 if the completion never ran. */
static inline int await_at(result *r, chinwag_result rc, const char *call, const char *file, int line) {
    struct timespec deadline;
    int runs;
    if (rc != CHINWAG_RESULT_OK) {
        fail_at(file, line, "%s returned %s", call, chinwag_result_name(rc));
        return -1;
    }
    deadline_in(&deadline, WAIT_SECONDS);
    pthread_mutex_lock(&g_lock);
    while (r->runs == 0) {
        if (pthread_cond_timedwait(&g_cond, &g_lock, &deadline) == ETIMEDOUT) break;
    }
    runs = r->runs;
    pthread_mutex_unlock(&g_lock);
    if (runs == 0) {
        fail_at(file, line, "%s: the completion never ran", call);
        return -2;
    }
    if (r->bad) fail_at(file, line, "%s: malformed completion (%d problems)", call, r->bad);
    return r->code;
}

/* Clears `r` (freeing the copies it held), makes `call` (which must pass `r` as user_data) and
 * waits for its completion; evaluates to the completion's code. */
#define AWAIT(r, call) (result_clear(r), await_at((r), (call), #call, __FILE__, __LINE__))

#define EXPECT_DONE(r, call, expected)                                                          \
    do {                                                                                        \
        int code_ = AWAIT(r, call);                                                             \
        if (code_ != (int)(expected))                                                           \
            fail_at(__FILE__, __LINE__, "%s completed with %s [%s], expected %s", #call,        \
                    code_name(code_), (r)->error, chinwag_result_name(expected));               \
    } while (0)

#define EXPECT_OK(r, call) EXPECT_DONE(r, call, CHINWAG_RESULT_OK)

/* The last error message contains `needle`. */
static inline void last_error_mentions_at(const char *needle, const char *file, int line) {
    char buf[512] = "";
    chinwag_last_error_message(buf, sizeof buf, NULL);
    if (strstr(buf, needle) == NULL)
        fail_at(file, line, "last error \"%s\" does not mention \"%s\"", buf, needle);
}

#define LAST_ERROR_MENTIONS(needle) last_error_mentions_at((needle), __FILE__, __LINE__)

/* Milliseconds from `a` to `b` (monotonic). */
static inline long ms_between(const struct timespec *a, const struct timespec *b) {
    return (long)(b->tv_sec - a->tv_sec) * 1000L + (b->tv_nsec - a->tv_nsec) / 1000000L;
}

#endif
