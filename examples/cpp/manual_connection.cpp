// Chinwag manual connection control in C++ (auto-connect off), with Carol's app driving
// delivery from its own poll(2) loop (app-dispatch mode); the story of
// examples/c/manual_connection.c.
//
// connect() before anyone logged in fails with a clear error; login does not connect;
// connect() does, and events flow; disconnect() stops them (nothing is delivered while
// disconnected); connect() again resumes, and the server replays what was missed.
//
// Build: c++ -std=c++17 manual_connection.cpp $(pkg-config --cflags --libs chinwag) -pthread
// Run:   ./manual_connection URL AUTH_KEY      (or set CHINWAG_URL and CHINWAG_AUTH_KEY)
// The users "carol" and "dave" must exist on the server (`make demo` sets all this up).
#include <chinwag.hpp>

#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

using namespace std::chrono_literals;

namespace {

// Carol's app: one thread, one loop. Every callback runs inside dispatch(), on this thread,
// so the app's state needs no lock.
struct carol_app {
    chinwag::client client;
    chinwag::connection_state state = chinwag::connection_state::disconnected;
    int received = 0;

    // Waits for the client's descriptor and dispatches until `done()`, or gives up.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 30s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) return false;
            pollfd p{client.dispatch_fd(), POLLIN, 0};  // an app would poll its sockets here too
            if (poll(&p, 1, static_cast<int>(left.count())) == 1) client.dispatch(16);  // at most 16 per turn
        }
        return true;
    }
    void expect(const std::function<bool()>& done, const char* what) {
        if (!run_until(done)) {
            std::fprintf(stderr, "manual_connection: timed out waiting for %s\n", what);
            std::exit(1);
        }
    }
};

chinwag::connection_listener print_states(const char* name, chinwag::connection_state& state) {
    chinwag::connection_listener l;
    l.on_state_changed = [name, &state](const chinwag::state_change_view& c) {
        std::printf("[%s] connection: %s -> %s (%s: %s)\n", name, to_string(c.previous()).data(),
                    to_string(c.current()).data(), to_string(c.reason()).data(), std::string(c.message()).c_str());
        state = c.current();
    };
    return l;
}

}  // namespace

int main(int argc, char** argv) try {
    const char* url = argc > 1 ? argv[1] : std::getenv("CHINWAG_URL");
    const char* key = argc > 2 ? argv[2] : std::getenv("CHINWAG_AUTH_KEY");
    if (url == nullptr || key == nullptr) {
        std::fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::printf("chinwag %s; server %s\n", chinwag::version().data(), url);

    carol_app carol;
    chinwag::settings s(url);
    s.connect_mode = chinwag::connect_mode::manual;
    s.dispatch_mode = chinwag::dispatch_mode::app;  // no dispatcher thread: run_until() delivers
    carol.client = chinwag::client("chinwag-app", std::move(s));
    chinwag::listener_handle states = carol.client.add_listener("transcript", print_states("carol", carol.state));
    chinwag::message_listener messages;
    messages.on_text_message_received = [&carol](const chinwag::message_view& m) {
        std::printf("[carol] message #%lld from %s: %s\n", static_cast<long long>(m.id()),
                    std::string(m.sender()).c_str(), std::string(m.text().value_or("")).c_str());
        carol.received++;
    };
    chinwag::listener_handle texts = carol.client.add_listener("transcript", std::move(messages));

    // 1. connect() needs a logged-in user (the error_code overload: no exception).
    std::error_code ec;
    carol.client.connect(ec);
    std::printf("[carol] connect() before login: %s: %s\n", ec.message().c_str(), chinwag::last_error_message().c_str());
    if (ec != chinwag::result::not_logged_in) return 1;

    // 2. In manual mode, login saves the session but does not connect. The future completes
    //    when the loop dispatches its completion.
    auto login = carol.client.login("carol", key, chinwag::use_future);
    carol.expect([&] { return login.wait_for(0s) == std::future_status::ready; }, "carol's login");
    std::printf("[carol] logged in as %s\n", std::string(login.get().uid()).c_str());
    std::printf("[carol] after login the connection is %s\n", to_string(carol.client.connection_status()).data());
    if (carol.client.connection_status() != chinwag::connection_state::disconnected) return 1;

    // Dave is an ordinary auto-mode app with its own dispatcher thread.
    chinwag::client dave("chinwag-app", chinwag::settings(url));
    dave.login("dave", key, chinwag::use_future).get();

    // 3. connect(): CONNECTING, CONNECTED, and events flow.
    std::printf("[carol] connect()\n");
    carol.client.connect();
    carol.expect([&] { return carol.state == chinwag::connection_state::connected; }, "carol to connect");
    dave.send_text(chinwag::receiver_type::user, "carol", "ping 1", chinwag::use_future).get();
    carol.expect([&] { return carol.received == 1; }, "ping 1");

    // 4. disconnect(): DISCONNECTED, and no events until the next connect().
    std::printf("[carol] disconnect()\n");
    carol.client.disconnect();
    carol.expect([&] { return carol.state == chinwag::connection_state::disconnected; }, "carol to disconnect");
    dave.send_text(chinwag::receiver_type::user, "carol", "ping 2 (while carol is away)", chinwag::use_future).get();
    if (carol.run_until([&] { return carol.received == 2; }, 1s)) {
        std::fprintf(stderr, "manual_connection: carol got a message while disconnected\n");
        return 1;
    }
    std::printf("[carol] nothing delivered while disconnected\n");

    // 5. connect() again: the server replays what carol missed.
    std::printf("[carol] connect()\n");
    carol.client.connect();
    carol.expect([&] { return carol.received == 2; }, "the replay of ping 2");
    carol.client.disconnect();
    carol.expect([&] { return carol.state == chinwag::connection_state::disconnected; }, "carol to disconnect");
    std::printf("manual_connection: done\n");
    return 0;
} catch (const chinwag::error& e) {
    std::fprintf(stderr, "manual_connection: %s\n", e.what());
    return 1;
}
