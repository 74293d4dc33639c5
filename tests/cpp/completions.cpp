// Completions of the C++ API against a real server: every completion type runs exactly once
// (callbacks), futures give owned values or rethrow the chinwag::error, waiting on a future
// inside a callback throws REENTRANT_CALL instead of deadlocking, destroying a client runs its
// unfinished completions with CANCELLED before the destructor returns (and breaks no future),
// completions survive moving the client, bad input gets specific errors, and create_user
// (created, USER_EXISTS, wrong key) with the typed logged-in user.
#include "common.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

using chinwag::receiver_type;
using chinwag::use_future;

namespace {

// Completion runs by name, and the last code of each.
std::map<std::string, int> runs;
std::map<std::string, chinwag::result> codes;

template <class V>
chinwag::on_done<V> recorder(const std::string& name) {
    return [name](chinwag::outcome<V> r) {
        test::note([&] {
            runs[name]++;
            codes[name] = r.code();
        });
    };
}

// A completion that checks its value while it is valid.
template <class V, class F>
chinwag::on_done<V> checker(const std::string& name, F check) {
    return [name, check](chinwag::outcome<V> r) {
        if (r)
            check(r.value());
        else
            test::fail_at(__FILE__, __LINE__, name + " failed: " + std::string(r.error().message()));
        test::note([&] {
            runs[name]++;
            codes[name] = r.code();
        });
    };
}

bool ran(const std::string& name) { return runs.count(name) != 0; }

// A listening socket that never answers: requests to it hang until the client gives up.
struct black_hole {
    int fd = -1;
    std::string url;
    black_hole() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            std::perror("black hole socket");
            std::exit(1);
        }
        url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    }
    ~black_hole() { close(fd); }
};

void every_completion_once() {
    std::printf("completions: every completion type runs exactly once\n");
    chinwag::client c("chinwag-app", test::settings());
    c.login("dave", test::auth_key, checker<chinwag::user_view>("login", [](const chinwag::user_view& u) {
                CHECK(u.uid() == "dave" && !u.json().empty());
            }));
    WAIT_FOR(ran("login"));
    c.get_user("erin", checker<chinwag::user_view>("get_user", [](const chinwag::user_view& u) {
                   chinwag::user kept = u.copy();
                   CHECK(kept.uid() == "erin" && kept.name() == u.name());
               }));
    c.add_friend("erin", checker<chinwag::user_page_view>("add_friend", [](const chinwag::user_page_view& p) {
                     // Adding only asks: the friendship exists once erin adds back.
                     CHECK(p.items().empty() && !p.has_more() && !p.json().empty());
                 }));
    WAIT_FOR(ran("add_friend"));
    c.friends(checker<chinwag::user_page_view>("friends", [](const chinwag::user_page_view& p) {
        chinwag::user_page kept = p.to_owned();
        CHECK(kept.items.empty() && !kept.has_more);
    }));
    WAIT_FOR(ran("friends"));
    c.remove_friend("erin", recorder<void>("remove_friend"));
    std::string muid = c.send_text(receiver_type::user, "erin", "hello erin",
                                   checker<chinwag::message_view>("send_text", [](const chinwag::message_view& m) {
                                       CHECK(m.text() == std::optional<std::string_view>("hello erin"));
                                   }));
    CHECK(muid.size() >= 16);
    WAIT_FOR(ran("send_text"));
    chinwag::messages_request history(receiver_type::user, "erin", {10, std::nullopt, std::nullopt, 0});
    c.fetch_previous(history, checker<chinwag::message_page_view>("fetch_previous", [&](const chinwag::message_page_view& p) {
                         CHECK(p.items().size() == 1);
                         for (chinwag::message_view m : p.items()) CHECK(m.muid() == muid);
                     }));
    WAIT_FOR(ran("fetch_previous"));
    c.fetch_next(history, recorder<chinwag::message_page_view>("fetch_next"));
    chinwag::users_request users(chinwag::users_request_options{5, std::string("o"), std::nullopt, std::nullopt});
    c.fetch_users(users, checker<chinwag::user_page_view>("fetch_users", [](const chinwag::user_page_view& p) {
                      CHECK(!p.items().empty() && p.items().size() <= 5);
                      for (chinwag::user_view u : p.items()) CHECK(u.uid().find('o') != std::string_view::npos);
                  }));
    c.create_group("cpp-done", "Done", chinwag::group_type::public_group,
                   checker<chinwag::group_view>("create_group", [](const chinwag::group_view& g) {
                       CHECK(g.guid() == "cpp-done" && g.group_type() == chinwag::group_type::public_group);
                   }));
    WAIT_FOR(ran("create_group"));
    c.get_group("cpp-done", recorder<chinwag::group_view>("get_group"));
    c.list_groups(true, nullptr, 10, checker<chinwag::group_page_view>("list_groups", [](const chinwag::group_page_view& p) {
                      chinwag::group_page kept = p.to_owned();
                      CHECK(kept.items.size() == 1 && kept.items[0].guid() == "cpp-done" && !kept.next_after);
                  }));
    c.add_group_members("cpp-done", {{"erin", chinwag::scope::participant}},
                        checker<chinwag::member_list_view>("add_group_members", [](const chinwag::member_list_view& l) {
                            CHECK(l.items().size() == 2);
                        }));
    WAIT_FOR(ran("add_group_members"));
    c.group_members("cpp-done", checker<chinwag::member_list_view>("group_members", [](const chinwag::member_list_view& l) {
                        chinwag::member_list kept = l.to_owned();
                        CHECK(kept.items.size() == 2);
                    }));
    c.change_group_member_scope("cpp-done", "erin", chinwag::scope::moderator,
                                checker<chinwag::group_member_view>("change_scope", [](const chinwag::group_member_view& m) {
                                    CHECK(m.user().uid() == "erin" && m.scope() == "moderator");
                                }));
    c.leave_group("nowhere", recorder<void>("leave_group"));  // an error is a completion too
    std::string session = c.initiate_call(receiver_type::user, "erin", chinwag::call_type::video,
                                          checker<chinwag::call_view>("initiate_call", [](const chinwag::call_view& call) {
                                              CHECK(call.status() == "initiated" && call.call_type() == "video");
                                          }));
    WAIT_FOR(ran("initiate_call"));
    c.cancel_call(session, recorder<chinwag::call_view>("cancel_call"));
    WAIT_FOR(runs.size() == 18);
    c.logout(recorder<void>("logout"));
    WAIT_FOR(ran("logout"));
    test::pause_ms(200);  // time for a second run, which must not happen
    test::note([&] {
        for (const auto& [name, n] : runs)
            if (n != 1) test::fail_at(__FILE__, __LINE__, name + " ran " + std::to_string(n) + " times");
        CHECK(codes["leave_group"] == chinwag::result::not_found || codes["leave_group"] == chinwag::result::forbidden);
        CHECK(codes["logout"] == chinwag::result::ok && codes["cancel_call"] == chinwag::result::ok);
    });
}

void futures() {
    std::printf("completions: futures\n");
    chinwag::client c("chinwag-app", test::settings());
    chinwag::user me = c.login("grace", test::auth_key, use_future).get();
    CHECK(me.uid() == "grace");
    chinwag::user copy = me;  // owned copies copy
    CHECK(copy.uid() == "grace" && copy.json() == me.json());

    chinwag::future<chinwag::user> missing = c.get_user("nobody-at-all", use_future);
    try {
        missing.get();
        CHECK(!"get_user of an unknown user succeeded");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::not_found && e.name() == "NOT_FOUND" && !e.message().empty());
        CHECK(e.error_code() == chinwag::result::not_found && e.error_code().category().name() == std::string("chinwag"));
    }

    std::printf("completions: waiting on a future inside a callback throws REENTRANT_CALL\n");
    chinwag::future<chinwag::user> pending = c.get_user("erin", use_future);
    bool threw = false;
    c.get_user("erin", [&](chinwag::outcome<chinwag::user_view>) {
        CHECK(pending.wait_for(std::chrono::seconds(0)) != std::future_status::deferred);  // only looks
        try {
            pending.wait_for(std::chrono::seconds(1));
        } catch (const chinwag::error& e) {
            test::note([&] { threw = e.code() == chinwag::result::reentrant_call; });
        }
        try {
            pending.get();
            test::note([&] { threw = false; });
        } catch (const chinwag::error& e) {
            CHECK(e.code() == chinwag::result::reentrant_call);
        }
    });
    WAIT_FOR(threw);
    CHECK(pending.get().uid() == "erin");  // still usable outside callbacks

    std::printf("completions: bad input\n");
    try {
        c.send_text(receiver_type::user, "erin", std::string("a\0b", 3), use_future);
        CHECK(!"a NUL inside a string was accepted");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::invalid_argument && e.message().find("NUL") != std::string::npos);
    }
    try {
        c.send_text(receiver_type::user, "", "text");
        CHECK(!"an empty receiver was accepted");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::invalid_argument && !e.message().empty());
        CHECK(std::string(e.what()).rfind("INVALID_ARGUMENT: ", 0) == 0);
    }
    std::error_code ec;
    c.send_text(receiver_type::user, "erin", std::string(70 * 1024, 'x'), {}, ec);
    CHECK(ec == chinwag::result::text_too_long && ec.message() == "TEXT_TOO_LONG");
    try {
        chinwag::messages_request bad(receiver_type::user, "");
        CHECK(!"a history request without receiver was accepted");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::invalid_argument);
    }
    c.logout(use_future).get();
}

void cancelled_on_destruction() {
    std::printf("completions: destroying the client cancels what is unfinished, exactly once\n");
    black_hole hole;
    chinwag::settings s = test::settings(chinwag::connect_mode::manual);
    s.server_url = hole.url;
    chinwag::client c("chinwag-app", s);
    int login_runs = 0;
    chinwag::result login_code = chinwag::result::ok;
    c.login("olivia", test::auth_key, [&](chinwag::outcome<chinwag::user_view> r) {
        test::note([&] {
            login_runs++;
            login_code = r.code();
        });
    });
    chinwag::client other("chinwag-app", s);
    chinwag::future<chinwag::user> f = other.login("olivia", test::auth_key, use_future);
    c = chinwag::client();  // move-assignment frees the old client
    CHECK(test::read([&] { return login_runs; }) == 1 && login_code == chinwag::result::cancelled);
    { chinwag::client gone = std::move(other); }
    CHECK(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    try {
        f.get();
        CHECK(!"the login to a black hole succeeded");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::cancelled);
    }
    test::pause_ms(100);
    CHECK(test::read([&] { return login_runs; }) == 1);
}

void survives_moves() {
    std::printf("completions: completions survive moving the client\n");
    chinwag::client c("chinwag-app", test::settings());
    chinwag::future<chinwag::user> login = c.login("dave", test::auth_key, use_future);
    chinwag::client moved(std::move(c));
    CHECK(login.get().uid() == "dave");
    chinwag::future<void> out = moved.logout(use_future);
    chinwag::client again;
    again = std::move(moved);
    out.get();
    std::error_code ec;
    moved.logout({}, ec);
    CHECK(ec == chinwag::result::client_freed);
}

// create_user: a new user (named, and one without a name), USER_EXISTS, a wrong key; then the
// logged-in user, typed, matches the JSON one.
void create_user_and_logged_in_user() {
    std::printf("completions: create_user and the typed logged-in user\n");
    chinwag::client c("chinwag-app", test::settings(chinwag::connect_mode::manual));
    std::error_code ec;
    chinwag::user none = c.get_logged_in_user(ec);
    CHECK(ec == chinwag::result::not_logged_in && none.empty());

    // Unique per run: the server may outlive one test binary.
    std::string uid = "new-" + std::to_string(getpid()) + "-" +
                      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    chinwag::user made = c.create_user(uid, "New Person", test::auth_key, use_future).get();
    CHECK(made.uid() == uid && made.name() == "New Person" && !made.json().empty());
    chinwag::user unnamed = c.create_user(uid + "-x", nullptr, test::auth_key, use_future).get();
    CHECK(unnamed.uid() == uid + "-x" && unnamed.name() == unnamed.uid());

    c.create_user(uid, "Again", test::auth_key, recorder<chinwag::user_view>("create_user exists"));
    c.create_user(uid + "-y", nullptr, "not-the-key", recorder<chinwag::user_view>("create_user wrong key"));
    WAIT_FOR(ran("create_user exists") && ran("create_user wrong key"));
    test::note([&] {
        CHECK(runs["create_user exists"] == 1 && codes["create_user exists"] == chinwag::result::user_exists);
        CHECK(runs["create_user wrong key"] == 1 && codes["create_user wrong key"] == chinwag::result::auth_failed);
    });
    try {
        c.create_user(uid + "-z", "Z", "not-the-key", use_future).get();
        CHECK(!"create_user with a wrong key succeeded");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::auth_failed && e.name() == "AUTH_FAILED");
    }
    try {
        c.create_user("bad uid!", "Bad", test::auth_key);
        CHECK(!"a malformed uid was accepted");
    } catch (const chinwag::error& e) {
        CHECK(e.code() == chinwag::result::invalid_argument);
    }

    // The new user logs in; the typed logged-in user is theirs, an owned copy.
    chinwag::user me = c.login(uid, test::auth_key, use_future).get();
    chinwag::user typed = c.get_logged_in_user();
    CHECK(typed.uid() == uid && typed.name() == "New Person" && typed.uid() == me.uid());
    CHECK(!typed.deactivated() && typed.json().find(uid) != std::string_view::npos);
    CHECK(c.logged_in_user().find(uid) != std::string::npos);
    chinwag::user copy = typed;  // copies again, freed independently
    typed = chinwag::user();
    CHECK(copy.uid() == uid);
}

}  // namespace

int main(int argc, char** argv) {
    test::read_server(argc, argv);
    every_completion_once();
    futures();
    cancelled_on_destruction();
    survives_moves();
    create_user_and_logged_in_user();
    return test::finish("completions");
}
