// Every listener kind of the C++ API against a real server: connection, login, message (text,
// media, custom, edit, delete, typing, receipts, transient), user (presence), group, call and
// log listeners, registered by the constructor (initial listeners) and by add_listener (whose
// first connection event is the current state, reason LISTENER_ADDED). Also:
// a lambda that throws (caught, reported to the handler, delivery goes on), a listener handle
// destroyed inside its own callback, released handles, a handle that must not remove the
// listener that replaced its own, moving clients and handles, owned copies kept past the
// callback, and a session store whose load throws.
#include "common.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using chinwag::receiver_type;

namespace {

struct app {
    std::string name;
    chinwag::connection_state state = chinwag::connection_state::disconnected;
    int changes = 0;           // state events that are changes
    int first_events = 0;      // LISTENER_ADDED events (the state a late listener starts from)
    int first_connected = 0;   // on_connected calls of those
    int logins = 0;
    std::vector<std::string> texts;
    int media = 0, custom = 0, edited = 0, deleted = 0, typing_started = 0, typing_ended = 0;
    int delivered = 0, read = 0, transient = 0;
    std::vector<std::string> online, offline;
    std::vector<chinwag::group_action> group_events;
    std::string ringing;
    int incoming = 0, accepted = 0, rejected = 0, cancelled = 0, ended = 0;
    std::optional<chinwag::message> kept;  // an owned copy of the first text
};

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

int count(const std::vector<chinwag::group_action>& v, chinwag::group_action a) {
    return static_cast<int>(std::count(v.begin(), v.end(), a));
}

chinwag::connection_listener connection_of(app& a) {
    chinwag::connection_listener l;
    l.on_state_changed = [&a](const chinwag::state_change_view& c) {
        bool first = c.reason() == chinwag::state_reason::listener_added;
        // A late listener's first event is the state it starts from; every other one a change.
        CHECK(first ? c.previous() == c.current() : c.previous() != c.current());
        CHECK(!first || to_string(c.reason()) == "LISTENER_ADDED");
        test::note([&] {
            a.state = c.current();
            (first ? a.first_events : a.changes)++;
        });
    };
    l.on_connected = [&a](const chinwag::state_change_view& c) {
        if (c.reason() == chinwag::state_reason::listener_added) test::note([&] { a.first_connected++; });
    };
    return l;
}

chinwag::login_listener login_of(app& a) {
    chinwag::login_listener l;
    l.on_login_success = [&a](const chinwag::user_view& u) {
        CHECK(u.uid() == a.name);
        test::note([&] { a.logins++; });
    };
    return l;
}

chinwag::message_listener messages_of(app& a) {
    chinwag::message_listener l;
    l.on_text_message_received = [&a](const chinwag::message_view& m) {
        std::string t(m.text().value_or(""));
        test::note([&] {
            if (!a.kept) a.kept = m.copy();  // outlives the callback
            a.texts.push_back(t);
        });
    };
    l.on_media_message_received = [&a](const chinwag::message_view& m) {
        CHECK(m.message_type() == "image");
        test::note([&] { a.media++; });
    };
    l.on_custom_message_received = [&a](const chinwag::message_view& m) {
        CHECK(m.category() == "custom" && m.message_type() == "location");
        CHECK(m.data_json() && m.data_json()->find("lat") != std::string_view::npos);
        test::note([&] { a.custom++; });
    };
    l.on_message_edited = [&a](const chinwag::message_view& m) {
        CHECK(m.text() == std::optional<std::string_view>("one (edited)") && m.edited_at() > 0);
        test::note([&] { a.edited++; });
    };
    l.on_message_deleted = [&a](const chinwag::message_view& m) {
        CHECK(m.deleted_at() > 0);
        test::note([&] { a.deleted++; });
    };
    l.on_typing_started = [&a](const chinwag::typing_view& t) {
        CHECK(t.sender() != a.name);
        test::note([&] { a.typing_started++; });
    };
    l.on_typing_ended = [&a](const chinwag::typing_view&) { test::note([&] { a.typing_ended++; }); };
    l.on_messages_delivered = [&a](const chinwag::receipt_view& r) {
        CHECK(r.kind() == chinwag::receipt_kind::delivered && r.message_id() > 0);
        test::note([&] { a.delivered++; });
    };
    l.on_messages_read = [&a](const chinwag::receipt_view& r) {
        chinwag::receipt kept = r.copy();
        CHECK(kept.kind() == chinwag::receipt_kind::read);
        test::note([&] { a.read++; });
    };
    l.on_transient_message_received = [&a](const chinwag::transient_view& t) {
        chinwag::transient kept = t.to_owned();
        CHECK(kept.data_json.find("wave") != std::string::npos);
        test::note([&] { a.transient++; });
    };
    return l;
}

chinwag::user_listener presence_of(app& a) {
    chinwag::user_listener l;
    l.on_user_online = [&a](const chinwag::presence_view& p) {
        CHECK(p.status() == chinwag::user_status::online);
        test::note([&] { a.online.emplace_back(p.uid()); });
    };
    l.on_user_offline = [&a](const chinwag::presence_view& p) {
        test::note([&] { a.offline.emplace_back(p.uid()); });
    };
    return l;
}

chinwag::group_listener groups_of(app& a) {
    chinwag::group_listener l;
    auto note = [&a](const chinwag::group_member_event_view& e) {
        test::note([&] { a.group_events.push_back(e.action()); });
    };
    l.on_member_joined = note;
    l.on_member_left = note;
    l.on_member_kicked = note;
    l.on_member_banned = note;
    l.on_member_unbanned = note;
    l.on_member_scope_changed = note;
    l.on_member_added = note;
    return l;
}

chinwag::call_listener calls_of(app& a) {
    chinwag::call_listener l;
    l.on_incoming_call_received = [&a](const chinwag::call_view& c) {
        test::note([&] {
            a.ringing = std::string(c.session_id());
            a.incoming++;
        });
    };
    l.on_outgoing_call_accepted = [&a](const chinwag::call_view& c) {
        CHECK(c.status() == "ongoing");
        test::note([&] { a.accepted++; });
    };
    l.on_outgoing_call_rejected = [&a](const chinwag::call_view& c) {
        CHECK(c.status() == "rejected");
        test::note([&] { a.rejected++; });
    };
    l.on_incoming_call_cancelled = [&a](const chinwag::call_view& c) {
        CHECK(c.status() == "cancelled");
        test::note([&] { a.cancelled++; });
    };
    l.on_call_ended = [&a](const chinwag::call_view&) { test::note([&] { a.ended++; }); };
    return l;
}

// Sets a flag when destroyed: shows when a registration's callables were freed.
struct tracker {
    bool* destroyed;
    ~tracker() {
        test::note([&] { *destroyed = true; });
    }
};

void session_store_that_throws() {
    std::printf("listeners: a session store whose load throws; log callbacks\n");
    int store_exceptions = 0, log_errors = 0, log_listener_records = 0;
    chinwag::settings s = test::settings();
    s.store = chinwag::session_store{
        []() -> std::optional<std::string> { throw std::runtime_error("keychain locked"); },
        [](std::string_view, bool) {}, [] {}};
    s.log = [&](const chinwag::log_record_view& r) {
        if (r.level() == chinwag::log_level::error && r.message().find("store") != std::string_view::npos)
            test::note([&] { log_errors++; });
    };
    s.listeners.push_back({"log", chinwag::log_listener{[&](const chinwag::log_record_view& r) {
                               chinwag::log_record kept = r.to_owned();
                               CHECK(!kept.target.empty());
                               test::note([&] { log_listener_records++; });
                           }}});
    s.on_callback_exception = [&](std::string_view where, std::exception_ptr e) {
        CHECK(where == "session_store.load");
        try {
            std::rethrow_exception(e);
        } catch (const std::runtime_error& x) {
            CHECK(std::string(x.what()) == "keychain locked");
        }
        test::note([&] { store_exceptions++; });
    };
    chinwag::client c("chinwag-app", std::move(s));
    CHECK(test::read([&] { return store_exceptions; }) == 1);  // init's load ran on this thread
    std::error_code ec;
    c.logged_in_user(ec);
    CHECK(ec == chinwag::result::not_logged_in);
    WAIT_FOR(log_errors >= 1 && log_listener_records >= 1);
}

}  // namespace

int main(int argc, char** argv) {
    test::read_server(argc, argv);
    app alice, bob;
    alice.name = "alice";
    bob.name = "bob";

    std::printf("listeners: alice's listeners are registered by the constructor\n");
    chinwag::settings as = test::settings();
    as.presence = chinwag::presence_mode::all_users;
    as.listeners.push_back({"app", connection_of(alice)});
    as.listeners.push_back({"app", login_of(alice)});
    as.listeners.push_back({"app", messages_of(alice)});
    as.listeners.push_back({"app", presence_of(alice)});
    as.listeners.push_back({"app", groups_of(alice)});
    as.listeners.push_back({"app", calls_of(alice)});
    chinwag::client a("chinwag-app", std::move(as));
    a.login("alice", test::auth_key);
    WAIT_FOR(alice.state == chinwag::connection_state::connected && alice.logins == 1);
    test::note([&] { CHECK(alice.first_events == 0 && alice.changes >= 2); });  // initial: changes only

    std::printf("listeners: bob's are added with handles; then bob's client is moved\n");
    chinwag::client b0("chinwag-app", test::settings());
    std::vector<chinwag::listener_handle> bob_handles;
    bob_handles.push_back(b0.add_listener("app", connection_of(bob)));
    bob_handles.push_back(b0.add_listener("app", login_of(bob)));
    bob_handles.push_back(b0.add_listener("app", messages_of(bob)));
    bob_handles.push_back(b0.add_listener("app", groups_of(bob)));
    bob_handles.push_back(b0.add_listener("app", calls_of(bob)));
    chinwag::client b = std::move(b0);
    std::error_code ec;
    b0.connect(ec);
    CHECK(ec == chinwag::result::client_freed && !b0 && b);
    b.login("bob", test::auth_key);
    WAIT_FOR(bob.state == chinwag::connection_state::connected && bob.logins == 1);
    test::note([&] { CHECK(bob.first_events == 1 && bob.first_connected == 0); });  // it started DISCONNECTED
    WAIT_FOR(has(alice.online, "bob"));

    std::printf("listeners: one added while connected first hears CONNECTED (previous == current)\n");
    app late;
    late.name = "alice";
    chinwag::listener_handle late_handle = a.add_listener("late", connection_of(late));
    WAIT_FOR(late.first_events == 1 && late.first_connected == 1);  // on_state_changed, then on_connected
    test::note([&] { CHECK(late.state == chinwag::connection_state::connected && late.changes == 0); });

    std::printf("listeners: messages, edits, deletes, typing, receipts, transient\n");
    chinwag::message first = b.send_text(receiver_type::user, "alice", "one", chinwag::use_future).get();
    CHECK(first.text() == std::optional<std::string_view>("one") && first.id() > 0);
    WAIT_FOR(alice.texts.size() == 1);
    test::note([&] {
        CHECK(alice.kept && alice.kept->text() == std::optional<std::string_view>("one"));
        CHECK(alice.kept->sender() == "bob" && alice.kept->id() == first.id());
    });
    chinwag::message media = b.send_media(receiver_type::user, "alice", "image", "https://x.example/a.png",
                                          "a caption", nullptr, chinwag::use_future)
                                 .get();
    b.send_custom(receiver_type::user, "alice", "location", R"({"lat": 51.5})");
    WAIT_FOR(alice.media == 1 && alice.custom == 1);
    b.edit_message(first.id(), "one (edited)", nullptr, std::nullopt, chinwag::use_future).get();
    WAIT_FOR(alice.edited == 1);
    b.delete_message(first.id(), chinwag::use_future).get();
    WAIT_FOR(alice.deleted == 1);
    b.start_typing(receiver_type::user, "alice");
    WAIT_FOR(alice.typing_started == 1);
    b.end_typing(receiver_type::user, "alice");
    WAIT_FOR(alice.typing_ended >= 1);
    a.mark_delivered(media.id());
    WAIT_FOR(bob.delivered == 1);
    a.mark_read(media.id());
    WAIT_FOR(bob.read == 1);
    b.send_transient(receiver_type::user, "alice", R"({"wave": true})");
    WAIT_FOR(alice.transient == 1);

    std::printf("listeners: a throwing lambda is caught and reported; delivery goes on\n");
    int throws = 0, thrower_calls = 0;
    std::vector<std::string> reported;
    b.set_exception_handler([&](std::string_view where, std::exception_ptr e) {
        std::string what = "?";
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            what = x.what();
        } catch (int) {
            what = "int";
        }
        test::note([&] {
            reported.push_back(std::string(where) + ": " + what);
            throws++;
        });
    });
    chinwag::message_listener thrower;
    thrower.on_text_message_received = [&](const chinwag::message_view&) {
        int n = test::read([&] { return ++thrower_calls; });
        if (n == 1) throw std::runtime_error("boom");
        throw 42;  // not even a std::exception
    };
    chinwag::listener_handle thrower_handle = b.add_listener("thrower", std::move(thrower));
    a.send_text(receiver_type::user, "bob", "t1");
    a.send_text(receiver_type::user, "bob", "t2");
    WAIT_FOR(throws == 2 && bob.texts.size() == 2 && thrower_calls == 2);
    test::note([&] { CHECK(reported.size() == 2 && reported[0] == "listener: boom" && reported[1] == "listener: int"); });
    thrower_handle.reset();

    std::printf("listeners: a handle destroyed inside its own callback\n");
    struct self_remover {
        chinwag::listener_handle handle;
        int calls = 0;
    } self;
    bool callables_freed = false;
    {
        auto t = std::make_shared<tracker>(tracker{&callables_freed});
        chinwag::message_listener l;
        l.on_text_message_received = [&self, t](const chinwag::message_view&) {
            test::note([&] { self.calls++; });
            chinwag::listener_handle mine = std::move(self.handle);  // destroyed here, in its callback
        };
        chinwag::listener_handle h = b.add_listener("self", std::move(l));
        test::note([&] { self.handle = std::move(h); });
    }
    for (const char* t : {"s1", "s2", "s3"}) a.send_text(receiver_type::user, "bob", t);
    WAIT_FOR(bob.texts.size() == 5 && callables_freed);
    CHECK(test::read([&] { return self.calls; }) == 1);

    std::printf("listeners: released handles, replaced ids, moved handles\n");
    int released_calls = 0, dup1 = 0, dup2 = 0, moved_a = 0, moved_b = 0;
    auto counting = [](int& n) {
        chinwag::message_listener l;
        l.on_text_message_received = [&n](const chinwag::message_view&) { test::note([&] { n++; }); };
        return l;
    };
    b.add_listener("released", counting(released_calls)).release();
    chinwag::listener_handle d1 = b.add_listener("dup", counting(dup1));
    chinwag::listener_handle d2 = b.add_listener("dup", counting(dup2));  // replaces d1's listener
    d1.reset();  // must not remove d2's
    chinwag::listener_handle ma = b.add_listener("ma", counting(moved_a));
    chinwag::listener_handle mb = b.add_listener("mb", counting(moved_b));
    ma = std::move(mb);  // removes "ma"; now owns "mb"
    CHECK(!mb.active() && ma.active() && ma.id() == "mb");
    a.send_text(receiver_type::user, "bob", "r1");
    WAIT_FOR(bob.texts.size() == 6 && released_calls == 1 && dup2 == 1 && moved_b == 1);
    CHECK(test::read([&] { return dup1 + moved_a; }) == 0);
    b.remove_listener(chinwag::listener_kind::message, "released");
    d2.reset();
    ma.reset();
    b.remove_listener(chinwag::listener_kind::message, "released", ec);
    CHECK(ec == chinwag::result::not_found);
    a.send_text(receiver_type::user, "bob", "r2");
    WAIT_FOR(bob.texts.size() == 7);
    CHECK(test::read([&] { return released_calls + dup2 + moved_b; }) == 3);

    std::printf("listeners: groups\n");
    chinwag::client carol("chinwag-app", test::settings(chinwag::connect_mode::manual));
    carol.login("carol", test::auth_key, chinwag::use_future).get();
    std::string team = "cpp-team-" + std::to_string(first.id());
    std::string lobby = "cpp-lobby-" + std::to_string(first.id());
    chinwag::group g = a.create_group(team, "Team", chinwag::group_type::private_group, chinwag::use_future).get();
    CHECK(g.guid() == team && g.scope() == std::optional<std::string_view>("admin"));
    a.add_group_members(team, {{"bob", chinwag::scope::participant}, {"carol", chinwag::scope::moderator}},
                        chinwag::use_future)
        .get();
    WAIT_FOR(count(bob.group_events, chinwag::group_action::added) >= 1);
    a.change_group_member_scope(team, "bob", chinwag::scope::moderator, chinwag::use_future).get();
    WAIT_FOR(count(bob.group_events, chinwag::group_action::scope_changed) == 1);
    a.kick_group_member(team, "carol", chinwag::use_future).get();
    WAIT_FOR(count(bob.group_events, chinwag::group_action::kicked) == 1);
    a.create_group(lobby, "Lobby", chinwag::group_type::public_group, chinwag::use_future).get();
    carol.join_group(lobby, chinwag::use_future).get();
    WAIT_FOR(count(alice.group_events, chinwag::group_action::joined) == 1);
    carol.leave_group(lobby, chinwag::use_future).get();
    WAIT_FOR(count(alice.group_events, chinwag::group_action::left) == 1);
    carol.join_group(lobby, chinwag::use_future).get();
    WAIT_FOR(count(alice.group_events, chinwag::group_action::joined) == 2);
    a.ban_group_member(lobby, "carol", chinwag::use_future).get();
    WAIT_FOR(count(alice.group_events, chinwag::group_action::banned) == 1);
    a.unban_group_member(lobby, "carol", chinwag::use_future).get();
    WAIT_FOR(count(alice.group_events, chinwag::group_action::unbanned) == 1);

    std::printf("listeners: calls\n");
    std::string s1 = a.initiate_call(receiver_type::user, "bob", chinwag::call_type::audio);
    WAIT_FOR(bob.incoming == 1 && bob.ringing == s1);
    b.reject_call(s1, false, chinwag::use_future).get();
    WAIT_FOR(alice.rejected == 1);
    std::string s2 = a.initiate_call(receiver_type::user, "bob", chinwag::call_type::video);
    WAIT_FOR(bob.incoming == 2 && bob.ringing == s2);
    chinwag::call accepted = b.accept_call(s2, chinwag::use_future).get();
    CHECK(accepted.status() == "ongoing" && accepted.session_id() == s2);
    WAIT_FOR(alice.accepted == 1);
    std::optional<chinwag::call> active = a.active_call();
    CHECK(active && active->session_id() == s2);
    a.end_call(s2, chinwag::use_future).get();
    WAIT_FOR(bob.ended == 1);
    CHECK(!a.active_call());
    std::string s3 = a.initiate_call(receiver_type::user, "bob", chinwag::call_type::audio);
    WAIT_FOR(bob.incoming == 3);
    a.cancel_call(s3, chinwag::use_future).get();
    WAIT_FOR(bob.cancelled == 1);

    std::printf("listeners: bob disconnects: alice sees him offline\n");
    b.disconnect();
    WAIT_FOR(has(alice.offline, "bob") && bob.state == chinwag::connection_state::disconnected);
    bob_handles.clear();  // removes bob's listeners; his client is still alive
    b.connect();
    WAIT_FOR(std::count(alice.online.begin(), alice.online.end(), "bob") >= 2);
    CHECK(test::read([&] { return bob.state; }) == chinwag::connection_state::disconnected);

    session_store_that_throws();
    return test::finish("listeners");
}
