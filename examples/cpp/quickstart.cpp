// Chinwag quickstart in C++ (auto-connect mode); the same program as examples/c/quickstart.c.
//
// Two users chat: each app creates a client with its listeners, logs in (which saves the
// session and connects by itself), and they exchange messages. Then Alice's app "restarts": a
// new client on the same data directory restores her session without a network call and
// reconnects by itself.
//
// Build: c++ -std=c++17 quickstart.cpp $(pkg-config --cflags --libs chinwag) -pthread
//    or: find_package(chinwag) + target_link_libraries(app chinwag::chinwag) in CMake
// Run:   ./quickstart URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
// The users "alice" and "bob" must exist on the server (`make demo` sets all this up).
#include <chinwag.hpp>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

using namespace std::chrono_literals;

// What one app knows; updated by callbacks on the client's dispatcher thread.
struct app {
    std::string name;
    chinwag::connection_state state = chinwag::connection_state::disconnected;
    int received = 0;
};

std::mutex lock;
std::condition_variable changed;

template <class F>
void update(F f) {
    std::lock_guard<std::mutex> g(lock);
    f();
    changed.notify_all();
}

template <class F>
void wait_until(F done, const char* what) {
    std::unique_lock<std::mutex> g(lock);
    if (!changed.wait_for(g, 30s, done)) {
        std::fprintf(stderr, "quickstart: timed out waiting for %s\n", what);
        std::exit(1);
    }
}

// A client in auto mode whose listeners are registered by the constructor: with a saved
// session it starts connecting at once, and they hear that from the first event.
chinwag::client start_client(const std::string& url, std::optional<std::string> data_dir, app& a) {
    chinwag::settings s(url);
    s.data_dir = std::move(data_dir);  // nullopt keeps the session in memory only
    chinwag::connection_listener connection;
    connection.on_state_changed = [&a](const chinwag::state_change_view& c) {
        std::printf("[%s] connection: %s -> %s (%s)\n", a.name.c_str(), to_string(c.previous()).data(),
                    to_string(c.current()).data(), std::string(c.message()).c_str());
        update([&] { a.state = c.current(); });
    };
    chinwag::login_listener login;
    login.on_login_success = [&a](const chinwag::user_view& u) {
        std::printf("[%s] logged in as %s\n", a.name.c_str(), std::string(u.uid()).c_str());
    };
    chinwag::message_listener messages;
    messages.on_text_message_received = [&a](const chinwag::message_view& m) {
        std::printf("[%s] message #%lld from %s: %s\n", a.name.c_str(), static_cast<long long>(m.id()),
                    std::string(m.sender()).c_str(), std::string(m.text().value_or("")).c_str());
        update([&] { a.received++; });
    };
    messages.on_custom_message_received = [&a](const chinwag::message_view& m) {
        std::printf("[%s] custom \"%s\" from %s: %s\n", a.name.c_str(), std::string(m.message_type()).c_str(),
                    std::string(m.sender()).c_str(), std::string(m.data_json().value_or("")).c_str());
        update([&] { a.received++; });
    };
    s.listeners = {{"transcript", connection}, {"transcript", login}, {"transcript", messages}};
    return chinwag::client("chinwag-app", std::move(s));
}

void wait_connected(app& a) {
    wait_until([&] { return a.state == chinwag::connection_state::connected; }, "the connection");
}

void report(const chinwag::message& m) {
    std::printf("sent message #%lld to %s\n", static_cast<long long>(m.id()), std::string(m.receiver()).c_str());
}

int main(int argc, char** argv) try {
    const char* url = argc > 1 ? argv[1] : std::getenv("CHINWAG_URL");
    const char* key = argc > 2 ? argv[2] : std::getenv("CHINWAG_AUTH_KEY");
    if (url == nullptr || key == nullptr) {
        std::fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    char dir_template[] = "/tmp/chinwag-quickstart-XXXXXX";
    std::string data_dir = mkdtemp(dir_template) ? dir_template : throw std::runtime_error("mkdtemp failed");
    std::printf("chinwag %s; server %s; alice's data directory %s\n", chinwag::version().data(), url, data_dir.c_str());
    app alice{"alice"}, bob{"bob"};

    // Both apps log in; in auto mode login saves the session and connects.
    chinwag::client a = start_client(url, data_dir, alice);
    chinwag::client b = start_client(url, std::nullopt, bob);
    a.login("alice", key);
    b.login("bob", key);
    wait_connected(alice);
    wait_connected(bob);

    // They talk. Sends return at once; a future (or a callback) gets the stored message.
    report(a.send_text(chinwag::receiver_type::user, "bob", "Hi Bob!", chinwag::use_future).get());
    wait_until([&] { return bob.received == 1; }, "bob to get alice's message");
    report(b.send_text(chinwag::receiver_type::user, "alice", "Hi Alice, how are you?", chinwag::use_future).get());
    wait_until([&] { return alice.received == 1; }, "alice to get bob's answer");
    report(a.send_custom(chinwag::receiver_type::user, "bob", "location", R"({"lat": 51.5, "lon": -0.12})",
                         chinwag::use_future).get());
    wait_until([&] { return bob.received == 2; }, "bob to get alice's location");

    // Alice's app restarts: a new client on the same data directory is logged in at once
    // (no network call) and reconnects by itself; its listeners hear it from the start.
    std::printf("[alice] app restarts\n");
    a = chinwag::client();  // frees the old client
    alice.state = chinwag::connection_state::disconnected;
    a = start_client(url, data_dir, alice);
    std::printf("[alice] restored session: %s\n", a.logged_in_user().c_str());
    wait_connected(alice);
    report(b.send_text(chinwag::receiver_type::user, "alice", "Welcome back!", chinwag::use_future).get());
    wait_until([&] { return alice.received == 2; }, "alice to get bob's welcome");

    // Log out (tells the server, purges the saved session); the destructors clean up.
    a.logout(chinwag::use_future).get();
    b.logout(chinwag::use_future).get();
    std::filesystem::remove_all(data_dir);
    std::printf("quickstart: done\n");
    return 0;
} catch (const chinwag::error& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
