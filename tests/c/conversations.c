/* Conversations through the C ABI against the real server (run under valgrind and ASan by
 * `make c-test`): the list with the other user, the last message and the unread count; unread
 * totals; a read on one device heard by both (on_conversation_updated) so they agree on the
 * badge; filters; deleting a conversation for oneself; blocking (the blocked user's message
 * refused and never delivered, the blocked list, unblocking); mentions (the flag on the
 * message, its mentioned users, the unread-mentions count cleared by a read); threads (reply
 * counts heard by on_thread_updated, a thread request paging the replies); bad input. uma
 * and xena are used
 * by this program only, so every count is exact. */
#include "chat_common.h"

static peer U1, U2, X;
static result r;

/* What one on_conversation_updated carried (the payload is borrowed: copied field by field). */
typedef struct {
    char with_id[64];
    unsigned long long unread;
    unsigned long long unread_mentions;
    long long last_read;
    int deleted;
    int had_user; /* the other user's payload was set and named them */
} conv_event;

typedef struct {
    conv_event events[32];
    int count;
} conv_log;

static conv_log log1, log2;

static void on_conversation(void *ud, const chinwag_conversation *c) {
    conv_log *l = (conv_log *)ud;
    pthread_mutex_lock(&g_lock);
    if (l->count < 32) {
        conv_event *e = &l->events[l->count++];
        snprintf(e->with_id, sizeof e->with_id, "%s", c->with_id ? c->with_id : "");
        e->unread = (unsigned long long)c->unread_count;
        e->unread_mentions = (unsigned long long)c->unread_mentions_count;
        e->last_read = (long long)c->last_read_message_id;
        e->deleted = c->deleted ? 1 : 0;
        e->had_user = c->user != NULL && same_str(c->user->uid, c->with_id) && c->group == NULL &&
                      c->json != NULL && c->conversation_type == CHINWAG_RECEIVER_TYPE_USER;
    }
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Index of the first event after `from` with this unread count and deleted flag, or -1. */
static int find_conv(const conv_log *l, int from, const char *with, unsigned long long unread, int deleted) {
    int i;
    for (i = from; i < l->count; i++) {
        if (strcmp(l->events[i].with_id, with) == 0 && l->events[i].unread == unread &&
            l->events[i].deleted == deleted)
            return i;
    }
    return -1;
}

/* The newest on_thread_updated (the parent message as it arrived). */
static int64_t thread_parent, thread_last_reply_at;
static uint64_t thread_replies;

static void on_thread(void *ud, const chinwag_message *m) {
    (void)ud;
    pthread_mutex_lock(&g_lock);
    thread_parent = m->id;
    thread_replies = m->reply_count;
    thread_last_reply_at = m->last_reply_at;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void listen_conversations(peer *p, conv_log *l) {
    chinwag_message_listener ml;
    memset(&ml, 0, sizeof ml);
    ml.struct_size = sizeof ml;
    ml.on_conversation_updated = on_conversation;
    ml.on_thread_updated = on_thread;
    CHECK_OK(chinwag_client_add_message_listener(p->client, "conversations", &ml, l, NULL));
}

/* A page or a single conversation, reduced to what the checks need. */
typedef struct {
    int runs;
    int code;
    size_t len;
    int has_more;
    char with_id[4][64];
    unsigned long long unread[4];
    unsigned long long unread_mentions[4];
    long long last_read[4];
    char last_text[4][64];
    int user_ok[4];
    int user_blocked[4]; /* the other user's json says blocked_by_me */
    unsigned long long total;
    size_t counts_len;
    char counts_with[4][64];
    unsigned long long counts_n[4];
} conv_result;

static conv_result cr;

static void keep(conv_result *out, size_t i, const chinwag_conversation *c) {
    if (i >= 4) return;
    snprintf(out->with_id[i], 64, "%s", c->with_id);
    out->unread[i] = (unsigned long long)c->unread_count;
    out->unread_mentions[i] = (unsigned long long)c->unread_mentions_count;
    out->last_read[i] = (long long)c->last_read_message_id;
    snprintf(out->last_text[i], 64, "%s",
             c->last_message && c->last_message->text ? c->last_message->text : "");
    out->user_ok[i] = c->user != NULL && same_str(c->user->uid, c->with_id) && c->json != NULL;
    out->user_blocked[i] = c->user != NULL && strstr(c->user->json, "\"blocked_by_me\":true") != NULL;
}

static void finish_result(conv_result *out, const chinwag_error *error, const void *payload) {
    out->runs++;
    out->code = error ? (int)error->code : 0;
    if ((error == NULL) == (payload == NULL)) out->code = -3; /* malformed completion */
    pthread_cond_broadcast(&g_cond);
}

static void done_page(void *ud, const chinwag_error *error, const chinwag_conversation_page *page) {
    conv_result *out = (conv_result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (page) {
        out->len = page->len;
        out->has_more = page->has_more;
        for (i = 0; i < page->len; i++) keep(out, i, &page->items[i]);
        if (page->json == NULL) out->code = -4;
    }
    finish_result(out, error, page);
    pthread_mutex_unlock(&g_lock);
}

static void done_one(void *ud, const chinwag_error *error, const chinwag_conversation *c) {
    conv_result *out = (conv_result *)ud;
    pthread_mutex_lock(&g_lock);
    if (c) {
        out->len = 1;
        keep(out, 0, c);
    }
    finish_result(out, error, c);
    pthread_mutex_unlock(&g_lock);
}

static void done_counts(void *ud, const chinwag_error *error, const chinwag_unread_counts *u) {
    conv_result *out = (conv_result *)ud;
    size_t i;
    pthread_mutex_lock(&g_lock);
    if (u) {
        out->total = (unsigned long long)u->total;
        out->counts_len = u->len;
        for (i = 0; i < u->len && i < 4; i++) {
            snprintf(out->counts_with[i], 64, "%s", u->items[i].with_id);
            out->counts_n[i] = (unsigned long long)u->items[i].unread_count;
        }
    }
    finish_result(out, error, u);
    pthread_mutex_unlock(&g_lock);
}

static void done_deleted(void *ud, const chinwag_error *error) {
    conv_result *out = (conv_result *)ud;
    pthread_mutex_lock(&g_lock);
    out->runs++;
    out->code = error ? (int)error->code : 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Makes `call` (which passes &cr) and waits for its completion; evaluates to its code. */
#define CONV_AWAIT(call) (memset(&cr, 0, sizeof cr), await_conv((call), #call, __FILE__, __LINE__))

static int await_conv(chinwag_result rc, const char *call, const char *file, int line) {
    struct timespec deadline;
    int code;
    if (rc != CHINWAG_RESULT_OK) {
        fail_at(file, line, "%s returned %s", call, chinwag_result_name(rc));
        return -1;
    }
    deadline_in(&deadline, WAIT_SECONDS);
    pthread_mutex_lock(&g_lock);
    while (cr.runs == 0) {
        if (pthread_cond_timedwait(&g_cond, &g_lock, &deadline) == ETIMEDOUT) break;
    }
    code = cr.runs == 1 ? cr.code : -2;
    pthread_mutex_unlock(&g_lock);
    if (code == -2) fail_at(file, line, "the completion ran %d times", cr.runs);
    return code;
}

static int64_t send_to_uma(const char *text) {
    int64_t id = 0;
    EXPECT_OK(&r, chinwag_client_send_text(X.client, CHINWAG_RECEIVER_TYPE_USER, "uma", text,
                                           done_message, &r, NULL));
    if (r.one) id = ((chinwag_message *)r.one)->id;
    return id;
}

static void list_counts_and_two_devices(void) {
    chinwag_conversations_request *all = NULL, *groups = NULL;
    chinwag_conversations_request_options o;
    int64_t ids[3];
    int seen1, seen2;

    ids[0] = send_to_uma("one");
    ids[1] = send_to_uma("two");
    ids[2] = send_to_uma("three");
    CHECK(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1]);

    CHECK_OK(chinwag_conversations_request_new(NULL, &all));
    CHECK(CONV_AWAIT(chinwag_client_fetch_conversations(U1.client, all, done_page, &cr)) == 0);
    CHECK(cr.len == 1 && !cr.has_more);
    CHECK(strcmp(cr.with_id[0], "xena") == 0);
    CHECK(cr.unread[0] == 3);
    CHECK(cr.last_read[0] == 0);
    CHECK(strcmp(cr.last_text[0], "three") == 0);
    CHECK(cr.user_ok[0]);
    /* Exhausted: an empty last page. */
    CHECK(CONV_AWAIT(chinwag_client_fetch_conversations(U1.client, all, done_page, &cr)) == 0);
    CHECK(cr.len == 0 && !cr.has_more);
    chinwag_conversations_request_free(all);

    CHECK(CONV_AWAIT(chinwag_client_get_unread_counts(U2.client, done_counts, &cr)) == 0);
    CHECK(cr.total == 3 && cr.counts_len == 1);
    CHECK(strcmp(cr.counts_with[0], "xena") == 0 && cr.counts_n[0] == 3);

    /* A read on one device: both hear the new badge. */
    CHECK_OK(chinwag_client_mark_read(U1.client, ids[1]));
    WAIT_FOR(find_conv(&log1, 0, "xena", 1, 0) >= 0 && find_conv(&log2, 0, "xena", 1, 0) >= 0);
    pthread_mutex_lock(&g_lock);
    seen1 = find_conv(&log1, 0, "xena", 1, 0);
    seen2 = find_conv(&log2, 0, "xena", 1, 0);
    CHECK(seen1 >= 0 && log1.events[seen1].last_read == ids[1] && log1.events[seen1].had_user);
    CHECK(seen2 >= 0 && log2.events[seen2].last_read == ids[1]);
    pthread_mutex_unlock(&g_lock);
    CHECK(CONV_AWAIT(chinwag_client_get_unread_counts(U2.client, done_counts, &cr)) == 0);
    CHECK(cr.total == 1);
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U2.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == 0);
    CHECK(cr.unread[0] == 1 && cr.last_read[0] == ids[1]);
    /* The sender's own messages are never unread for her. */
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(X.client, CHINWAG_RECEIVER_TYPE_USER, "uma",
                                                     done_one, &cr)) == 0);
    CHECK(cr.unread[0] == 0 && strcmp(cr.last_text[0], "three") == 0);

    /* Filters: no group conversations; unread only finds xena. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.filter = CHINWAG_CONVERSATION_FILTER_GROUP;
    CHECK_OK(chinwag_conversations_request_new(&o, &groups));
    CHECK(CONV_AWAIT(chinwag_client_fetch_conversations(U2.client, groups, done_page, &cr)) == 0);
    CHECK(cr.len == 0);
    chinwag_conversations_request_free(groups);
    o.filter = CHINWAG_CONVERSATION_FILTER_USER;
    o.unread_only = 1;
    o.limit = 5;
    CHECK_OK(chinwag_conversations_request_new(&o, &groups));
    CHECK(CONV_AWAIT(chinwag_client_fetch_conversations(U2.client, groups, done_page, &cr)) == 0);
    CHECK(cr.len == 1 && cr.unread[0] == 1);
    chinwag_conversations_request_free(groups);
}

static void delete_for_me(void) {
    chinwag_conversations_request *all = NULL;
    CHECK(CONV_AWAIT(chinwag_client_delete_conversation(U2.client, CHINWAG_RECEIVER_TYPE_USER,
                                                        "xena", done_deleted, &cr)) == 0);
    WAIT_FOR(find_conv(&log1, 0, "xena", 0, 1) >= 0 && find_conv(&log2, 0, "xena", 0, 1) >= 0);
    CHECK_OK(chinwag_conversations_request_new(NULL, &all));
    CHECK(CONV_AWAIT(chinwag_client_fetch_conversations(U1.client, all, done_page, &cr)) == 0);
    CHECK(cr.len == 0);
    chinwag_conversations_request_free(all);
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == CHINWAG_RESULT_NOT_FOUND);
    CHECK(CONV_AWAIT(chinwag_client_get_unread_counts(U1.client, done_counts, &cr)) == 0);
    CHECK(cr.total == 0 && cr.counts_len == 0);
    /* A new message brings it back with only itself unread. */
    send_to_uma("back");
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == 0);
    CHECK(cr.unread[0] == 1 && strcmp(cr.last_text[0], "back") == 0);
}

static void blocking(void) {
    const chinwag_user *u;
    EXPECT_OK(&r, chinwag_client_block_user(U1.client, "xena", done_users, &r));
    CHECK(r.len == 1);
    u = r.len == 1 ? (const chinwag_user *)r.items[0] : NULL;
    CHECK(u != NULL && strcmp(u->uid, "xena") == 0 && strstr(u->json, "\"blocked_by_me\":true") != NULL);
    /* xena's message is refused with a clear error and reaches neither of uma's devices. */
    EXPECT_DONE(&r, chinwag_client_send_text(X.client, CHINWAG_RECEIVER_TYPE_USER, "uma", "blocked?",
                                             done_message, &r, NULL),
                CHINWAG_RESULT_FORBIDDEN);
    CHECK(strstr(r.error, "BLOCKED") != NULL && strstr(r.error, "has blocked you") != NULL);
    /* Either side: uma cannot write to xena while she blocks her. */
    EXPECT_DONE(&r, chinwag_client_send_text(U2.client, CHINWAG_RECEIVER_TYPE_USER, "xena", "hm",
                                             done_message, &r, NULL),
                CHINWAG_RESULT_FORBIDDEN);
    EXPECT_OK(&r, chinwag_client_blocked_users(U2.client, done_users, &r));
    CHECK(r.len == 1);
    /* The conversation list flags her. */
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == 0);
    CHECK(cr.user_ok[0] && cr.user_blocked[0]);
    EXPECT_OK(&r, chinwag_client_unblock_user(U1.client, "xena", done_plain, &r));
    EXPECT_OK(&r, chinwag_client_blocked_users(U1.client, done_users, &r));
    CHECK(r.len == 0);
    /* Unblocked: the next message arrives, and it is the first of xena's uma hears since. */
    EXPECT_OK(&r, chinwag_client_send_text(X.client, CHINWAG_RECEIVER_TYPE_USER, "uma", "unblocked",
                                           done_message, &r, NULL));
    {
        const char *muid = r.one ? ((chinwag_message *)r.one)->muid : "";
        const event_rec *e = WAIT_EVENT(&U1, EV_TEXT, muid, "xena");
        CHECK(e != NULL && strcmp(e->message->text, "unblocked") == 0);
        CHECK(count_events(&U1, EV_TEXT, NULL, "xena") == 5); /* one, two, three, back, unblocked */
    }
    CHECK_RC(chinwag_client_block_user(U1.client, NULL, done_users, &r), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_unblock_user(U1.client, "", done_plain, &r), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_blocked_users(NULL, done_users, &r), CHINWAG_RESULT_NULL_ARGUMENT);
}

static void mentions(void) {
    int64_t id;
    const event_rec *e;
    int seen, from1, from2;
    /* Before: "back" and "unblocked" unread, no mention. */
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == 0);
    CHECK(cr.unread[0] == 2 && cr.unread_mentions[0] == 0);
    EXPECT_OK(&r, chinwag_client_send_text(X.client, CHINWAG_RECEIVER_TYPE_USER, "uma",
                                           "<@uid:uma> and <@uid:nobody>, look", done_message, &r, NULL));
    CHECK(r.one != NULL);
    if (r.one == NULL) return;
    id = ((chinwag_message *)r.one)->id;
    /* The sender's copy names uma but does not mention its reader. */
    CHECK(((chinwag_message *)r.one)->mentioned_users_len == 1 && !((chinwag_message *)r.one)->mentions_me);
    e = WAIT_EVENT(&U1, EV_TEXT, ((chinwag_message *)r.one)->muid, "xena");
    CHECK(e != NULL && e->message->mentions_me && e->message->mentioned_users_len == 1 &&
          strcmp(e->message->mentioned_users[0], "uma") == 0);
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U2.client, CHINWAG_RECEIVER_TYPE_USER, "xena",
                                                     done_one, &cr)) == 0);
    CHECK(cr.unread[0] == 3 && cr.unread_mentions[0] == 1);
    /* Reading it clears both counts on both devices. */
    pthread_mutex_lock(&g_lock);
    from1 = log1.count;
    from2 = log2.count;
    pthread_mutex_unlock(&g_lock);
    CHECK_OK(chinwag_client_mark_read(U1.client, id));
    WAIT_FOR(find_conv(&log1, from1, "xena", 0, 0) >= 0 && find_conv(&log2, from2, "xena", 0, 0) >= 0);
    pthread_mutex_lock(&g_lock);
    seen = find_conv(&log2, from2, "xena", 0, 0);
    CHECK(seen >= 0 && log2.events[seen].unread_mentions == 0 && log2.events[seen].last_read == id);
    pthread_mutex_unlock(&g_lock);
}

static int64_t reply_to_uma(int64_t parent, const char *text, int64_t *sent_at) {
    char json[256];
    int64_t id = 0;
    snprintf(json, sizeof json,
             "{\"receiver_type\":\"user\",\"receiver\":\"uma\",\"text\":\"%s\",\"parent_id\":%lld}",
             text, (long long)parent);
    EXPECT_OK(&r, chinwag_client_send_message(X.client, json, done_message, &r, NULL));
    if (r.one) {
        id = ((chinwag_message *)r.one)->id;
        *sent_at = ((chinwag_message *)r.one)->sent_at;
        CHECK(((chinwag_message *)r.one)->parent_id == parent);
    }
    return id;
}

static void threads(void) {
    chinwag_messages_request *req = NULL;
    chinwag_messages_request_options o;
    int64_t parent, first, second, at1 = 0, at2 = 0;
    parent = send_to_uma("a question");
    CHECK(parent > 0);
    first = reply_to_uma(parent, "an answer", &at1);
    second = reply_to_uma(parent, "another", &at2);
    CHECK(first > parent && second > first);
    /* Each reply is followed by the parent with its new count. */
    WAIT_FOR(thread_parent == parent && thread_replies == 2);
    pthread_mutex_lock(&g_lock);
    CHECK(thread_last_reply_at == at2);
    pthread_mutex_unlock(&g_lock);

    /* The thread, one reply per page: the newest first, then the one before it. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.limit = 1;
    CHECK_OK(chinwag_thread_request_new(parent, &o, &req));
    EXPECT_OK(&r, chinwag_client_fetch_previous(U2.client, req, done_messages, &r));
    CHECK(r.len == 1 && r.has_more && ((chinwag_message *)r.items[0])->id == second);
    EXPECT_OK(&r, chinwag_client_fetch_previous(U2.client, req, done_messages, &r));
    CHECK(r.len == 1 && !r.has_more && ((chinwag_message *)r.items[0])->id == first);
    CHECK(r.len == 1 && ((chinwag_message *)r.items[0])->parent_id == parent);
    chinwag_messages_request_free(req);
    req = NULL;
    /* An unknown parent is the server's NOT_FOUND; bad arguments are refused at once. */
    CHECK_OK(chinwag_thread_request_new(INT64_MAX, NULL, &req));
    EXPECT_DONE(&r, chinwag_client_fetch_next(U1.client, req, done_messages, &r), CHINWAG_RESULT_NOT_FOUND);
    chinwag_messages_request_free(req);
    req = NULL;
    CHECK_RC(chinwag_thread_request_new(0, NULL, &req), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("not positive");
    CHECK_RC(chinwag_thread_request_new(parent, NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    o.limit = 101;
    CHECK_RC(chinwag_thread_request_new(parent, &o, &req), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK(req == NULL);
}

static void bad_input(void) {
    chinwag_conversations_request_options o;
    chinwag_conversations_request *req = NULL, *freed = NULL;
    chinwag_message_listener old;

    memset(&o, 0, sizeof o);
    CHECK_RC(chinwag_conversations_request_new(&o, &req), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("struct_size");
    o.struct_size = sizeof o;
    o.filter = 7;
    CHECK_RC(chinwag_conversations_request_new(&o, &req), CHINWAG_RESULT_INVALID_ARGUMENT);
    LAST_ERROR_MENTIONS("CHINWAG_CONVERSATION_FILTER_");
    o.filter = 0;
    o.limit = 101;
    CHECK_RC(chinwag_conversations_request_new(&o, &req), CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_conversations_request_new(NULL, NULL), CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK(req == NULL);

    CHECK_OK(chinwag_conversations_request_new(NULL, &freed));
    chinwag_conversations_request_free(freed);
    CHECK_RC(chinwag_client_fetch_conversations(U1.client, freed, done_page, &cr),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_fetch_conversations(U1.client, NULL, done_page, &cr),
             CHINWAG_RESULT_NULL_ARGUMENT);
    chinwag_conversations_request_free(NULL);

    CHECK_RC(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, NULL, done_one, &cr),
             CHINWAG_RESULT_NULL_ARGUMENT);
    CHECK_RC(chinwag_client_get_conversation(U1.client, 9, "xena", done_one, &cr),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, BAD_UTF8, done_one, &cr),
             CHINWAG_RESULT_INVALID_UTF8);
    CHECK_RC(chinwag_client_delete_conversation(U1.client, CHINWAG_RECEIVER_TYPE_GROUP, "", done_deleted, &cr),
             CHINWAG_RESULT_INVALID_ARGUMENT);
    CHECK_RC(chinwag_client_get_unread_counts(NULL, done_counts, &cr), CHINWAG_RESULT_NULL_ARGUMENT);
    /* The server's refusal arrives in the completion. */
    CHECK(CONV_AWAIT(chinwag_client_get_conversation(U1.client, CHINWAG_RECEIVER_TYPE_USER, "nobody",
                                                     done_one, &cr)) == CHINWAG_RESULT_NOT_FOUND);

    /* A message listener from before on_conversation_updated existed is still accepted; a
     * smaller one is not. */
    memset(&old, 0, sizeof old);
    old.struct_size = offsetof(chinwag_message_listener, on_conversation_updated);
    CHECK_OK(chinwag_client_add_message_listener(U1.client, "old", &old, NULL, NULL));
    CHECK_OK(chinwag_client_remove_message_listener(U1.client, "old"));
    old.struct_size = offsetof(chinwag_message_listener, on_gap);
    CHECK_RC(chinwag_client_add_message_listener(U1.client, "old", &old, NULL, NULL),
             CHINWAG_RESULT_INVALID_ARGUMENT);
}

int main(int argc, char **argv) {
    read_server(argc, argv);
    peer_start(&U1, "uma");
    peer_start(&U2, "uma");
    peer_start(&X, "xena");
    listen_conversations(&U1, &log1);
    listen_conversations(&U2, &log2);

    list_counts_and_two_devices();
    delete_for_me();
    blocking();
    mentions();
    threads();
    bad_input();

    result_clear(&r);
    peer_stop(&U1);
    peer_stop(&U2);
    peer_stop(&X);
    return finish("conversations");
}
