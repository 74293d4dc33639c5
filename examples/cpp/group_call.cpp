// Chinwag group chat and calls in C++; the story of examples/c/group_call.c.
//
// Three apps, one user each (alice, bob, carol), in one process for the demo:
//   1. they log in;
//   2. Alice creates a private group and adds Bob and Carol;
//   3. all three chat in the group (each app prints what it receives);
//   4. Alice calls the group: it rings on Bob's and Carol's apps, Bob answers, Alice sees the
//      call accepted, then hangs up and the others see it ended;
//   5. Alice calls Carol, who does not answer: after the server's timeout both see the call
//      cancelled as "unanswered".
//
// Chinwag only does the signalling of a call (ringing, answer, hang-up); the app carries the
// audio and video itself (WebRTC or the like), using the call's session id to pair the sides.
//
// Build: c++ -std=c++17 group_call.cpp $(pkg-config --cflags --libs chinwag) -pthread
// Run:   ./group_call URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
// The users alice, bob and carol must exist. `make demo` sets this up, with a server that gives
// up on unanswered calls after 3 s (CHINWAG_TEST_CALL_TIMEOUT_MS); a real server waits 45 s.
#include <chinwag.hpp>

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::mutex lock;
std::condition_variable changed;

// One app: its client, and what its listeners heard (under `lock`).
struct app {
    explicit app(std::string n) : name(std::move(n)) {}
    std::string name;
    chinwag::client client;
    bool connected = false;
    int messages = 0, group_events = 0, rang = 0, accepted = 0, ended = 0, cancelled = 0;
    std::string ringing;  // session id of the call ringing here ("" if none)

    template <class F>
    void update(F f) {
        std::lock_guard<std::mutex> g(lock);
        f();
        changed.notify_all();
    }
    template <class F>
    void wait(F done, const char* what, std::chrono::seconds limit = 60s) {
        std::unique_lock<std::mutex> g(lock);
        if (!changed.wait_for(g, limit, done)) {
            std::fprintf(stderr, "group_call: timed out waiting for %s\n", what);
            std::exit(1);
        }
    }
    void say(const char* fmt, const std::string_view& a, const std::string_view& b = {}, const std::string_view& c = {}) {
        std::printf(fmt, name.c_str(), std::string(a).c_str(), std::string(b).c_str(), std::string(c).c_str());
    }
};

// Listeners of an app: each prints what it hears.
void start_app(app& a, const char* url, const char* key) {
    chinwag::settings s(url);
    chinwag::connection_listener connection;
    connection.on_connected = [&a](const chinwag::state_change_view&) { a.update([&] { a.connected = true; }); };
    chinwag::message_listener messages;
    messages.on_text_message_received = [&a](const chinwag::message_view& m) {
        a.say("[%s]   %s in %s: \"%s\"\n", m.sender(), m.receiver(), m.text().value_or(""));
        a.update([&] { a.messages++; });
    };
    chinwag::group_listener groups;
    groups.on_member_added = [&a](const chinwag::group_member_event_view& e) {
        a.say("[%s]   %s added %s to \"%s\"\n", e.by(), e.member(), e.group_name());
        a.update([&] { a.group_events++; });
    };
    chinwag::call_listener calls;
    // The payload is only valid during the callback: keep what is needed (the session id).
    calls.on_incoming_call_received = [&a](const chinwag::call_view& c) {
        a.say("[%s]   ring ring: %s call from %s\n", c.call_type(), c.initiator());
        a.update([&] {
            a.ringing = std::string(c.session_id());
            a.rang++;
        });
    };
    calls.on_outgoing_call_accepted = [&a](const chinwag::call_view& c) {
        bool was_ringing = false;
        a.update([&] {
            was_ringing = a.ringing == c.session_id();
            if (was_ringing) a.ringing.clear();  // someone else took it: stop ringing here
            a.accepted++;
        });
        a.say(was_ringing ? "[%s]   %s answered the group call; it stops ringing here\n" : "[%s]   %s answered: the call is %s\n",
              c.by(), c.status());
    };
    calls.on_incoming_call_cancelled = [&a](const chinwag::call_view& c) {
        a.say("[%s]   the call was %s\n", c.status());
        a.update([&] {
            a.ringing.clear();
            a.cancelled++;
        });
    };
    calls.on_call_ended = [&a](const chinwag::call_view& c) {
        a.say("[%s]   %s hung up: the call has ended\n", c.by());
        a.update([&] { a.ended++; });
    };
    s.listeners = {{"app", connection}, {"app", messages}, {"app", groups}, {"app", calls}};
    a.client = chinwag::client("chinwag-app", std::move(s));
    chinwag::user me = a.client.login(a.name, key, chinwag::use_future).get();  // connects in auto mode
    a.say("[%s] logged in as %s\n", me.name());
}

void say_in(app& a, const std::string& group, const char* text, app& r1, app& r2) {
    int n1 = 0, n2 = 0;
    a.update([&] { n1 = r1.messages, n2 = r2.messages; });
    std::printf("[%s] says in the group: \"%s\"\n", a.name.c_str(), text);
    a.client.send_text(chinwag::receiver_type::group, group, text, chinwag::use_future).get();
    r1.wait([&] { return r1.messages > n1; }, "the message to arrive");
    r2.wait([&] { return r2.messages > n2; }, "the message to arrive");
}

}  // namespace

int main(int argc, char** argv) try {
    const char* url = argc > 1 ? argv[1] : std::getenv("CHINWAG_URL");
    const char* key = argc > 2 ? argv[2] : std::getenv("CHINWAG_AUTH_KEY");
    const char* timeout_env = std::getenv("CHINWAG_TEST_CALL_TIMEOUT_MS");
    auto unanswered_wait = std::chrono::seconds(60 + (timeout_env ? std::atoi(timeout_env) / 1000 : 45));
    if (url == nullptr || key == nullptr) {
        std::fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    app alice("alice"), bob("bob"), carol("carol");

    std::printf("== 1. Alice, Bob and Carol log in (chinwag %s, server %s)\n", chinwag::version().data(), url);
    for (app* a : {&alice, &bob, &carol}) start_app(*a, url, key);
    for (app* a : {&alice, &bob, &carol}) a->wait([&] { return a->connected; }, "the connection");

    std::printf("\n== 2. Alice creates a private group and adds Bob and Carol\n");
    std::string group = "team-cpp-" + std::to_string(getpid());  // group ids are unique per server
    chinwag::group g = alice.client.create_group(group, "Team", chinwag::group_type::private_group, chinwag::use_future).get();
    alice.say("[%s] created the group \"%s\"; my scope: %s\n", g.name(), g.scope().value_or("none"));
    chinwag::member_list members =
        alice.client.add_group_members(group, {{"bob"}, {"carol"}}, chinwag::use_future).get();
    std::printf("[alice] the group now has %zu members\n", members.items.size());
    bob.wait([&] { return bob.group_events >= 2; }, "bob to hear both additions");
    carol.wait([&] { return carol.group_events >= 1; }, "carol to hear she was added");

    std::printf("\n== 3. They chat in the group\n");
    say_in(alice, group, "Hi team! Quick call in a minute?", bob, carol);
    say_in(bob, group, "Sure, ring me.", alice, carol);
    say_in(carol, group, "I'm in too.", alice, bob);

    std::printf("\n== 4. Alice calls the group: it rings on Bob and Carol; Bob answers\n");
    std::string call_id = alice.client.initiate_call(chinwag::receiver_type::group, group, chinwag::call_type::video);
    bob.wait([&] { return bob.rang == 1; }, "the call to ring on bob");
    carol.wait([&] { return carol.rang == 1; }, "the call to ring on carol");
    std::printf("[bob] answers\n");
    chinwag::call answered = bob.client.accept_call(call_id, chinwag::use_future).get();
    std::printf("[bob] call %s is now %s\n", std::string(answered.session_id()).c_str(), std::string(answered.status()).c_str());
    alice.wait([&] { return alice.accepted == 1; }, "alice to see the call accepted");
    carol.wait([&] { return carol.accepted == 1; }, "carol's phone to stop ringing");
    if (std::optional<chinwag::call> active = alice.client.active_call())
        std::printf("[alice] in call %s with %s: %s\n", std::string(active->session_id()).c_str(),
                    std::string(active->receiver()).c_str(), std::string(active->status()).c_str());
    std::printf("[alice] hangs up\n");
    alice.client.end_call(call_id, chinwag::use_future).get();
    bob.wait([&] { return bob.ended == 1; }, "bob to see the call ended");
    carol.wait([&] { return carol.ended == 1; }, "carol to see the call ended");

    std::printf("\n== 5. Alice calls Carol, who does not answer\n");
    auto rang_at = std::chrono::steady_clock::now();
    alice.client.initiate_call(chinwag::receiver_type::user, "carol", chinwag::call_type::audio, chinwag::use_future).get();
    carol.wait([&] { return carol.rang == 2; }, "the call to ring on carol");
    std::printf("[carol] lets it ring...\n");
    carol.wait([&] { return carol.cancelled == 1; }, "carol to see the call unanswered", unanswered_wait);
    alice.wait([&] { return alice.cancelled == 1; }, "alice to see the call unanswered", unanswered_wait);
    std::printf("(the server gave up after %.1f s)\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - rang_at).count());

    std::printf("\n== 6. Everyone logs out\n");
    for (app* a : {&alice, &bob, &carol}) a->client.logout(chinwag::use_future).get();
    std::printf("group_call: done\n");
    return 0;
} catch (const chinwag::error& e) {
    std::fprintf(stderr, "group_call: %s\n", e.what());
    return 1;
}
