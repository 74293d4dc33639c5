// Helpers shared by the C++ tests: checks, waiting on state that callbacks change (never
// sleeping for an event), the server's address, and test settings.
#ifndef CHINWAG_TEST_COMMON_HPP
#define CHINWAG_TEST_COMMON_HPP

#include "chinwag.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace test {

// Generous: the tests also run under valgrind, which is 20-50 times slower.
constexpr std::chrono::seconds wait_limit{60};

inline std::mutex lock;  // guards everything the callbacks and the test share
inline std::condition_variable changed;
inline int failures = 0;
inline std::string url;
inline std::string auth_key;

inline void fail_at(const char* file, int line, const std::string& what) {
    std::fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", file, line, what.c_str(),
                 chinwag::last_error_message().c_str());
    failures++;
}

// Runs `f` under the lock and wakes the waiters (for callbacks).
template <class F>
void note(F&& f) {
    std::lock_guard<std::mutex> g(lock);
    f();
    changed.notify_all();
}

// Reads a value under the lock.
template <class F>
auto read(F&& f) {
    std::lock_guard<std::mutex> g(lock);
    return f();
}

// Waits (testing under the lock) until `cond()` holds; false after the limit.
template <class F>
bool wait_for(F&& cond, std::chrono::milliseconds limit = wait_limit) {
    std::unique_lock<std::mutex> g(lock);
    return changed.wait_for(g, limit, cond);
}

// Only to give something a chance NOT to happen.
inline void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

inline void read_server(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const char* u = argc > 1 ? argv[1] : std::getenv("CHINWAG_URL");
    const char* k = argc > 2 ? argv[2] : std::getenv("CHINWAG_AUTH_KEY");
    if (u == nullptr || k == nullptr) {
        std::fprintf(stderr, "usage: %s URL AUTH_KEY (or set CHINWAG_URL and CHINWAG_AUTH_KEY)\n", argv[0]);
        std::exit(2);
    }
    url = u;
    auth_key = k;
}

// Fast retries, the given mode.
inline chinwag::settings settings(chinwag::connect_mode mode = chinwag::connect_mode::automatic) {
    chinwag::settings s;
    s.server_url = url;
    s.connect_mode = mode;
    s.first_retry_max = std::chrono::milliseconds(50);
    s.backoff_base = std::chrono::milliseconds(20);
    s.backoff_cap = std::chrono::milliseconds(200);
    return s;
}

inline int finish(const char* name) {
    if (failures == 0) {
        std::printf("%s: 1 passed, 0 failed\n", name);
        return 0;
    }
    std::printf("%s: 0 passed, 1 failed (%d checks failed)\n", name, failures);
    return 1;
}

}  // namespace test

#define CHECK(cond)                                                \
    do {                                                           \
        if (!(cond)) test::fail_at(__FILE__, __LINE__, #cond);     \
    } while (0)

// Waits until `cond` (an expression read under test::lock) holds.
#define WAIT_FOR(cond)                                                                              \
    do {                                                                                            \
        if (!test::wait_for([&] { return static_cast<bool>(cond); }))                               \
            test::fail_at(__FILE__, __LINE__, std::string("timed out waiting for ") + #cond);       \
    } while (0)

#endif
