// Threads and dispatch in the C++ API against a real server: a client destroyed from another
// thread while messages arrive (while the main thread destroys one of its listener handles),
// a client destroyed inside its own callback, and the app-driven dispatch loop (poll on
// dispatch_fd(), dispatch(max)) with futures pumped by it.
#include "common.hpp"

#include <poll.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
using chinwag::receiver_type;

namespace {

// Keeps messages flowing from `from` to `to` until stopped.
class sender {
  public:
    sender(chinwag::client& from, std::string to) : from_(from), to_(std::move(to)), thread_([this] { run(); }) {}
    ~sender() { finish(); }
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        WAIT_FOR(completed_ == sent_);  // each send completes exactly once
    }

  private:
    void run() {
        for (int i = 0; !stop_; i++) {
            std::error_code ec;
            from_.send_text(receiver_type::user, to_, "n" + std::to_string(i),
                            [this](chinwag::outcome<chinwag::message_view>) { test::note([&] { completed_++; }); },
                            ec);
            if (!ec) test::note([&] { sent_++; });
            test::pause_ms(5);
        }
    }
    chinwag::client& from_;
    std::string to_;
    std::atomic<bool> stop_{false};
    int sent_ = 0, completed_ = 0;
    std::thread thread_;
};

// Sets a flag when the callables that hold it are freed.
struct tracker {
    bool* destroyed;
    ~tracker() {
        test::note([&] { *destroyed = true; });
    }
};

struct receiver_view {
    int received = 0;
    int late = 0;  // callbacks after the client's destructor returned
    bool destructor_returned = false;
    bool callables_freed = false;
    bool second_freed = false;
    std::optional<chinwag::client> client;  // for the destroy-inside case
    bool destroy_inside = false;
};

chinwag::client receiver_client(receiver_view& v, const char* uid, chinwag::listener_handle& second) {
    chinwag::settings s = test::settings();
    chinwag::message_listener l;
    auto t = std::make_shared<tracker>(tracker{&v.callables_freed});
    l.on_text_message_received = [&v, t](const chinwag::message_view&) {
        bool destroy = false;
        test::note([&] {
            v.received++;
            if (v.destructor_returned) v.late++;
            destroy = v.destroy_inside && v.received == 1;
        });
        if (destroy) {
            std::optional<chinwag::client> doomed = std::move(v.client);
            doomed.reset();  // the client's destructor, inside its own callback: deferred
            test::note([&] { v.destructor_returned = true; });
        }
    };
    s.listeners.push_back({"count", std::move(l)});
    bool connected = false;
    chinwag::connection_listener c;
    c.on_connected = [&connected](const chinwag::state_change_view&) { test::note([&] { connected = true; }); };
    s.listeners.push_back({"watch", std::move(c)});
    chinwag::client client("chinwag-app", std::move(s));
    chinwag::message_listener l2;
    auto t2 = std::make_shared<tracker>(tracker{&v.second_freed});
    l2.on_text_message_received = [t2](const chinwag::message_view&) {};
    second = client.add_listener("second", std::move(l2));
    client.login(uid, test::auth_key, chinwag::use_future).get();
    WAIT_FOR(connected);
    client.remove_listener(chinwag::listener_kind::connection, "watch");  // `connected` goes out of scope
    return client;
}

void destroyed_from_another_thread(chinwag::client& from) {
    std::printf("threads: a client destroyed from another thread while messages arrive\n");
    receiver_view v;
    chinwag::listener_handle second;
    chinwag::client c = receiver_client(v, "frank", second);
    sender s(from, "frank");
    WAIT_FOR(v.received >= 3);
    std::thread t([&v, c = std::move(c)]() mutable {
        { chinwag::client gone = std::move(c); }
        test::note([&] { v.destructor_returned = true; });
    });
    second.reset();  // racing with the destruction: removes it, or finds the client gone
    t.join();
    test::note([&] { CHECK(v.callables_freed && v.second_freed); });
    test::pause_ms(300);  // messages keep coming: none may reach the freed client's listeners
    s.finish();
    CHECK(test::read([&] { return v.late; }) == 0);
}

void destroyed_inside_its_callback(chinwag::client& from) {
    std::printf("threads: a client destroyed inside its own callback\n");
    receiver_view v;
    chinwag::listener_handle second;
    v.client.emplace(receiver_client(v, "frank", second));
    test::note([&] { v.destroy_inside = true; });
    sender s(from, "frank");
    WAIT_FOR(v.destructor_returned && v.callables_freed && v.second_freed);
    test::pause_ms(300);
    s.finish();
    CHECK(test::read([&] { return v.received; }) == 1);
    second.reset();  // the client is gone: nothing to remove
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int n;
    do n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n == 1 && (p.revents & POLLIN) != 0;
}

// The app's event loop: poll, then dispatch at most `max` items, until `done()`.
template <class F>
bool pump(chinwag::client& c, std::size_t max, F done) {
    auto deadline = std::chrono::steady_clock::now() + test::wait_limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        if (!readable(c.dispatch_fd(), 100)) continue;
        std::size_t ran = c.dispatch(max);
        if (max != 0) CHECK(ran <= max);
    }
    return true;
}

void dispatch_loop(chinwag::client& from) {
    std::printf("threads: app-driven dispatch with poll(2)\n");
    const std::thread::id main_thread = std::this_thread::get_id();
    chinwag::settings s = test::settings();
    s.dispatch_mode = chinwag::dispatch_mode::app;
    chinwag::client c("chinwag-app", std::move(s));
    CHECK(c.dispatch_mode() == chinwag::dispatch_mode::app);
    int received = 0, off_thread = 0, reentry = 0, in_order = 0;
    chinwag::connection_state state = chinwag::connection_state::disconnected;
    chinwag::connection_listener cl;
    cl.on_state_changed = [&](const chinwag::state_change_view& ch) { state = ch.current(); };
    chinwag::listener_handle conn = c.add_listener("watch", std::move(cl));
    std::optional<chinwag::future<chinwag::user>> pending;
    chinwag::message_listener ml;
    ml.on_text_message_received = [&](const chinwag::message_view& m) {
        if (std::this_thread::get_id() != main_thread) off_thread++;
        if (m.text() == std::optional<std::string_view>("d" + std::to_string(received))) in_order++;
        received++;
        if (received == 1) {
            try {
                c.dispatch();  // from inside a callback of this client
            } catch (const chinwag::error& e) {
                if (e.code() == chinwag::result::reentrant_call) reentry++;
            }
            try {
                pending->get();  // would never complete: this thread dispatches
            } catch (const chinwag::error& e) {
                if (e.code() == chinwag::result::reentrant_call) reentry++;
            }
        }
    };
    chinwag::listener_handle msgs = c.add_listener("messages", std::move(ml));

    // A future in app mode completes when the loop dispatches its completion.
    chinwag::future<chinwag::user> login = c.login("judy", test::auth_key, chinwag::use_future);
    CHECK(pump(c, 1, [&] { return login.wait_for(0s) == std::future_status::ready; }));
    CHECK(login.get().uid() == "judy");
    CHECK(pump(c, 1, [&] { return state == chinwag::connection_state::connected; }));
    pending.emplace(c.get_user("judy", chinwag::use_future));
    for (int i = 0; i < 20; i++) from.send_text(receiver_type::user, "judy", "d" + std::to_string(i));
    CHECK(pump(c, 3, [&] { return received == 20; }));
    CHECK(off_thread == 0 && in_order == 20 && reentry == 2);
    CHECK(pump(c, 0, [&] { return pending->wait_for(0s) == std::future_status::ready; }));
    CHECK(pending->get().uid() == "judy");
    while (readable(c.dispatch_fd(), 0)) c.dispatch();
    CHECK(!readable(c.dispatch_fd(), 0));

    std::error_code ec;
    chinwag::client threaded("chinwag-app", test::settings());
    threaded.dispatch_fd(ec);
    CHECK(ec == chinwag::result::invalid_argument);
    threaded.dispatch(0, ec);
    CHECK(ec == chinwag::result::invalid_argument);
}

}  // namespace

int main(int argc, char** argv) {
    test::read_server(argc, argv);
    chinwag::client from("chinwag-app", test::settings());
    from.login("heidi", test::auth_key, chinwag::use_future).get();
    destroyed_from_another_thread(from);
    destroyed_inside_its_callback(from);
    dispatch_loop(from);
    return test::finish("threads");
}
