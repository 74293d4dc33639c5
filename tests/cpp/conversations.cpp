// Conversations, blocking and mentions through the C++ API against a real server: the list
// (owned and as views) with the other user, the last message, the unread and unread-mentions
// counts; the unread totals; a read heard by on_conversation_updated; deleting a conversation
// for oneself; blocking (the blocked user's message refused, the blocked list, unblocking);
// threads (on_thread_updated with the reply count, a thread request paging the replies); bad
// input. uma and xena are used by this program only among the C++ tests, so counts are
// exact.
#include "common.hpp"

using chinwag::receiver_type;
using chinwag::use_future;

namespace {

struct seen_update {
    std::uint64_t unread = 0;
    std::uint64_t mentions = 0;
    bool deleted = false;
};
std::vector<seen_update> updates;
std::int64_t thread_parent = 0;
std::uint64_t thread_replies = 0;

bool saw(std::uint64_t unread, std::uint64_t mentions, bool deleted) {
    for (const seen_update& u : updates)
        if (u.unread == unread && u.mentions == mentions && u.deleted == deleted) return true;
    return false;
}

template <class F>
chinwag::result code_of(F&& f) {
    try {
        f();
    } catch (const chinwag::error& e) {
        return e.code();
    }
    return chinwag::result::ok;
}

void list_counts_mentions_and_delete(chinwag::client& uma, chinwag::client& xena) {
    std::printf("conversations: list, counts, mentions, read, delete\n");
    xena.send_text(receiver_type::user, "uma", "hello", use_future).get();
    chinwag::message last = xena.send_text(receiver_type::user, "uma", "look <@uid:uma>", use_future).get();
    CHECK(last.mentioned_users_size() == 1 && last.mentioned_user(0) == "uma" && !last.mentions_me());

    chinwag::conversations_request all{chinwag::conversations_request_options{}};
    chinwag::conversation_page page = uma.fetch_conversations(all, use_future).get();
    CHECK(page.items.size() == 1 && !page.has_more && !page.json.empty());
    if (page.items.size() == 1) {
        const chinwag::conversation& c = page.items[0];
        CHECK(c.with_id == "xena" && c.conversation_type == receiver_type::user);
        CHECK(c.conversation_id == "user:uma:xena");
        CHECK(c.user && c.user->uid() == "xena" && !c.group);
        CHECK(c.last_message && c.last_message->id() == last.id() && c.last_message->mentions_me());
        CHECK(c.unread_count == 2 && c.unread_mentions_count == 1 && c.last_read_message_id == 0);
    }
    // Exhausted: an empty last page.
    CHECK(uma.fetch_conversations(all, use_future).get().items.empty());

    // Views inside the completion.
    bool viewed = false;
    uma.get_conversation(receiver_type::user, "xena", [&](chinwag::outcome<chinwag::conversation_view> r) {
        CHECK(r.ok());
        if (r) {
            chinwag::conversation_view v = r.value();
            CHECK(v.with_id() == "xena" && v.unread_count() == 2 && v.unread_mentions_count() == 1);
            CHECK(v.user() && v.user()->uid() == "xena" && !v.group());
            CHECK(v.last_message() && v.last_message()->text() == std::optional<std::string_view>("look <@uid:uma>"));
        }
        test::note([&] { viewed = true; });
    });
    WAIT_FOR(viewed);

    chinwag::unread_counts counts = uma.unread_counts(use_future).get();
    CHECK(counts.total == 2 && counts.users.size() == 1 && counts.users["xena"] == 2 && counts.groups.empty());

    uma.mark_read(last.id());
    WAIT_FOR(saw(0, 0, false));
    CHECK(uma.get_conversation(receiver_type::user, "xena", use_future).get().last_read_message_id == last.id());
    CHECK(uma.unread_counts(use_future).get().total == 0);

    // The filters: no group conversations; xena's own messages are never unread for her.
    chinwag::conversations_request groups{chinwag::conversations_request_options{0, receiver_type::group, false}};
    CHECK(uma.fetch_conversations(groups, use_future).get().items.empty());
    CHECK(xena.get_conversation(receiver_type::user, "uma", use_future).get().unread_count == 0);

    uma.delete_conversation(receiver_type::user, "xena", use_future).get();
    WAIT_FOR(saw(0, 0, true));
    chinwag::conversations_request again{chinwag::conversations_request_options{}};
    CHECK(uma.fetch_conversations(again, use_future).get().items.empty());
    CHECK(code_of([&] { uma.get_conversation(receiver_type::user, "xena", use_future).get(); }) ==
          chinwag::result::not_found);
}

void blocking(chinwag::client& uma, chinwag::client& xena) {
    std::printf("conversations: blocking\n");
    chinwag::user_page blocked = uma.block_user("xena", use_future).get();
    CHECK(blocked.items.size() == 1 && blocked.items[0].uid() == "xena");
    CHECK(blocked.items.size() == 1 && blocked.items[0].json().find("\"blocked_by_me\":true") != std::string_view::npos);
    try {
        xena.send_text(receiver_type::user, "uma", "blocked?", use_future).get();
        CHECK(!"a message to a user who blocked the sender was accepted");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::forbidden && e.message().find("BLOCKED") != std::string::npos);
    }
    CHECK(uma.blocked_users(use_future).get().items.size() == 1);
    uma.unblock_user("xena", use_future).get();
    CHECK(uma.blocked_users(use_future).get().items.empty());
    xena.send_text(receiver_type::user, "uma", "unblocked", use_future).get();
}

void threads(chinwag::client& uma, chinwag::client& xena) {
    std::printf("conversations: threads\n");
    chinwag::message parent = xena.send_text(receiver_type::user, "uma", "a question", use_future).get();
    std::vector<std::int64_t> replies;
    for (const char* text : {"one", "two"}) {
        std::string json = std::string(R"({"receiver_type":"user","receiver":"uma","text":")") + text +
                           R"(","parent_id":)" + std::to_string(parent.id()) + "}";
        chinwag::message m = xena.send_message(json, use_future).get();
        CHECK(m.parent_id() == parent.id());
        replies.push_back(m.id());
    }
    WAIT_FOR(thread_parent == parent.id() && thread_replies == 2);
    chinwag::messages_request_options one_per_page;
    one_per_page.limit = 1;
    chinwag::messages_request thread = chinwag::messages_request::thread(parent.id(), one_per_page);
    chinwag::message_page newest = uma.fetch_previous(thread, use_future).get();
    CHECK(newest.items.size() == 1 && newest.has_more && newest.items[0].id() == replies[1]);
    chinwag::message_page older = uma.fetch_previous(thread, use_future).get();
    CHECK(older.items.size() == 1 && !older.has_more && older.items[0].id() == replies[0]);
    std::error_code ec;
    chinwag::messages_request::thread(0, {}, ec);
    CHECK(ec == chinwag::result::invalid_argument);
}

void bad_input(chinwag::client& uma) {
    std::printf("conversations: bad input\n");
    std::error_code ec;
    uma.get_conversation(receiver_type::user, "", {}, ec);
    CHECK(ec == chinwag::result::invalid_argument);
    uma.block_user(std::string("a\0b", 3), {}, ec);
    CHECK(ec == chinwag::result::invalid_argument);
    chinwag::conversations_request::create(chinwag::conversations_request_options{101, std::nullopt, false}, ec);
    CHECK(ec == chinwag::result::invalid_argument);
    chinwag::conversations_request moved_from;
    uma.fetch_conversations(moved_from, {}, ec);
    CHECK(ec == chinwag::result::null_argument);
    CHECK(code_of([&] { uma.get_conversation(receiver_type::user, "nobody-at-all", use_future).get(); }) ==
          chinwag::result::not_found);
}

}  // namespace

int main(int argc, char** argv) {
    test::read_server(argc, argv);
    {
        chinwag::client xena("chinwag-app", test::settings());
        chinwag::client uma("chinwag-app", test::settings());
        chinwag::message_listener l;
        l.on_conversation_updated = [](const chinwag::conversation_view& c) {
            if (c.with_id() != "xena") return;
            test::note([&] { updates.push_back({c.unread_count(), c.unread_mentions_count(), c.deleted()}); });
        };
        l.on_thread_updated = [](const chinwag::message_view& m) {
            test::note([&] {
                thread_parent = m.id();
                thread_replies = m.reply_count();
            });
        };
        chinwag::listener_handle h = uma.add_listener("conversations", std::move(l));
        xena.login("xena", test::auth_key, use_future).get();
        uma.login("uma", test::auth_key, use_future).get();

        list_counts_mentions_and_delete(uma, xena);
        blocking(uma, xena);
        threads(uma, xena);
        bad_input(uma);
        uma.logout(use_future).get();
        xena.logout(use_future).get();
    }
    return test::finish("conversations");
}
