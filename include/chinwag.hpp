// Chinwag C++ API: a header-only C++17 wrapper of the C API in chinwag.h (nothing beyond it
// and the standard library). See README.md ("C++") for a quickstart.
//
// - Owners are move-only and free what they own: `chinwag::client`, `messages_request`,
//   `users_request`, `listener_handle`; `native_handle()` reaches the C API.
// - Errors throw `chinwag::error` (code, name, message). Every throwing call has a `noexcept`
//   overload taking `std::error_code&` last (category `chinwag::category()`), for code built
//   without exceptions (then only those overloads exist).
// - Callbacks are any callables. A registration owns its callables and frees them when the C
//   library releases it (`user_data_free`). Callbacks run on the client's dispatcher thread
//   (or inside `client::dispatch` in app-dispatch mode); an exception they throw never reaches
//   the library: it is caught and given to the client's exception handler (settings or
//   `client::set_exception_handler`; default: a line on stderr), and delivery goes on.
// - Completions run exactly once: with the value, or with the error (`CANCELLED` when the
//   client is destroyed first). Pass a callable taking `chinwag::outcome<View>`, nothing, or
//   `chinwag::use_future` for a `chinwag::future` (a `std::future` whose get()/wait() throw
//   `REENTRANT_CALL` instead of deadlocking when called inside a Chinwag callback).
// - Payloads reach callbacks as views (`std::string_view`, item ranges) valid only during the
//   callback; `.copy()` / `to_owned()` give owning copies to keep.
#ifndef CHINWAG_HPP
#define CHINWAG_HPP

#include "chinwag.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#if !defined(CHINWAG_HPP_EXCEPTIONS)
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define CHINWAG_HPP_EXCEPTIONS 1
#else
#define CHINWAG_HPP_EXCEPTIONS 0
#endif
#endif

#if CHINWAG_HPP_EXCEPTIONS
#include <future>
#endif

namespace chinwag {

// ----- enums ------------------------------------------------------------------------------------

// `CHINWAG_RESULT_*`. Usable as a `std::error_code` (`ec == chinwag::result::not_found`).
enum class result : chinwag_result {
    ok = CHINWAG_RESULT_OK,
    null_argument = CHINWAG_RESULT_NULL_ARGUMENT,
    invalid_utf8 = CHINWAG_RESULT_INVALID_UTF8,
    invalid_argument = CHINWAG_RESULT_INVALID_ARGUMENT,
    text_too_long = CHINWAG_RESULT_TEXT_TOO_LONG,
    not_logged_in = CHINWAG_RESULT_NOT_LOGGED_IN,
    login_in_progress = CHINWAG_RESULT_LOGIN_IN_PROGRESS,
    not_connected = CHINWAG_RESULT_NOT_CONNECTED,
    logged_out = CHINWAG_RESULT_LOGGED_OUT,
    client_freed = CHINWAG_RESULT_CLIENT_FREED,
    reentrant_call = CHINWAG_RESULT_REENTRANT_CALL,
    cancelled = CHINWAG_RESULT_CANCELLED,
    listener_exists = CHINWAG_RESULT_LISTENER_EXISTS,
    call_in_progress = CHINWAG_RESULT_CALL_IN_PROGRESS,
    network = CHINWAG_RESULT_NETWORK,
    timeout = CHINWAG_RESULT_TIMEOUT,
    tls = CHINWAG_RESULT_TLS,
    protocol = CHINWAG_RESULT_PROTOCOL,
    auth_failed = CHINWAG_RESULT_AUTH_FAILED,
    session_expired = CHINWAG_RESULT_SESSION_EXPIRED,
    user_deactivated = CHINWAG_RESULT_USER_DEACTIVATED,
    app_mismatch = CHINWAG_RESULT_APP_MISMATCH,
    rate_limited = CHINWAG_RESULT_RATE_LIMITED,
    feature_throttled = CHINWAG_RESULT_FEATURE_THROTTLED,
    forbidden = CHINWAG_RESULT_FORBIDDEN,
    not_found = CHINWAG_RESULT_NOT_FOUND,
    server_rejected = CHINWAG_RESULT_SERVER_REJECTED,
    user_exists = CHINWAG_RESULT_USER_EXISTS,
    queue_full = CHINWAG_RESULT_QUEUE_FULL,
    queue_expired = CHINWAG_RESULT_QUEUE_EXPIRED,
    disconnected = CHINWAG_RESULT_DISCONNECTED,
    storage = CHINWAG_RESULT_STORAGE,
    internal = CHINWAG_RESULT_INTERNAL,
    panic = CHINWAG_RESULT_PANIC,
};

enum class connection_state : chinwag_connection_state {
    disconnected = CHINWAG_CONNECTION_STATE_DISCONNECTED,
    connecting = CHINWAG_CONNECTION_STATE_CONNECTING,
    connected = CHINWAG_CONNECTION_STATE_CONNECTED,
    reconnecting = CHINWAG_CONNECTION_STATE_RECONNECTING,
    suspended = CHINWAG_CONNECTION_STATE_SUSPENDED,
    failed = CHINWAG_CONNECTION_STATE_FAILED,
};

enum class state_reason : chinwag_state_reason {
    connect_requested = CHINWAG_STATE_REASON_CONNECT_REQUESTED,
    disconnect_requested = CHINWAG_STATE_REASON_DISCONNECT_REQUESTED,
    logged_out = CHINWAG_STATE_REASON_LOGGED_OUT,
    accepted = CHINWAG_STATE_REASON_ACCEPTED,
    attempt_failed = CHINWAG_STATE_REASON_ATTEMPT_FAILED,
    connection_lost = CHINWAG_STATE_REASON_CONNECTION_LOST,
    retry_timer = CHINWAG_STATE_REASON_RETRY_TIMER,
    suspend_timeout = CHINWAG_STATE_REASON_SUSPEND_TIMEOUT,
    auth_rejected = CHINWAG_STATE_REASON_AUTH_REJECTED,
    user_deactivated = CHINWAG_STATE_REASON_USER_DEACTIVATED,
    protocol_mismatch = CHINWAG_STATE_REASON_PROTOCOL_MISMATCH,
    network_changed = CHINWAG_STATE_REASON_NETWORK_CHANGED,
    app_state = CHINWAG_STATE_REASON_APP_STATE,
    server_restart = CHINWAG_STATE_REASON_SERVER_RESTART,
    // Not a change: the first event of a listener added after init (`previous == current`).
    listener_added = CHINWAG_STATE_REASON_LISTENER_ADDED,
};

// `auto` is a keyword: the default mode is `automatic`.
enum class connect_mode : chinwag_connect_mode {
    automatic = CHINWAG_CONNECT_MODE_AUTO,
    manual = CHINWAG_CONNECT_MODE_MANUAL,
};

enum class presence_mode : chinwag_presence_mode {
    none = CHINWAG_PRESENCE_NONE,
    all_users = CHINWAG_PRESENCE_ALL_USERS,
    roles = CHINWAG_PRESENCE_ROLES,
    friends = CHINWAG_PRESENCE_FRIENDS,
};

enum class dispatch_mode : chinwag_dispatch_mode {
    thread = CHINWAG_DISPATCH_MODE_THREAD,
    app = CHINWAG_DISPATCH_MODE_APP,
};

enum class receiver_type : chinwag_receiver_type {
    user = CHINWAG_RECEIVER_TYPE_USER,
    group = CHINWAG_RECEIVER_TYPE_GROUP,
};

enum class call_type : chinwag_call_type {
    audio = CHINWAG_CALL_TYPE_AUDIO,
    video = CHINWAG_CALL_TYPE_VIDEO,
};

enum class network : chinwag_network { down = CHINWAG_NETWORK_DOWN, up = CHINWAG_NETWORK_UP };

enum class app_state : chinwag_app_state {
    foreground = CHINWAG_APP_STATE_FOREGROUND,
    background = CHINWAG_APP_STATE_BACKGROUND,
};

enum class user_status : chinwag_user_status {
    offline = CHINWAG_USER_STATUS_OFFLINE,
    online = CHINWAG_USER_STATUS_ONLINE,
};

enum class receipt_kind : chinwag_receipt_kind {
    delivered = CHINWAG_RECEIPT_KIND_DELIVERED,
    read = CHINWAG_RECEIPT_KIND_READ,
};

enum class group_action : chinwag_group_action {
    joined = CHINWAG_GROUP_ACTION_JOINED,
    left = CHINWAG_GROUP_ACTION_LEFT,
    kicked = CHINWAG_GROUP_ACTION_KICKED,
    banned = CHINWAG_GROUP_ACTION_BANNED,
    unbanned = CHINWAG_GROUP_ACTION_UNBANNED,
    scope_changed = CHINWAG_GROUP_ACTION_SCOPE_CHANGED,
    added = CHINWAG_GROUP_ACTION_ADDED,
};

// `public` and `private` are keywords.
enum class group_type : chinwag_group_type {
    public_group = CHINWAG_GROUP_TYPE_PUBLIC,
    private_group = CHINWAG_GROUP_TYPE_PRIVATE,
};

enum class scope : chinwag_scope {
    participant = CHINWAG_SCOPE_PARTICIPANT,
    moderator = CHINWAG_SCOPE_MODERATOR,
    admin = CHINWAG_SCOPE_ADMIN,
};

enum class log_level : chinwag_log_level {
    error = CHINWAG_LOG_LEVEL_ERROR,
    warn = CHINWAG_LOG_LEVEL_WARN,
    info = CHINWAG_LOG_LEVEL_INFO,
    debug = CHINWAG_LOG_LEVEL_DEBUG,
};

enum class listener_kind : chinwag_listener_kind {
    connection = CHINWAG_LISTENER_KIND_CONNECTION,
    login = CHINWAG_LISTENER_KIND_LOGIN,
    message = CHINWAG_LISTENER_KIND_MESSAGE,
    user = CHINWAG_LISTENER_KIND_USER,
    group = CHINWAG_LISTENER_KIND_GROUP,
    call = CHINWAG_LISTENER_KIND_CALL,
    log = CHINWAG_LISTENER_KIND_LOG,
};

// Static names, e.g. "NOT_FOUND", "CONNECTED", "CONNECTION_LOST"; "UNKNOWN" otherwise.
inline std::string_view to_string(result r) noexcept {
    return chinwag_result_name(static_cast<chinwag_result>(r));
}
inline std::string_view to_string(connection_state s) noexcept {
    return chinwag_connection_state_name(static_cast<chinwag_connection_state>(s));
}
inline std::string_view to_string(state_reason r) noexcept {
    return chinwag_state_reason_name(static_cast<chinwag_state_reason>(r));
}

inline std::string_view version() noexcept { return chinwag_version(); }
inline std::uint32_t abi_version() noexcept { return chinwag_abi_version(); }

// ----- errors -----------------------------------------------------------------------------------

namespace detail {
class result_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "chinwag"; }
    std::string message(int code) const override {
        return chinwag_result_name(static_cast<chinwag_result>(code));
    }
};
}  // namespace detail

// The category of Chinwag's result codes; the value of an error_code is the C code.
inline const std::error_category& category() noexcept {
    static const detail::result_category instance;
    return instance;
}

inline std::error_code make_error_code(result r) noexcept {
    return {static_cast<int>(r), category()};
}

}  // namespace chinwag

namespace std {
template <>
struct is_error_code_enum<chinwag::result> : true_type {};
}  // namespace std

namespace chinwag {

// A failure: its code, the code's name and a readable message. Thrown by the throwing
// overloads, carried by futures, and the owned form of an `error_view`.
class error : public std::runtime_error {
  public:
    error(result code, const std::string& message, std::string json = {})
        : std::runtime_error(std::string(to_string(code)) + ": " + message),
          code_(code), message_(message), json_(std::move(json)) {}

    result code() const noexcept { return code_; }
    std::string_view name() const noexcept { return to_string(code_); }
    // The message alone (what() is "NAME: message").
    const std::string& message() const noexcept { return message_; }
    // `{"code":..,"name":..,"message":..}` for errors of completions and events; else empty.
    const std::string& json() const noexcept { return json_; }
    std::error_code error_code() const noexcept { return make_error_code(code_); }

  private:
    result code_;
    std::string message_;
    std::string json_;
};

namespace detail {

// The wrapper's own record of the calling thread's last failure (the C library's, or one the
// wrapper found itself, such as a NUL byte inside a string argument).
inline std::string& last_message() {
    static thread_local std::string message;
    return message;
}

// Set when the wrapper refused a call's arguments itself (its message is then the one to keep).
inline bool& refused_locally() noexcept {
    static thread_local bool refused = false;
    return refused;
}

// Records a failure of a C call on this thread: its code in `ec`, the C library's message
// (or the wrapper's, when the wrapper refused the arguments before calling the library).
inline void fail_c(std::error_code& ec, chinwag_result rc) noexcept {
    ec = make_error_code(static_cast<result>(rc));
    if (refused_locally()) {
        refused_locally() = false;
        return;
    }
    char buf[1024];
    size_t written = 0;
    if (chinwag_last_error_message(buf, sizeof buf, &written) != CHINWAG_RESULT_OK) buf[0] = '\0';
#if CHINWAG_HPP_EXCEPTIONS
    try {
        last_message().assign(buf);
    } catch (...) {
    }
#else
    last_message().assign(buf);
#endif
}

// Records a failure the wrapper detected itself.
inline void fail_local(std::error_code& ec, result code, const char* message) noexcept {
    ec = make_error_code(code);
#if CHINWAG_HPP_EXCEPTIONS
    try {
        last_message().assign(message);
    } catch (...) {
    }
#else
    last_message().assign(message);
#endif
}

#if CHINWAG_HPP_EXCEPTIONS
[[noreturn]] inline void throw_error(const std::error_code& ec) {
    if (ec.category() == category())
        throw error(static_cast<result>(ec.value()), last_message());
    throw std::system_error(ec);
}
inline void throw_if(const std::error_code& ec) {
    if (ec) throw_error(ec);
}
#endif

// Runs `body` (which reports through `ec`); out of memory becomes errc::not_enough_memory
// instead of escaping a noexcept function.
template <class F>
auto guarded(std::error_code& ec, F&& body) noexcept -> decltype(body()) {
    ec.clear();
#if CHINWAG_HPP_EXCEPTIONS
    try {
        return body();
    } catch (const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
    } catch (...) {
        ec = make_error_code(result::internal);
    }
    if constexpr (!std::is_void_v<decltype(body())>) return {};
#else
    return body();
#endif
}

inline std::string_view sv(const char* s) noexcept { return s ? std::string_view(s) : std::string_view(); }
inline std::optional<std::string_view> opt(const char* s) noexcept {
    return s ? std::optional<std::string_view>(s) : std::nullopt;
}

// Takes a string the C library handed over to own.
inline std::string take_string(char* s) {
    struct freer {
        void operator()(char* p) const noexcept { chinwag_string_free(p); }
    };
    std::unique_ptr<char, freer> owned(s);
    return s ? std::string(s) : std::string();
}

}  // namespace detail

// The message of the calling thread's last failed call of this API (empty if none).
inline std::string last_error_message() { return detail::last_message(); }

// A NUL-terminated string argument: from a literal, a std::string (no copy) or a
// std::string_view (copied). `nullptr` / `std::nullopt` pass NULL (for nullable arguments;
// a required one then fails with NULL_ARGUMENT). A string with a NUL byte inside fails with
// INVALID_ARGUMENT rather than being cut short.
class text {
  public:
    text(const char* s) noexcept : p_(s) {}  // NOLINT: implicit by design
    text(std::nullptr_t) noexcept {}
    text(std::nullopt_t) noexcept {}
    text(const std::string& s) noexcept : p_(s.c_str()), nul_(std::strlen(s.c_str()) != s.size()) {}
    text(std::string_view s) : copy_(s), p_(copy_.c_str()), nul_(copy_.find('\0') != std::string::npos) {}
    text(const std::optional<std::string>& s) noexcept
        : p_(s ? s->c_str() : nullptr), nul_(s && std::strlen(s->c_str()) != s->size()) {}
    text(const std::optional<std::string_view>& s)
        : copy_(s ? std::string(*s) : std::string()), p_(s ? copy_.c_str() : nullptr),
          nul_(s && copy_.find('\0') != std::string::npos) {}
    text(const text&) = delete;
    text& operator=(const text&) = delete;

    const char* c_str() const noexcept { return p_; }
    bool has_nul() const noexcept { return nul_; }

  private:
    std::string copy_;
    const char* p_ = nullptr;
    bool nul_ = false;
};

namespace detail {
// CHINWAG_RESULT_OK, or INVALID_ARGUMENT (recorded) when a string argument has a NUL inside.
template <class... T>
chinwag_result check_text(const T&... args) noexcept {
    if ((args.has_nul() || ...)) {
        std::error_code ignored;
        fail_local(ignored, result::invalid_argument,
                   "a string argument contains a NUL byte (C strings end at the first NUL)");
        refused_locally() = true;
        return CHINWAG_RESULT_INVALID_ARGUMENT;
    }
    return CHINWAG_RESULT_OK;
}
}  // namespace detail

// ----- payload views (valid during the callback) and owned copies ------------------------------

// An error of a completion or an event.
class error_view {
  public:
    explicit error_view(const chinwag_error& e) noexcept : p_(&e) {}
    result code() const noexcept { return static_cast<result>(p_->code); }
    std::string_view name() const noexcept { return detail::sv(p_->name); }
    std::string_view message() const noexcept { return detail::sv(p_->message); }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    std::error_code error_code() const noexcept { return make_error_code(code()); }
    error to_owned() const {
        return error(code(), std::string(message()), std::string(json()));
    }
    const chinwag_error& native() const noexcept { return *p_; }

  private:
    const chinwag_error* p_;
};

namespace detail {
// Copy and free functions of the payloads the C library can copy.
template <class C>
struct native_copy;
#define CHINWAG_HPP_NATIVE_COPY(C, COPY, FREE)                                                  \
    template <>                                                                                 \
    struct native_copy<C> {                                                                     \
        static chinwag_result copy(const C* s, C** out) noexcept { return COPY(s, out); }       \
        static void free(C* p) noexcept { FREE(p); }                                            \
    };
CHINWAG_HPP_NATIVE_COPY(chinwag_message, chinwag_message_copy, chinwag_message_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_user, chinwag_user_copy, chinwag_user_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_group, chinwag_group_copy, chinwag_group_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_group_member, chinwag_group_member_copy, chinwag_group_member_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_group_member_event, chinwag_group_member_event_copy,
                        chinwag_group_member_event_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_call, chinwag_call_copy, chinwag_call_free)
CHINWAG_HPP_NATIVE_COPY(chinwag_receipt, chinwag_receipt_copy, chinwag_receipt_free)
#undef CHINWAG_HPP_NATIVE_COPY
}  // namespace detail

// An owning copy of a payload (made by the C library's `chinwag_*_copy`), with the view's
// accessors; valid as long as it lives. Copyable (copies again) and movable.
template <class View>
class owned : public View {
    using C = typename View::native_type;
    using ops = detail::native_copy<C>;

  public:
    // An empty copy (only what a failed `copy(ec)` or a move leaves): do not read it.
    owned() noexcept : View(nullptr) {}
    // Adopts a copy the C library handed over.
    static owned adopt(C* copy) noexcept { return owned(copy); }
#if CHINWAG_HPP_EXCEPTIONS
    explicit owned(const View& v) : owned(make(v)) {}
    owned(const owned& o) : owned(o.empty() ? owned() : make(o)) {}
    owned& operator=(const owned& o) {
        if (this != &o) *this = owned(o);
        return *this;
    }
#endif
    static owned copy_of(const View& v, std::error_code& ec) noexcept {
        ec.clear();
        C* out = nullptr;
        chinwag_result rc = ops::copy(&v.native(), &out);
        if (rc != CHINWAG_RESULT_OK) {
            detail::fail_c(ec, rc);
            return owned();
        }
        return owned(out);
    }
    owned(owned&& o) noexcept : View(o.p_) { o.p_ = nullptr; }
    owned& operator=(owned&& o) noexcept {
        if (this != &o) {
            reset();
            this->p_ = o.p_;
            o.p_ = nullptr;
        }
        return *this;
    }
    ~owned() { reset(); }
    bool empty() const noexcept { return this->p_ == nullptr; }

  private:
    explicit owned(C* p) noexcept : View(p) {}
#if CHINWAG_HPP_EXCEPTIONS
    static owned make(const View& v) {
        std::error_code ec;
        owned o = copy_of(v, ec);
        detail::throw_if(ec);
        return o;
    }
#endif
    void reset() noexcept {
        ops::free(const_cast<C*>(this->p_));
        this->p_ = nullptr;
    }
};

#define CHINWAG_HPP_VIEW(NAME, C)                                                               \
  public:                                                                                       \
    using native_type = C;                                                                      \
    explicit NAME(const C& p) noexcept : p_(&p) {}                                              \
    const C& native() const noexcept { return *p_; }                                            \
                                                                                                \
  protected:                                                                                    \
    explicit NAME(const C* p) noexcept : p_(p) {}                                               \
    const C* p_;                                                                                \
    template <class>                                                                            \
    friend class owned;                                                                         \
                                                                                                \
  public:

class user_view {
    CHINWAG_HPP_VIEW(user_view, chinwag_user)
    std::string_view uid() const noexcept { return detail::sv(p_->uid); }
    std::string_view name() const noexcept { return detail::sv(p_->name); }
    std::optional<std::string_view> avatar() const noexcept { return detail::opt(p_->avatar); }
    std::string_view role() const noexcept { return detail::sv(p_->role); }
    user_status status() const noexcept { return static_cast<user_status>(p_->status); }
    std::int64_t last_active_at() const noexcept { return p_->last_active_at; }
    bool deactivated() const noexcept { return p_->deactivated; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<user_view> copy() const { return owned<user_view>(*this); }
#endif
};
using user = owned<user_view>;

class message_view {
    CHINWAG_HPP_VIEW(message_view, chinwag_message)
    std::int64_t id() const noexcept { return p_->id; }
    std::string_view muid() const noexcept { return detail::sv(p_->muid); }
    std::string_view sender() const noexcept { return detail::sv(p_->sender); }
    chinwag::receiver_type receiver_type() const noexcept {
        return static_cast<chinwag::receiver_type>(p_->receiver_type);
    }
    std::string_view receiver() const noexcept { return detail::sv(p_->receiver); }
    std::string_view conversation_id() const noexcept { return detail::sv(p_->conversation_id); }
    std::string_view category() const noexcept { return detail::sv(p_->category); }
    std::string_view message_type() const noexcept { return detail::sv(p_->message_type); }
    std::optional<std::string_view> text() const noexcept { return detail::opt(p_->text); }
    std::optional<std::string_view> data_json() const noexcept { return detail::opt(p_->data_json); }
    std::int64_t parent_id() const noexcept { return p_->parent_id; }
    std::int64_t sent_at() const noexcept { return p_->sent_at; }
    std::int64_t edited_at() const noexcept { return p_->edited_at; }
    std::int64_t deleted_at() const noexcept { return p_->deleted_at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<message_view> copy() const { return owned<message_view>(*this); }
#endif
};
using message = owned<message_view>;

class group_view {
    CHINWAG_HPP_VIEW(group_view, chinwag_group)
    std::string_view guid() const noexcept { return detail::sv(p_->guid); }
    std::string_view name() const noexcept { return detail::sv(p_->name); }
    chinwag::group_type group_type() const noexcept {
        return static_cast<chinwag::group_type>(p_->group_type);
    }
    std::optional<std::string_view> description() const noexcept { return detail::opt(p_->description); }
    std::string_view owner() const noexcept { return detail::sv(p_->owner); }
    std::uint64_t members_count() const noexcept { return p_->members_count; }
    std::int64_t created_at() const noexcept { return p_->created_at; }
    // The logged-in user's scope; nullopt when not a member.
    std::optional<std::string_view> scope() const noexcept { return detail::opt(p_->scope); }
    std::string_view metadata_json() const noexcept { return detail::sv(p_->metadata_json); }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<group_view> copy() const { return owned<group_view>(*this); }
#endif
};
using group = owned<group_view>;

class group_member_view {
    CHINWAG_HPP_VIEW(group_member_view, chinwag_group_member)
    user_view user() const noexcept { return user_view(p_->user); }
    std::string_view scope() const noexcept { return detail::sv(p_->scope); }
    std::int64_t joined_at() const noexcept { return p_->joined_at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<group_member_view> copy() const { return owned<group_member_view>(*this); }
#endif
};
using group_member = owned<group_member_view>;

class group_member_event_view {
    CHINWAG_HPP_VIEW(group_member_event_view, chinwag_group_member_event)
    group_action action() const noexcept { return static_cast<group_action>(p_->action); }
    std::string_view guid() const noexcept { return detail::sv(p_->guid); }
    std::string_view group_name() const noexcept { return detail::sv(p_->group_name); }
    std::string_view member() const noexcept { return detail::sv(p_->member); }
    std::string_view by() const noexcept { return detail::sv(p_->by); }
    std::optional<std::string_view> scope() const noexcept { return detail::opt(p_->scope); }
    std::optional<std::string_view> old_scope() const noexcept { return detail::opt(p_->old_scope); }
    std::int64_t at() const noexcept { return p_->at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<group_member_event_view> copy() const { return owned<group_member_event_view>(*this); }
#endif
};
using group_member_event = owned<group_member_event_view>;

class receipt_view {
    CHINWAG_HPP_VIEW(receipt_view, chinwag_receipt)
    receipt_kind kind() const noexcept { return static_cast<receipt_kind>(p_->kind); }
    std::string_view by() const noexcept { return detail::sv(p_->by); }
    std::int64_t message_id() const noexcept { return p_->message_id; }
    std::string_view message_sender() const noexcept { return detail::sv(p_->message_sender); }
    std::string_view conversation_id() const noexcept { return detail::sv(p_->conversation_id); }
    chinwag::receiver_type receiver_type() const noexcept {
        return static_cast<chinwag::receiver_type>(p_->receiver_type);
    }
    std::string_view receiver() const noexcept { return detail::sv(p_->receiver); }
    std::int64_t at() const noexcept { return p_->at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<receipt_view> copy() const { return owned<receipt_view>(*this); }
#endif
};
using receipt = owned<receipt_view>;

class call_view {
    CHINWAG_HPP_VIEW(call_view, chinwag_call)
    std::string_view session_id() const noexcept { return detail::sv(p_->session_id); }
    std::string_view initiator() const noexcept { return detail::sv(p_->initiator); }
    chinwag::receiver_type receiver_type() const noexcept {
        return static_cast<chinwag::receiver_type>(p_->receiver_type);
    }
    std::string_view receiver() const noexcept { return detail::sv(p_->receiver); }
    // "audio" or "video".
    std::string_view call_type() const noexcept { return detail::sv(p_->call_type); }
    // "initiated", "ongoing", "rejected", "busy", "cancelled", "unanswered" or "ended".
    std::string_view status() const noexcept { return detail::sv(p_->status); }
    std::string_view by() const noexcept { return detail::sv(p_->by); }
    std::int64_t initiated_at() const noexcept { return p_->initiated_at; }
    std::int64_t joined_at() const noexcept { return p_->joined_at; }
    std::int64_t ended_at() const noexcept { return p_->ended_at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    owned<call_view> copy() const { return owned<call_view>(*this); }
#endif
};
using call = owned<call_view>;

#undef CHINWAG_HPP_VIEW

// Payloads the C library has no copy function for: views, and plain structs as owned copies.
struct state_change {
    connection_state previous;
    connection_state current;
    state_reason reason;
    std::string message;
    std::int64_t retry_in_ms;  // -1 unless RECONNECTING or SUSPENDED
    std::string json;
};

class state_change_view {
  public:
    explicit state_change_view(const chinwag_state_change& c) noexcept : p_(&c) {}
    connection_state previous() const noexcept { return static_cast<connection_state>(p_->previous); }
    connection_state current() const noexcept { return static_cast<connection_state>(p_->current); }
    state_reason reason() const noexcept { return static_cast<state_reason>(p_->reason); }
    std::string_view message() const noexcept { return detail::sv(p_->message); }
    std::int64_t retry_in_ms() const noexcept { return p_->retry_in_ms; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    state_change to_owned() const {
        return {previous(), current(), reason(), std::string(message()), retry_in_ms(), std::string(json())};
    }
    const chinwag_state_change& native() const noexcept { return *p_; }

  private:
    const chinwag_state_change* p_;
};

struct feature_change {
    std::string feature;
    std::uint64_t duration_ms;  // 0 when lifted
    std::string json;
};

class feature_change_view {
  public:
    explicit feature_change_view(const chinwag_feature_change& c) noexcept : p_(&c) {}
    // "typing", "receipts" or "transient".
    std::string_view feature() const noexcept { return detail::sv(p_->feature); }
    std::uint64_t duration_ms() const noexcept { return p_->duration_ms; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    feature_change to_owned() const { return {std::string(feature()), duration_ms(), std::string(json())}; }
    const chinwag_feature_change& native() const noexcept { return *p_; }

  private:
    const chinwag_feature_change* p_;
};

struct typing {
    std::string sender;
    chinwag::receiver_type receiver_type;
    std::string receiver;
    std::optional<std::string> metadata_json;
    std::string json;
};

class typing_view {
  public:
    explicit typing_view(const chinwag_typing& t) noexcept : p_(&t) {}
    std::string_view sender() const noexcept { return detail::sv(p_->sender); }
    chinwag::receiver_type receiver_type() const noexcept {
        return static_cast<chinwag::receiver_type>(p_->receiver_type);
    }
    std::string_view receiver() const noexcept { return detail::sv(p_->receiver); }
    std::optional<std::string_view> metadata_json() const noexcept { return detail::opt(p_->metadata_json); }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    typing to_owned() const {
        auto meta = metadata_json();
        return {std::string(sender()), receiver_type(), std::string(receiver()),
                meta ? std::optional<std::string>(std::string(*meta)) : std::nullopt, std::string(json())};
    }
    const chinwag_typing& native() const noexcept { return *p_; }

  private:
    const chinwag_typing* p_;
};

struct transient {
    std::string sender;
    chinwag::receiver_type receiver_type;
    std::string receiver;
    std::string data_json;
    std::string json;
};

class transient_view {
  public:
    explicit transient_view(const chinwag_transient& t) noexcept : p_(&t) {}
    std::string_view sender() const noexcept { return detail::sv(p_->sender); }
    chinwag::receiver_type receiver_type() const noexcept {
        return static_cast<chinwag::receiver_type>(p_->receiver_type);
    }
    std::string_view receiver() const noexcept { return detail::sv(p_->receiver); }
    std::string_view data_json() const noexcept { return detail::sv(p_->data_json); }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    transient to_owned() const {
        return {std::string(sender()), receiver_type(), std::string(receiver()), std::string(data_json()),
                std::string(json())};
    }
    const chinwag_transient& native() const noexcept { return *p_; }

  private:
    const chinwag_transient* p_;
};

struct gap {
    std::uint64_t from_seq;
    std::uint64_t to_seq;
    std::string json;
};

class gap_view {
  public:
    explicit gap_view(const chinwag_gap& g) noexcept : p_(&g) {}
    std::uint64_t from_seq() const noexcept { return p_->from_seq; }
    std::uint64_t to_seq() const noexcept { return p_->to_seq; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    gap to_owned() const { return {from_seq(), to_seq(), std::string(json())}; }
    const chinwag_gap& native() const noexcept { return *p_; }

  private:
    const chinwag_gap* p_;
};

struct presence {
    std::string uid;
    user_status status;
    std::int64_t last_active_at;
    std::string json;
};

class presence_view {
  public:
    explicit presence_view(const chinwag_presence& p) noexcept : p_(&p) {}
    std::string_view uid() const noexcept { return detail::sv(p_->uid); }
    user_status status() const noexcept { return static_cast<user_status>(p_->status); }
    std::int64_t last_active_at() const noexcept { return p_->last_active_at; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
    presence to_owned() const { return {std::string(uid()), status(), last_active_at(), std::string(json())}; }
    const chinwag_presence& native() const noexcept { return *p_; }

  private:
    const chinwag_presence* p_;
};

struct log_record {
    log_level level;
    std::string target;
    std::string message;
};

class log_record_view {
  public:
    explicit log_record_view(const chinwag_log_record& r) noexcept : p_(&r) {}
    log_level level() const noexcept { return static_cast<log_level>(p_->level); }
    std::string_view target() const noexcept { return detail::sv(p_->target); }
    std::string_view message() const noexcept { return detail::sv(p_->message); }
    log_record to_owned() const { return {level(), std::string(target()), std::string(message())}; }
    const chinwag_log_record& native() const noexcept { return *p_; }

  private:
    const chinwag_log_record* p_;
};

// A read-only range over a C array of payloads, yielding views (a span of views).
template <class View>
class items {
    using C = typename View::native_type;

  public:
    class iterator {
      public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = View;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = View;
        explicit iterator(const C* p) noexcept : p_(p) {}
        View operator*() const noexcept { return View(*p_); }
        iterator& operator++() noexcept {
            ++p_;
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator old = *this;
            ++p_;
            return old;
        }
        bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }
        bool operator!=(const iterator& o) const noexcept { return p_ != o.p_; }

      private:
        const C* p_;
    };

    items(const C* data, std::size_t size) noexcept : data_(data), size_(size) {}
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    View operator[](std::size_t i) const noexcept { return View(data_[i]); }
    iterator begin() const noexcept { return iterator(data_); }
    iterator end() const noexcept { return iterator(data_ + size_); }
#if CHINWAG_HPP_EXCEPTIONS
    std::vector<owned<View>> copy() const {
        std::vector<owned<View>> out;
        out.reserve(size_);
        for (std::size_t i = 0; i < size_; i++) out.emplace_back(View(data_[i]));
        return out;
    }
#endif

  private:
    const C* data_;
    std::size_t size_;
};

// Owned pages.
struct message_page {
    std::vector<message> items;
    bool has_more = false;
    std::string json;
};
struct user_page {
    std::vector<user> items;
    bool has_more = false;
    std::string json;
};
struct group_page {
    std::vector<group> items;
    std::optional<std::string> next_after;
    std::string json;
};
struct member_list {
    std::vector<group_member> items;
    std::string json;
};

class message_page_view {
  public:
    using native_type = chinwag_message_page;
    explicit message_page_view(const chinwag_message_page& p) noexcept : p_(&p) {}
    // Oldest first.
    chinwag::items<message_view> items() const noexcept { return {p_->items, p_->len}; }
    bool has_more() const noexcept { return p_->has_more; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    message_page to_owned() const { return {items().copy(), has_more(), std::string(json())}; }
#endif
    const chinwag_message_page& native() const noexcept { return *p_; }

  private:
    const chinwag_message_page* p_;
};

class user_page_view {
  public:
    using native_type = chinwag_user_page;
    explicit user_page_view(const chinwag_user_page& p) noexcept : p_(&p) {}
    chinwag::items<user_view> items() const noexcept { return {p_->items, p_->len}; }
    bool has_more() const noexcept { return p_->has_more; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    user_page to_owned() const { return {items().copy(), has_more(), std::string(json())}; }
#endif
    const chinwag_user_page& native() const noexcept { return *p_; }

  private:
    const chinwag_user_page* p_;
};

class group_page_view {
  public:
    using native_type = chinwag_group_page;
    explicit group_page_view(const chinwag_group_page& p) noexcept : p_(&p) {}
    chinwag::items<group_view> items() const noexcept { return {p_->items, p_->len}; }
    // Pass as `after` for the next page; nullopt on the last page.
    std::optional<std::string_view> next_after() const noexcept { return detail::opt(p_->next_after); }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    group_page to_owned() const {
        auto next = next_after();
        return {items().copy(), next ? std::optional<std::string>(std::string(*next)) : std::nullopt,
                std::string(json())};
    }
#endif
    const chinwag_group_page& native() const noexcept { return *p_; }

  private:
    const chinwag_group_page* p_;
};

class member_list_view {
  public:
    using native_type = chinwag_member_list;
    explicit member_list_view(const chinwag_member_list& p) noexcept : p_(&p) {}
    chinwag::items<group_member_view> items() const noexcept { return {p_->items, p_->len}; }
    std::string_view json() const noexcept { return detail::sv(p_->json); }
#if CHINWAG_HPP_EXCEPTIONS
    member_list to_owned() const { return {items().copy(), std::string(json())}; }
#endif
    const chinwag_member_list& native() const noexcept { return *p_; }

  private:
    const chinwag_member_list* p_;
};

namespace detail {
// The view and owned type of each completion payload.
template <class C>
struct payload;
template <>
struct payload<chinwag_user> {
    using view = user_view;
    using owned_type = user;
};
template <>
struct payload<chinwag_message> {
    using view = message_view;
    using owned_type = message;
};
template <>
struct payload<chinwag_group> {
    using view = group_view;
    using owned_type = group;
};
template <>
struct payload<chinwag_group_member> {
    using view = group_member_view;
    using owned_type = group_member;
};
template <>
struct payload<chinwag_call> {
    using view = call_view;
    using owned_type = call;
};
template <>
struct payload<chinwag_message_page> {
    using view = message_page_view;
    using owned_type = message_page;
};
template <>
struct payload<chinwag_user_page> {
    using view = user_page_view;
    using owned_type = user_page;
};
template <>
struct payload<chinwag_group_page> {
    using view = group_page_view;
    using owned_type = group_page;
};
template <>
struct payload<chinwag_member_list> {
    using view = member_list_view;
    using owned_type = member_list;
};
template <>
struct payload<void> {
    using view = void;
    using owned_type = void;
};

#if CHINWAG_HPP_EXCEPTIONS
template <class View>
auto to_owned(const View& v) -> decltype(v.to_owned()) {
    return v.to_owned();
}
template <class View>
auto to_owned(const View& v) -> decltype(v.copy()) {
    return v.copy();
}
#endif
}  // namespace detail

// The outcome of a completion: the value (a view, valid during the completion) or the error.
template <class View>
class outcome {
  public:
    outcome(const chinwag_error* e, const typename View::native_type* v) noexcept : e_(e), v_(v) {}
    bool ok() const noexcept { return e_ == nullptr && v_ != nullptr; }
    explicit operator bool() const noexcept { return ok(); }
    // Only when !ok().
    error_view error() const noexcept { return error_view(e_ ? *e_ : missing()); }
    result code() const noexcept { return e_ ? static_cast<result>(e_->code) : result::ok; }
    // Only when ok().
    View value() const noexcept { return View(*v_); }
    View operator*() const noexcept { return value(); }
    struct arrow {
        View v;
        const View* operator->() const noexcept { return &v; }
    };
    arrow operator->() const noexcept { return arrow{value()}; }

  private:
    static const chinwag_error& missing() noexcept {
        static const chinwag_error e = {CHINWAG_RESULT_INTERNAL, "INTERNAL",
                                        "a completion had neither a value nor an error",
                                        "{\"code\":901,\"name\":\"INTERNAL\"}"};
        return e;
    }
    const chinwag_error* e_;
    const typename View::native_type* v_;
};

template <>
class outcome<void> {
  public:
    explicit outcome(const chinwag_error* e) noexcept : e_(e) {}
    bool ok() const noexcept { return e_ == nullptr; }
    explicit operator bool() const noexcept { return ok(); }
    error_view error() const noexcept { return error_view(*e_); }
    result code() const noexcept { return e_ ? static_cast<result>(e_->code) : result::ok; }

  private:
    const chinwag_error* e_;
};

// A completion callback: `void(chinwag::outcome<View>)`. Empty: no completion.
template <class View>
using on_done = std::function<void(outcome<View>)>;

// Pass as the completion to get a `chinwag::future` instead.
struct use_future_t {};
inline constexpr use_future_t use_future{};

// ----- callback plumbing ------------------------------------------------------------------------

// Receives what a callback threw: where (e.g. "message_listener.on_text_message_received") and
// the exception. Runs on the thread of the callback; what it throws is dropped.
using exception_handler = std::function<void(std::string_view where, std::exception_ptr)>;

namespace detail {

struct client_state;

// How deep the calling thread is inside Chinwag callbacks, and whose.
inline int& callback_depth() noexcept {
    static thread_local int depth = 0;
    return depth;
}
inline const client_state*& current_client() noexcept {
    static thread_local const client_state* current = nullptr;
    return current;
}

class callback_scope {
  public:
    explicit callback_scope(const client_state* s) noexcept : previous_(current_client()) {
        current_client() = s;
        callback_depth()++;
    }
    ~callback_scope() {
        callback_depth()--;
        current_client() = previous_;
    }
    callback_scope(const callback_scope&) = delete;
    callback_scope& operator=(const callback_scope&) = delete;

  private:
    const client_state* previous_;
};

// What the C++ side keeps of a client; shared by the client object and every registration
// and completion, since those can be released after the client object is gone.
struct client_state {
    chinwag_client* native = nullptr;
    chinwag::dispatch_mode mode = dispatch_mode::thread;
    std::mutex mutex;
    std::condition_variable idle;
    bool alive = true;      // false once the client object started freeing the client
    int removing = 0;       // listener handles inside a remove call
    std::uint64_t next_serial = 1;
    // The registration serial currently behind each (kind, id), so that a handle never
    // removes a listener that replaced its own.
    std::map<std::pair<chinwag_listener_kind, std::string>, std::uint64_t> current;
    std::shared_ptr<const exception_handler> on_exception;

    std::shared_ptr<const exception_handler> handler() {
        std::lock_guard<std::mutex> g(mutex);
        return on_exception;
    }
};

inline void report_exception(client_state* s, const char* where, std::exception_ptr e) noexcept {
#if CHINWAG_HPP_EXCEPTIONS
    try {
        auto h = s ? s->handler() : nullptr;
        if (h && *h) {
            (*h)(where, e);
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "chinwag: a callback (%s) threw: %s\n", where, x.what());
        } catch (...) {
            std::fprintf(stderr, "chinwag: a callback (%s) threw a non-standard exception\n", where);
        }
    } catch (...) {
    }
#else
    (void)s;
    (void)where;
    (void)e;
#endif
}

// Runs app code for the C library: marks the thread as inside a callback, and catches
// everything. Returns CHINWAG_RESULT_OK, the code of a thrown chinwag::error, or `fallback`.
template <class F>
chinwag_result run_callback(client_state* s, const char* where, F&& f,
                            chinwag_result fallback = CHINWAG_RESULT_INTERNAL) noexcept {
    callback_scope scope(s);
#if CHINWAG_HPP_EXCEPTIONS
    try {
        f();
        return CHINWAG_RESULT_OK;
    } catch (const chinwag::error& e) {
        report_exception(s, where, std::current_exception());
        return static_cast<chinwag_result>(e.code());
    } catch (...) {
        report_exception(s, where, std::current_exception());
        return fallback;
    }
#else
    (void)where;
    (void)fallback;
    f();
    return CHINWAG_RESULT_OK;
#endif
}

// ----- completions -----

template <class C>
struct completion {
    using view = typename payload<C>::view;
    std::shared_ptr<client_state> state;
    on_done<view> fn;

    static void trampoline(void* user_data, const chinwag_error* e, const C* value) noexcept {
        auto* self = static_cast<completion*>(user_data);
        run_callback(self->state.get(), "completion", [&] { self->fn(outcome<view>(e, value)); });
        delete self;  // completions run exactly once
    }
};

template <>
struct completion<void> {
    std::shared_ptr<client_state> state;
    on_done<void> fn;

    static void trampoline(void* user_data, const chinwag_error* e) noexcept {
        auto* self = static_cast<completion*>(user_data);
        run_callback(self->state.get(), "completion", [&] { self->fn(outcome<void>(e)); });
        delete self;
    }
};

template <class C>
struct c_callback {
    using type = void (*)(void*, const chinwag_error*, const C*);
};
template <>
struct c_callback<void> {
    using type = void (*)(void*, const chinwag_error*);
};

}  // namespace detail

#if CHINWAG_HPP_EXCEPTIONS
// A std::future of a Chinwag completion. get(), wait(), wait_for() and wait_until() (with a
// timeout in the future) throw chinwag::error(REENTRANT_CALL) when called inside a Chinwag
// callback instead of blocking the thread that would complete them (a deadlock). In app-dispatch mode something must keep
// calling client::dispatch while a thread waits. A failed completion rethrows its
// chinwag::error from get().
template <class T>
class future : public std::future<T> {
  public:
    future() noexcept = default;
    explicit future(std::future<T>&& f) noexcept : std::future<T>(std::move(f)) {}
    decltype(auto) get() {
        check();
        return std::future<T>::get();
    }
    void wait() const {
        check();
        std::future<T>::wait();
    }
    // A zero timeout only looks (it never blocks), so it is allowed inside callbacks.
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period>& d) const {
        if (d > d.zero()) check();
        return std::future<T>::wait_for(d);
    }
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& t) const {
        if (t > Clock::now()) check();
        return std::future<T>::wait_until(t);
    }

  private:
    static void check() {
        if (detail::callback_depth() > 0)
            throw error(result::reentrant_call,
                        "waiting on a chinwag::future inside a Chinwag callback would block the "
                        "thread that completes it; use a completion callback instead");
    }
};
#endif

// ----- listeners --------------------------------------------------------------------------------
// Set the callbacks you want; empty ones are not registered.

// Added after the constructor (`client::add_listener`), its first event is the current state:
// on_state_changed and that state's own callback (none for FAILED) with `previous == current`
// and reason `state_reason::listener_added`; every later one is a change, none missed or
// repeated. Listeners given in `settings::listeners` get no such first event.
struct connection_listener {
    std::function<void(const state_change_view&)> on_state_changed;  // every change, first
    std::function<void(const state_change_view&)> on_connecting;
    std::function<void(const state_change_view&)> on_connected;
    std::function<void(const state_change_view&)> on_disconnected;  // also RECONNECTING, SUSPENDED
    std::function<void(const error_view&)> on_connection_error;
    std::function<void(const feature_change_view&)> on_feature_throttled;
    std::function<void(const feature_change_view&)> on_feature_unthrottled;
};

struct login_listener {
    std::function<void(const user_view&)> on_login_success;
    std::function<void(const error_view&)> on_login_failure;
    std::function<void()> on_logout_success;
    std::function<void(const error_view&)> on_logout_failure;
    std::function<void(const error_view&)> on_session_expired;
};

struct message_listener {
    std::function<void(const message_view&)> on_text_message_received;
    std::function<void(const message_view&)> on_media_message_received;
    std::function<void(const message_view&)> on_custom_message_received;
    std::function<void(const message_view&)> on_message_edited;
    std::function<void(const message_view&)> on_message_deleted;
    std::function<void(const typing_view&)> on_typing_started;
    std::function<void(const typing_view&)> on_typing_ended;
    std::function<void(const receipt_view&)> on_messages_delivered;
    std::function<void(const receipt_view&)> on_messages_read;
    std::function<void(const transient_view&)> on_transient_message_received;
    std::function<void(const gap_view&)> on_gap;
};

struct user_listener {
    std::function<void(const presence_view&)> on_user_online;
    std::function<void(const presence_view&)> on_user_offline;
};

struct group_listener {
    std::function<void(const group_member_event_view&)> on_member_joined;
    std::function<void(const group_member_event_view&)> on_member_left;
    std::function<void(const group_member_event_view&)> on_member_kicked;
    std::function<void(const group_member_event_view&)> on_member_banned;
    std::function<void(const group_member_event_view&)> on_member_unbanned;
    std::function<void(const group_member_event_view&)> on_member_scope_changed;
    std::function<void(const group_member_event_view&)> on_member_added;
};

struct call_listener {
    std::function<void(const call_view&)> on_incoming_call_received;
    std::function<void(const call_view&)> on_outgoing_call_accepted;
    std::function<void(const call_view&)> on_outgoing_call_rejected;
    std::function<void(const call_view&)> on_incoming_call_cancelled;
    std::function<void(const call_view&)> on_call_ended;
};

struct log_listener {
    std::function<void(const log_record_view&)> on_log;
};

namespace detail {

template <class L>
struct listener_traits;

// The C listener struct, add and remove functions and kind of each listener type.
#define CHINWAG_HPP_LISTENER(L, C, KIND, ADD, REMOVE)                                           \
    template <>                                                                                 \
    struct listener_traits<L> {                                                                 \
        using c_type = C;                                                                       \
        static constexpr chinwag_listener_kind kind = KIND;                                     \
        static chinwag_result add(const chinwag_client* c, const char* id, const C* l, void* u, \
                                  chinwag_user_data_free_cb f) noexcept {                       \
            return ADD(c, id, l, u, f);                                                         \
        }                                                                                       \
        static chinwag_result remove(const chinwag_client* c, const char* id) noexcept {        \
            return REMOVE(c, id);                                                               \
        }                                                                                       \
    };
CHINWAG_HPP_LISTENER(connection_listener, chinwag_connection_listener, CHINWAG_LISTENER_KIND_CONNECTION,
                     chinwag_client_add_connection_listener, chinwag_client_remove_connection_listener)
CHINWAG_HPP_LISTENER(login_listener, chinwag_login_listener, CHINWAG_LISTENER_KIND_LOGIN,
                     chinwag_client_add_login_listener, chinwag_client_remove_login_listener)
CHINWAG_HPP_LISTENER(message_listener, chinwag_message_listener, CHINWAG_LISTENER_KIND_MESSAGE,
                     chinwag_client_add_message_listener, chinwag_client_remove_message_listener)
CHINWAG_HPP_LISTENER(user_listener, chinwag_user_listener, CHINWAG_LISTENER_KIND_USER,
                     chinwag_client_add_user_listener, chinwag_client_remove_user_listener)
CHINWAG_HPP_LISTENER(group_listener, chinwag_group_listener, CHINWAG_LISTENER_KIND_GROUP,
                     chinwag_client_add_group_listener, chinwag_client_remove_group_listener)
CHINWAG_HPP_LISTENER(call_listener, chinwag_call_listener, CHINWAG_LISTENER_KIND_CALL,
                     chinwag_client_add_call_listener, chinwag_client_remove_call_listener)
CHINWAG_HPP_LISTENER(log_listener, chinwag_log_listener, CHINWAG_LISTENER_KIND_LOG,
                     chinwag_client_add_log_listener, chinwag_client_remove_log_listener)
#undef CHINWAG_HPP_LISTENER

template <class L>
constexpr listener_kind listener_kind_of() noexcept {
    return static_cast<listener_kind>(listener_traits<L>::kind);
}

inline chinwag_result remove_listener(const chinwag_client* c, chinwag_listener_kind kind, const char* id) noexcept {
    switch (kind) {
        case CHINWAG_LISTENER_KIND_CONNECTION: return chinwag_client_remove_connection_listener(c, id);
        case CHINWAG_LISTENER_KIND_LOGIN: return chinwag_client_remove_login_listener(c, id);
        case CHINWAG_LISTENER_KIND_MESSAGE: return chinwag_client_remove_message_listener(c, id);
        case CHINWAG_LISTENER_KIND_USER: return chinwag_client_remove_user_listener(c, id);
        case CHINWAG_LISTENER_KIND_GROUP: return chinwag_client_remove_group_listener(c, id);
        case CHINWAG_LISTENER_KIND_CALL: return chinwag_client_remove_call_listener(c, id);
        case CHINWAG_LISTENER_KIND_LOG: return chinwag_client_remove_log_listener(c, id);
        default: return CHINWAG_RESULT_INVALID_ARGUMENT;
    }
}

// One registered listener: owns the app's callables until the C library releases it.
template <class L>
struct registration {
    std::shared_ptr<client_state> state;
    std::string id;
    std::uint64_t serial;
    L listener;

    static void release(void* user_data) noexcept {
        auto* self = static_cast<registration*>(user_data);
        {
            std::lock_guard<std::mutex> g(self->state->mutex);
            auto it = self->state->current.find({listener_traits<L>::kind, self->id});
            if (it != self->state->current.end() && it->second == self->serial) self->state->current.erase(it);
        }
        delete self;
    }
};

template <class T>
struct member_of;
template <class L, class F>
struct member_of<F L::*> {
    using listener = L;
};

// The trampoline of one listener callback: `Member` is the std::function it calls.
template <auto Member, class C, class View>
void on_event(void* user_data, const C* payload) noexcept {
    using L = typename member_of<decltype(Member)>::listener;
    auto* r = static_cast<registration<L>*>(user_data);
    run_callback(r->state.get(), "listener", [&] { (r->listener.*Member)(View(*payload)); });
}

template <auto Member>
void on_notice(void* user_data) noexcept {
    using L = typename member_of<decltype(Member)>::listener;
    auto* r = static_cast<registration<L>*>(user_data);
    run_callback(r->state.get(), "listener", [&] { (r->listener.*Member)(); });
}

// Fills the C struct of a listener with trampolines for its non-empty callbacks.
#define CHINWAG_HPP_SET(L, FIELD, C, VIEW) \
    if (l.FIELD) c.FIELD = &on_event<&L::FIELD, C, VIEW>;

inline chinwag_connection_listener to_c(const connection_listener& l) noexcept {
    chinwag_connection_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(connection_listener, on_state_changed, chinwag_state_change, state_change_view)
    CHINWAG_HPP_SET(connection_listener, on_connecting, chinwag_state_change, state_change_view)
    CHINWAG_HPP_SET(connection_listener, on_connected, chinwag_state_change, state_change_view)
    CHINWAG_HPP_SET(connection_listener, on_disconnected, chinwag_state_change, state_change_view)
    CHINWAG_HPP_SET(connection_listener, on_connection_error, chinwag_error, error_view)
    CHINWAG_HPP_SET(connection_listener, on_feature_throttled, chinwag_feature_change, feature_change_view)
    CHINWAG_HPP_SET(connection_listener, on_feature_unthrottled, chinwag_feature_change, feature_change_view)
    return c;
}

inline chinwag_login_listener to_c(const login_listener& l) noexcept {
    chinwag_login_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(login_listener, on_login_success, chinwag_user, user_view)
    CHINWAG_HPP_SET(login_listener, on_login_failure, chinwag_error, error_view)
    if (l.on_logout_success) c.on_logout_success = &on_notice<&login_listener::on_logout_success>;
    CHINWAG_HPP_SET(login_listener, on_logout_failure, chinwag_error, error_view)
    CHINWAG_HPP_SET(login_listener, on_session_expired, chinwag_error, error_view)
    return c;
}

inline chinwag_message_listener to_c(const message_listener& l) noexcept {
    chinwag_message_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(message_listener, on_text_message_received, chinwag_message, message_view)
    CHINWAG_HPP_SET(message_listener, on_media_message_received, chinwag_message, message_view)
    CHINWAG_HPP_SET(message_listener, on_custom_message_received, chinwag_message, message_view)
    CHINWAG_HPP_SET(message_listener, on_message_edited, chinwag_message, message_view)
    CHINWAG_HPP_SET(message_listener, on_message_deleted, chinwag_message, message_view)
    CHINWAG_HPP_SET(message_listener, on_typing_started, chinwag_typing, typing_view)
    CHINWAG_HPP_SET(message_listener, on_typing_ended, chinwag_typing, typing_view)
    CHINWAG_HPP_SET(message_listener, on_messages_delivered, chinwag_receipt, receipt_view)
    CHINWAG_HPP_SET(message_listener, on_messages_read, chinwag_receipt, receipt_view)
    CHINWAG_HPP_SET(message_listener, on_transient_message_received, chinwag_transient, transient_view)
    CHINWAG_HPP_SET(message_listener, on_gap, chinwag_gap, gap_view)
    return c;
}

inline chinwag_user_listener to_c(const user_listener& l) noexcept {
    chinwag_user_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(user_listener, on_user_online, chinwag_presence, presence_view)
    CHINWAG_HPP_SET(user_listener, on_user_offline, chinwag_presence, presence_view)
    return c;
}

inline chinwag_group_listener to_c(const group_listener& l) noexcept {
    chinwag_group_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(group_listener, on_member_joined, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_left, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_kicked, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_banned, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_unbanned, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_scope_changed, chinwag_group_member_event, group_member_event_view)
    CHINWAG_HPP_SET(group_listener, on_member_added, chinwag_group_member_event, group_member_event_view)
    return c;
}

inline chinwag_call_listener to_c(const call_listener& l) noexcept {
    chinwag_call_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(call_listener, on_incoming_call_received, chinwag_call, call_view)
    CHINWAG_HPP_SET(call_listener, on_outgoing_call_accepted, chinwag_call, call_view)
    CHINWAG_HPP_SET(call_listener, on_outgoing_call_rejected, chinwag_call, call_view)
    CHINWAG_HPP_SET(call_listener, on_incoming_call_cancelled, chinwag_call, call_view)
    CHINWAG_HPP_SET(call_listener, on_call_ended, chinwag_call, call_view)
    return c;
}

inline chinwag_log_listener to_c(const log_listener& l) noexcept {
    chinwag_log_listener c{};
    c.struct_size = sizeof c;
    CHINWAG_HPP_SET(log_listener, on_log, chinwag_log_record, log_record_view)
    return c;
}
#undef CHINWAG_HPP_SET

}  // namespace detail

// Removes its listener when destroyed, unless released (or the listener was replaced by one
// with the same id, or the client is gone). Move-only; may be destroyed inside the listener's
// own callback (the listener then hears nothing more and is freed after that callback).
class listener_handle {
  public:
    listener_handle() noexcept = default;
    listener_handle(listener_handle&& o) noexcept
        : state_(std::move(o.state_)), kind_(o.kind_), id_(std::move(o.id_)), serial_(o.serial_) {
        o.serial_ = 0;
    }
    listener_handle& operator=(listener_handle&& o) noexcept {
        if (this != &o) {
            reset();
            state_ = std::move(o.state_);
            kind_ = o.kind_;
            id_ = std::move(o.id_);
            serial_ = o.serial_;
            o.serial_ = 0;
        }
        return *this;
    }
    listener_handle(const listener_handle&) = delete;
    listener_handle& operator=(const listener_handle&) = delete;
    ~listener_handle() { reset(); }

    // Removes the listener now (as the destructor does). Outside a callback of the client,
    // when this returns the listener is not running and never runs again.
    void reset() noexcept {
        std::shared_ptr<detail::client_state> s = state_.lock();
        state_.reset();
        std::uint64_t serial = serial_;
        serial_ = 0;
        if (!s || serial == 0) return;
        {
            std::lock_guard<std::mutex> g(s->mutex);
            auto it = s->current.find({static_cast<chinwag_listener_kind>(kind_), id_});
            if (!s->alive || it == s->current.end() || it->second != serial) return;
            s->removing++;
        }
        detail::remove_listener(s->native, static_cast<chinwag_listener_kind>(kind_), id_.c_str());
        std::lock_guard<std::mutex> g(s->mutex);
        s->removing--;
        s->idle.notify_all();
    }
    // Keeps the listener registered (until removed by id or the client is freed).
    void release() noexcept {
        state_.reset();
        serial_ = 0;
    }
    bool active() const noexcept { return serial_ != 0 && !state_.expired(); }
    listener_kind kind() const noexcept { return kind_; }
    const std::string& id() const noexcept { return id_; }

  private:
    friend class client;
    listener_handle(std::weak_ptr<detail::client_state> s, listener_kind k, std::string id, std::uint64_t serial) noexcept
        : state_(std::move(s)), kind_(k), id_(std::move(id)), serial_(serial) {}

    std::weak_ptr<detail::client_state> state_;
    listener_kind kind_ = listener_kind::connection;
    std::string id_;
    std::uint64_t serial_ = 0;
};

// A session store of the app's own (e.g. the platform keychain). Each callback may throw: a
// chinwag::error reports its code, anything else STORAGE (and the exception handler hears it).
// They run on SDK threads, one at a time per client; `save` may block (it delays no callback).
// `save` and `clear` may call these read-only functions of their client: logged_in_user
// (during a login's save it already gives the new user), connection_status, active_call and
// dispatch_fd; never the destructor, login* or logout. `load` runs inside the constructor.
struct session_store {
    // The JSON `save` was last given, or nullopt when there is none.
    std::function<std::optional<std::string>()> load;
    // Keep `session_json` secret; `durable`: make it survive a crash before returning.
    std::function<void(std::string_view session_json, bool durable)> save;
    std::function<void()> clear;
};

// A listener registered by the client's constructor, before anything can happen: in auto mode
// with a saved session it hears the first CONNECTING and CONNECTED. Listeners added right after
// the constructor miss nothing either (see connection_listener and `settings::listener_grace`).
// Remove it by id.
struct initial_listener {
    std::string id;
    std::variant<connection_listener, login_listener, message_listener, user_listener, group_listener,
                 call_listener, log_listener>
        listener;
};

// Settings of a client; defaults everywhere except `server_url`. Durations of zero mean the
// default of docs/behaviour.md.
struct settings {
    settings() = default;
    explicit settings(std::string url) : server_url(std::move(url)) {}

    std::string server_url;  // http://host:port or https://host:port
    chinwag::connect_mode connect_mode = connect_mode::automatic;
    presence_mode presence = presence_mode::none;
    std::string presence_roles;               // with presence_mode::roles: "admin,staff"
    std::optional<std::string> data_dir;      // nullopt: the session in memory only
    std::string extra_ca_pem;                 // PEM; empty for none
    std::chrono::milliseconds connect_timeout{0};
    std::chrono::milliseconds first_retry_max{0};
    std::chrono::milliseconds backoff_base{0};
    std::chrono::milliseconds backoff_cap{0};
    std::chrono::milliseconds stable_after{0};
    std::chrono::milliseconds suspend_after{0};
    std::chrono::milliseconds suspended_retry_min{0};
    std::chrono::milliseconds suspended_retry_max{0};
    std::chrono::milliseconds heartbeat_grace{0};
    std::chrono::milliseconds typing_timeout{0};
    std::chrono::milliseconds probe_timeout{0};
    std::chrono::milliseconds background_grace{0};
    std::chrono::milliseconds hint_coalesce{0};
    std::uint32_t queue_capacity = 0;
    chinwag::dispatch_mode dispatch_mode = dispatch_mode::thread;
    // For this long after a constructor that restores a saved session (auto mode), a real-time
    // event of a kind with no listener yet waits for one (listeners added right after the
    // constructor miss nothing); a fresh client does not wait; 0: 1000 ms.
    std::chrono::milliseconds listener_grace{0};
    std::function<void(const log_record_view&)> log;  // from init on
    std::optional<session_store> store;               // nullopt: the file in data_dir, or memory
    std::vector<initial_listener> listeners;
    exception_handler on_callback_exception;          // empty: a line on stderr
};

// A conversation's history request (`chinwag_messages_request`). Move-only.
struct messages_request_options {
    std::uint32_t limit = 0;  // 1-100; 0 means 30
    std::optional<std::string> category;
    std::optional<std::string> message_type;
    std::int64_t from_message_id = 0;
};

class messages_request {
  public:
    messages_request() noexcept = default;
#if CHINWAG_HPP_EXCEPTIONS
    messages_request(receiver_type type, const text& receiver, const messages_request_options& o = {}) {
        std::error_code ec;
        *this = create(type, receiver, o, ec);
        detail::throw_if(ec);
    }
#endif
    static messages_request create(receiver_type type, const text& receiver, const messages_request_options& o,
                                   std::error_code& ec) noexcept {
        return detail::guarded(ec, [&] {
            messages_request r;
            chinwag_messages_request_options c{};
            c.struct_size = sizeof c;
            c.limit = o.limit;
            c.category = o.category ? o.category->c_str() : nullptr;
            c.message_type = o.message_type ? o.message_type->c_str() : nullptr;
            c.from_message_id = o.from_message_id;
            chinwag_result rc = detail::check_text(receiver);
            if (rc == CHINWAG_RESULT_OK)
                rc = chinwag_messages_request_new(static_cast<chinwag_receiver_type>(type), receiver.c_str(), &c, &r.p_);
            if (rc != CHINWAG_RESULT_OK) detail::fail_c(ec, rc);
            return r;
        });
    }
    messages_request(messages_request&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    messages_request& operator=(messages_request&& o) noexcept {
        if (this != &o) {
            chinwag_messages_request_free(p_);
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    ~messages_request() { chinwag_messages_request_free(p_); }
    chinwag_messages_request* native_handle() const noexcept { return p_; }

  private:
    chinwag_messages_request* p_ = nullptr;
};

struct users_request_options {
    std::uint32_t limit = 0;  // 1-100; 0 means 30
    std::optional<std::string> search;
    std::optional<std::string> status;  // "online" or "offline"
    std::optional<std::string> role;
};

class users_request {
  public:
    users_request() noexcept = default;
#if CHINWAG_HPP_EXCEPTIONS
    explicit users_request(const users_request_options& o) {
        std::error_code ec;
        *this = create(o, ec);
        detail::throw_if(ec);
    }
#endif
    static users_request create(const users_request_options& o, std::error_code& ec) noexcept {
        return detail::guarded(ec, [&] {
            users_request r;
            chinwag_users_request_options c{};
            c.struct_size = sizeof c;
            c.limit = o.limit;
            c.search = o.search ? o.search->c_str() : nullptr;
            c.status = o.status ? o.status->c_str() : nullptr;
            c.role = o.role ? o.role->c_str() : nullptr;
            chinwag_result rc = chinwag_users_request_new(&c, &r.p_);
            if (rc != CHINWAG_RESULT_OK) detail::fail_c(ec, rc);
            return r;
        });
    }
    users_request(users_request&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    users_request& operator=(users_request&& o) noexcept {
        if (this != &o) {
            chinwag_users_request_free(p_);
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    ~users_request() { chinwag_users_request_free(p_); }
    chinwag_users_request* native_handle() const noexcept { return p_; }

  private:
    chinwag_users_request* p_ = nullptr;
};

// A user to add to a group, with a scope.
struct new_member {
    std::string uid;
    chinwag::scope scope = scope::participant;
};

// ----- the client -------------------------------------------------------------------------------

// A Chinwag client (`chinwag_client`). Move-only; the destructor frees it: unfinished
// completions run with CANCELLED and every listener is released before it returns (outside a
// callback; inside one of this client, right after that callback). Every method is
// thread-safe and callable from callbacks unless said otherwise.
class client {
  public:
    client() noexcept = default;
#if CHINWAG_HPP_EXCEPTIONS
    client(const text& app_id, settings s) {
        std::error_code ec;
        *this = create(app_id, std::move(s), ec);
        detail::throw_if(ec);
    }
#endif
    static client create(const text& app_id, settings s, std::error_code& ec) noexcept {
        return detail::guarded(ec, [&] { return make(app_id, s, ec); });
    }
    client(client&& o) noexcept : s_(std::move(o.s_)) {}
    client& operator=(client&& o) noexcept {
        if (this != &o) {
            free();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() { free(); }

    chinwag_client* native_handle() const noexcept { return s_ ? s_->native : nullptr; }
    explicit operator bool() const noexcept { return s_ != nullptr; }
    chinwag::dispatch_mode dispatch_mode() const noexcept { return s_ ? s_->mode : dispatch_mode::thread; }

    // Replaces the handler of exceptions thrown by this client's callbacks.
    void set_exception_handler(exception_handler h) {
        if (!s_) return;
        auto p = std::make_shared<const exception_handler>(std::move(h));
        std::lock_guard<std::mutex> g(s_->mutex);
        s_->on_exception = std::move(p);
    }

    // ----- listeners -----
    // Adds (or replaces) the listener `id` of its family; the handle removes it.
    template <class L>
    [[nodiscard]] listener_handle add_listener(const std::string& id, L listener, std::error_code& ec) noexcept {
        return detail::guarded(ec, [&] { return add_listener_(id, std::move(listener), ec); });
    }
    template <class L>
    void remove_listener(const text& id, std::error_code& ec) noexcept {
        remove_listener(detail::listener_kind_of<L>(), id, ec);
    }
    void remove_listener(listener_kind kind, const text& id, std::error_code& ec) noexcept {
        sync(ec, [&] {
            chinwag_result rc = detail::check_text(id);
            return rc ? rc : detail::remove_listener(s_->native, static_cast<chinwag_listener_kind>(kind), id.c_str());
        });
    }
#if CHINWAG_HPP_EXCEPTIONS
    template <class L>
    [[nodiscard]] listener_handle add_listener(const std::string& id, L listener) {
        std::error_code ec;
        listener_handle h = add_listener(id, std::move(listener), ec);
        detail::throw_if(ec);
        return h;
    }
    void remove_listener(listener_kind kind, const text& id) { throwing([&](std::error_code& ec) { remove_listener(kind, id, ec); }); }
#endif

    // ----- session and connection -----
#define CHINWAG_HPP_SYNC0(NAME, CALL)                                                         \
    void NAME(std::error_code& ec) noexcept {                                                 \
        sync(ec, [&] { return CALL; });                                                       \
    }
    CHINWAG_HPP_SYNC0(connect, chinwag_client_connect(s_->native))
    CHINWAG_HPP_SYNC0(disconnect, chinwag_client_disconnect(s_->native))
#undef CHINWAG_HPP_SYNC0
    void network_changed(network n, std::error_code& ec) noexcept {
        sync(ec, [&] { return chinwag_client_network_changed(s_->native, static_cast<chinwag_network>(n)); });
    }
    void app_state_changed(app_state a, std::error_code& ec) noexcept {
        sync(ec, [&] { return chinwag_client_app_state_changed(s_->native, static_cast<chinwag_app_state>(a)); });
    }
    connection_state connection_status(std::error_code& ec) const noexcept {
        chinwag_connection_state st = CHINWAG_CONNECTION_STATE_DISCONNECTED;
        sync(ec, [&] { return chinwag_client_connection_status(s_->native, &st); });
        return static_cast<connection_state>(st);
    }
    // The logged-in user as JSON, from the saved session (NOT_LOGGED_IN when none).
    std::string logged_in_user(std::error_code& ec) const noexcept {
        char* out = nullptr;
        sync(ec, [&] { return chinwag_client_logged_in_user(s_->native, &out); });
        if (ec) return {};
        std::error_code copy_ec;
        std::string json = detail::guarded(copy_ec, [&] { return detail::take_string(out); });
        if (copy_ec) ec = copy_ec;
        return json;
    }
    // The logged-in user as an owned typed copy, from the saved session (NOT_LOGGED_IN when
    // none); on error an empty `user` (do not read it).
    user get_logged_in_user(std::error_code& ec) const noexcept {
        chinwag_user* out = nullptr;
        sync(ec, [&] { return chinwag_client_get_logged_in_user(s_->native, &out); });
        if (ec || out == nullptr) return user();
        return user::adopt(out);
    }
    // The call this client is in, as an owned copy; nullopt when none.
    std::optional<call> active_call(std::error_code& ec) const noexcept {
        chinwag_call* out = nullptr;
        sync(ec, [&] { return chinwag_client_active_call(s_->native, &out); });
        if (out == nullptr) return std::nullopt;
        return std::optional<call>(call::adopt(out));
    }
    // App-dispatch mode: the descriptor to poll for reading (never read, write or close it).
    int dispatch_fd(std::error_code& ec) const noexcept {
        int fd = -1;
        sync(ec, [&] { return chinwag_client_dispatch_fd(s_->native, &fd); });
        return fd;
    }
    // App-dispatch mode: runs at most `max_items` waiting items (0: all waiting) on this
    // thread; returns how many it took. Not from inside this client's callbacks.
    std::size_t dispatch(std::size_t max_items, std::error_code& ec) noexcept {
        std::size_t ran = 0;
        sync(ec, [&] { return chinwag_client_dispatch(s_->native, max_items, &ran); });
        return ran;
    }
#if CHINWAG_HPP_EXCEPTIONS
    void connect() { throwing([&](std::error_code& ec) { connect(ec); }); }
    void disconnect() { throwing([&](std::error_code& ec) { disconnect(ec); }); }
    void network_changed(network n) { throwing([&](std::error_code& ec) { network_changed(n, ec); }); }
    void app_state_changed(app_state a) { throwing([&](std::error_code& ec) { app_state_changed(a, ec); }); }
    connection_state connection_status() const { return throwing([&](std::error_code& ec) { return connection_status(ec); }); }
    std::string logged_in_user() const { return throwing([&](std::error_code& ec) { return logged_in_user(ec); }); }
    user get_logged_in_user() const { return throwing([&](std::error_code& ec) { return get_logged_in_user(ec); }); }
    std::optional<call> active_call() const { return throwing([&](std::error_code& ec) { return active_call(ec); }); }
    int dispatch_fd() const { return throwing([&](std::error_code& ec) { return dispatch_fd(ec); }); }
    std::size_t dispatch(std::size_t max_items = 0) {
        return throwing([&](std::error_code& ec) { return dispatch(max_items, ec); });
    }
#endif

    // ----- typing, receipts, transient messages (never queued: NOT_CONNECTED) -----
    void start_typing(receiver_type t, const text& receiver, std::error_code& ec) noexcept {
        sync(ec, [&] { return checked(chinwag_client_start_typing, raw(t), receiver); });
    }
    void end_typing(receiver_type t, const text& receiver, std::error_code& ec) noexcept {
        sync(ec, [&] { return checked(chinwag_client_end_typing, raw(t), receiver); });
    }
    void mark_delivered(std::int64_t message_id, std::error_code& ec) noexcept {
        sync(ec, [&] { return chinwag_client_mark_delivered(s_->native, message_id); });
    }
    void mark_read(std::int64_t message_id, std::error_code& ec) noexcept {
        sync(ec, [&] { return chinwag_client_mark_read(s_->native, message_id); });
    }
    void send_transient(receiver_type t, const text& receiver, const text& data_json, std::error_code& ec) noexcept {
        sync(ec, [&] { return checked(chinwag_client_send_transient, raw(t), receiver, data_json); });
    }
#if CHINWAG_HPP_EXCEPTIONS
    void start_typing(receiver_type t, const text& r) { throwing([&](std::error_code& ec) { start_typing(t, r, ec); }); }
    void end_typing(receiver_type t, const text& r) { throwing([&](std::error_code& ec) { end_typing(t, r, ec); }); }
    void mark_delivered(std::int64_t id) { throwing([&](std::error_code& ec) { mark_delivered(id, ec); }); }
    void mark_read(std::int64_t id) { throwing([&](std::error_code& ec) { mark_read(id, ec); }); }
    void send_transient(receiver_type t, const text& r, const text& data) {
        throwing([&](std::error_code& ec) { send_transient(t, r, data, ec); });
    }
#endif

    // ----- operations with a completion -----
    // Each comes three ways: (..., on_done<View> done = {}) throwing; (..., done, ec) noexcept;
    // (..., use_future) returning chinwag::future<owned copy>. Those that name a new message or
    // call also return its client id (muid) or session id.
#if CHINWAG_HPP_EXCEPTIONS
#define CHINWAG_HPP_OP(RET, C, NAME, PARAMS, ARGS, CALL)                                          \
    RET NAME(PARAMS on_done<typename detail::payload<C>::view> done, std::error_code& ec) noexcept { \
        return start<C, RET>(std::move(done), ec, [&](auto cb, void* ud, char** out) {            \
            (void)out;                                                                            \
            return CALL;                                                                          \
        });                                                                                       \
    }                                                                                             \
    RET NAME(PARAMS on_done<typename detail::payload<C>::view> done = {}) {                       \
        return throwing([&](std::error_code& ec) { return NAME(ARGS std::move(done), ec); });     \
    }                                                                                             \
    future<typename detail::payload<C>::owned_type> NAME(PARAMS use_future_t) {                   \
        return start_future<C>([&](auto cb, void* ud, char** out) {                               \
            (void)out;                                                                            \
            return CALL;                                                                          \
        });                                                                                       \
    }
#else
#define CHINWAG_HPP_OP(RET, C, NAME, PARAMS, ARGS, CALL)                                          \
    RET NAME(PARAMS on_done<typename detail::payload<C>::view> done, std::error_code& ec) noexcept { \
        return start<C, RET>(std::move(done), ec, [&](auto cb, void* ud, char** out) {            \
            (void)out;                                                                            \
            return CALL;                                                                          \
        });                                                                                       \
    }
#endif
#define CHINWAG_HPP_P(...) __VA_ARGS__,

    // Creates user `uid` with the server's development auth key (development and demos; no
    // login needed). `name` is nullable (nullptr / std::nullopt: the uid). Completion errors:
    // USER_EXISTS (log in instead), AUTH_FAILED (wrong key), INVALID_ARGUMENT, NETWORK, ...
    CHINWAG_HPP_OP(void, chinwag_user, create_user, CHINWAG_HPP_P(const text& uid, const text& name, const text& auth_key),
                   CHINWAG_HPP_P(uid, name, auth_key), checked(chinwag_client_create_user, uid, name, auth_key, cb, ud))
    // Login with the server's development auth key; saves the session; connects in auto mode.
    CHINWAG_HPP_OP(void, chinwag_user, login, CHINWAG_HPP_P(const text& uid, const text& auth_key), CHINWAG_HPP_P(uid, auth_key),
                   checked(chinwag_client_login, uid, auth_key, cb, ud))
    // Login with a token minted by the app's backend.
    CHINWAG_HPP_OP(void, chinwag_user, login_with_token, CHINWAG_HPP_P(const text& token), CHINWAG_HPP_P(token),
                   checked(chinwag_client_login_with_token, token, cb, ud))
    // Logout: tells the server, always purges the local session.
    CHINWAG_HPP_OP(void, void, logout, , , chinwag_client_logout(s_->native, cb, ud))

    // Messages (queued while (re)connecting); return the message's muid.
    CHINWAG_HPP_OP(std::string, chinwag_message, send_text,
                   CHINWAG_HPP_P(receiver_type type, const text& receiver, const text& body),
                   CHINWAG_HPP_P(type, receiver, body), checked(chinwag_client_send_text, raw(type), receiver, body, cb, ud, out))
    CHINWAG_HPP_OP(std::string, chinwag_message, send_custom,
                   CHINWAG_HPP_P(receiver_type type, const text& receiver, const text& custom_type, const text& data_json),
                   CHINWAG_HPP_P(type, receiver, custom_type, data_json),
                   checked(chinwag_client_send_custom, raw(type), receiver, custom_type, data_json, cb, ud, out))
    CHINWAG_HPP_OP(std::string, chinwag_message, send_message, CHINWAG_HPP_P(const text& message_json),
                   CHINWAG_HPP_P(message_json), checked(chinwag_client_send_message, message_json, cb, ud, out))
    // `caption` and `metadata_json` are nullable (nullptr / std::nullopt).
    CHINWAG_HPP_OP(std::string, chinwag_message, send_media,
                   CHINWAG_HPP_P(receiver_type type, const text& receiver, const text& media_type, const text& url,
                                 const text& caption, const text& metadata_json),
                   CHINWAG_HPP_P(type, receiver, media_type, url, caption, metadata_json),
                   checked(chinwag_client_send_media, raw(type), receiver, media_type, url, caption, metadata_json, cb, ud, out))
    // Each of `new_text`, `data_json`, `metadata_json` is nullable; at least one is needed.
    CHINWAG_HPP_OP(void, chinwag_message, edit_message,
                   CHINWAG_HPP_P(std::int64_t message_id, const text& new_text, const text& data_json, const text& metadata_json),
                   CHINWAG_HPP_P(message_id, new_text, data_json, metadata_json),
                   with_id(chinwag_client_edit_message, message_id, new_text, data_json, metadata_json, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_message, delete_message, CHINWAG_HPP_P(std::int64_t message_id),
                   CHINWAG_HPP_P(message_id), chinwag_client_delete_message(s_->native, message_id, cb, ud))

    // History and users.
    CHINWAG_HPP_OP(void, chinwag_message_page, fetch_previous, CHINWAG_HPP_P(const messages_request& request),
                   CHINWAG_HPP_P(request), chinwag_client_fetch_previous(s_->native, request.native_handle(), cb, ud))
    CHINWAG_HPP_OP(void, chinwag_message_page, fetch_next, CHINWAG_HPP_P(const messages_request& request),
                   CHINWAG_HPP_P(request), chinwag_client_fetch_next(s_->native, request.native_handle(), cb, ud))
    CHINWAG_HPP_OP(void, chinwag_user_page, fetch_users, CHINWAG_HPP_P(const users_request& request),
                   CHINWAG_HPP_P(request), chinwag_client_fetch_users(s_->native, request.native_handle(), cb, ud))
    CHINWAG_HPP_OP(void, chinwag_user, get_user, CHINWAG_HPP_P(const text& uid), CHINWAG_HPP_P(uid),
                   checked(chinwag_client_get_user, uid, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_user_page, add_friend, CHINWAG_HPP_P(const text& uid), CHINWAG_HPP_P(uid),
                   checked(chinwag_client_add_friend, uid, cb, ud))
    CHINWAG_HPP_OP(void, void, remove_friend, CHINWAG_HPP_P(const text& uid), CHINWAG_HPP_P(uid),
                   checked(chinwag_client_remove_friend, uid, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_user_page, friends, , , chinwag_client_friends(s_->native, cb, ud))

    // Groups.
    CHINWAG_HPP_OP(void, chinwag_group, create_group, CHINWAG_HPP_P(const text& guid, const text& name, group_type type),
                   CHINWAG_HPP_P(guid, name, type),
                   checked(chinwag_client_create_group, guid, name, static_cast<chinwag_group_type>(type), cb, ud))
    CHINWAG_HPP_OP(void, chinwag_group, get_group, CHINWAG_HPP_P(const text& guid), CHINWAG_HPP_P(guid),
                   checked(chinwag_client_get_group, guid, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_group, join_group, CHINWAG_HPP_P(const text& guid), CHINWAG_HPP_P(guid),
                   checked(chinwag_client_join_group, guid, cb, ud))
    CHINWAG_HPP_OP(void, void, leave_group, CHINWAG_HPP_P(const text& guid), CHINWAG_HPP_P(guid),
                   checked(chinwag_client_leave_group, guid, cb, ud))
    // `after`: nullable cursor (a previous page's next_after); `limit` 1-100, 0 means 30.
    CHINWAG_HPP_OP(void, chinwag_group_page, list_groups, CHINWAG_HPP_P(bool joined, const text& after, std::uint32_t limit),
                   CHINWAG_HPP_P(joined, after, limit), with_after(joined, after, limit, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_member_list, group_members, CHINWAG_HPP_P(const text& guid), CHINWAG_HPP_P(guid),
                   checked(chinwag_client_group_members, guid, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_member_list, add_group_members,
                   CHINWAG_HPP_P(const text& guid, const std::vector<new_member>& members),
                   CHINWAG_HPP_P(guid, members), add_members(guid, members, cb, ud))
    CHINWAG_HPP_OP(void, void, kick_group_member, CHINWAG_HPP_P(const text& guid, const text& uid),
                   CHINWAG_HPP_P(guid, uid), checked(chinwag_client_kick_group_member, guid, uid, cb, ud))
    CHINWAG_HPP_OP(void, void, ban_group_member, CHINWAG_HPP_P(const text& guid, const text& uid),
                   CHINWAG_HPP_P(guid, uid), checked(chinwag_client_ban_group_member, guid, uid, cb, ud))
    CHINWAG_HPP_OP(void, void, unban_group_member, CHINWAG_HPP_P(const text& guid, const text& uid),
                   CHINWAG_HPP_P(guid, uid), checked(chinwag_client_unban_group_member, guid, uid, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_group_member, change_group_member_scope,
                   CHINWAG_HPP_P(const text& guid, const text& uid, chinwag::scope new_scope),
                   CHINWAG_HPP_P(guid, uid, new_scope),
                   checked(chinwag_client_change_group_member_scope, guid, uid, static_cast<chinwag_scope>(new_scope), cb, ud))

    // Calls (signalling only); initiate_call returns the call's session id.
    CHINWAG_HPP_OP(std::string, chinwag_call, initiate_call,
                   CHINWAG_HPP_P(receiver_type type, const text& receiver, call_type media),
                   CHINWAG_HPP_P(type, receiver, media),
                   checked(chinwag_client_initiate_call, raw(type), receiver, static_cast<chinwag_call_type>(media), cb, ud, out))
    CHINWAG_HPP_OP(void, chinwag_call, accept_call, CHINWAG_HPP_P(const text& session_id), CHINWAG_HPP_P(session_id),
                   checked(chinwag_client_accept_call, session_id, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_call, reject_call, CHINWAG_HPP_P(const text& session_id, bool busy),
                   CHINWAG_HPP_P(session_id, busy), checked(chinwag_client_reject_call, session_id, busy, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_call, cancel_call, CHINWAG_HPP_P(const text& session_id), CHINWAG_HPP_P(session_id),
                   checked(chinwag_client_cancel_call, session_id, cb, ud))
    CHINWAG_HPP_OP(void, chinwag_call, end_call, CHINWAG_HPP_P(const text& session_id), CHINWAG_HPP_P(session_id),
                   checked(chinwag_client_end_call, session_id, cb, ud))
#undef CHINWAG_HPP_P
#undef CHINWAG_HPP_OP

  private:
    std::shared_ptr<detail::client_state> s_;

    static chinwag_receiver_type raw(receiver_type t) noexcept { return static_cast<chinwag_receiver_type>(t); }
    static const char* c(const text& t) noexcept { return t.c_str(); }
    template <class T>
    static T&& c(T&& v) noexcept {
        return std::forward<T>(v);
    }
    template <class T>
    static bool nul(const T&) noexcept {
        return false;
    }
    static bool nul(const text& t) noexcept { return t.has_nul(); }

    // Calls `fn(native, args...)` with text arguments as C strings, after checking them.
    template <class F, class... A>
    chinwag_result checked(F fn, const A&... args) const noexcept {
        if ((nul(args) || ...)) return detail::check_text(text(std::string_view("\0", 1)));
        return fn(s_->native, c(args)...);
    }
    template <class F, class... A>
    chinwag_result with_id(F fn, std::int64_t id, const A&... args) const noexcept {
        if ((nul(args) || ...)) return detail::check_text(text(std::string_view("\0", 1)));
        return fn(s_->native, id, c(args)...);
    }
    chinwag_result with_after(bool joined, const text& after, std::uint32_t limit, chinwag_group_page_done_cb cb,
                              void* ud) const noexcept {
        chinwag_result rc = detail::check_text(after);
        return rc ? rc : chinwag_client_list_groups(s_->native, joined, after.c_str(), limit, cb, ud);
    }
    chinwag_result add_members(const text& guid, const std::vector<new_member>& members,
                               chinwag_member_list_done_cb cb, void* ud) const {
        std::vector<const char*> uids;
        std::vector<chinwag_scope> scopes;
        for (const new_member& m : members) {
            if (m.uid.find('\0') != std::string::npos) return detail::check_text(text(m.uid));
            uids.push_back(m.uid.c_str());
            scopes.push_back(static_cast<chinwag_scope>(m.scope));
        }
        chinwag_result rc = detail::check_text(guid);
        return rc ? rc
                  : chinwag_client_add_group_members(s_->native, guid.c_str(), uids.data(), scopes.data(),
                                                     members.size(), cb, ud);
    }

    // Runs a synchronous C call `f()` (returning a chinwag_result) and records its failure.
    template <class F>
    void sync(std::error_code& ec, F&& f) const noexcept {
        ec.clear();
        if (!s_) {
            detail::fail_local(ec, result::client_freed, "this chinwag::client was moved from");
            return;
        }
        chinwag_result rc = f();
        if (rc != CHINWAG_RESULT_OK) detail::fail_c(ec, rc);
    }

#if CHINWAG_HPP_EXCEPTIONS
    template <class F>
    static auto throwing(F&& f) -> decltype(f(std::declval<std::error_code&>())) {
        std::error_code ec;
        if constexpr (std::is_void_v<decltype(f(ec))>) {
            f(ec);
            detail::throw_if(ec);
        } else {
            auto r = f(ec);
            detail::throw_if(ec);
            return r;
        }
    }
#endif

    // Starts an operation: `call(trampoline, user_data, &out)` with a completion that owns
    // `done` (none when empty); returns the string the call handed out, if RET is one.
    template <class C, class RET, class Call>
    RET start(on_done<typename detail::payload<C>::view> done, std::error_code& ec, Call&& call) noexcept {
        return detail::guarded(ec, [&]() -> RET {
            if (!s_) {
                detail::fail_local(ec, result::client_freed, "this chinwag::client was moved from");
                return RET();
            }
            using box = detail::completion<C>;
            std::unique_ptr<box> b;
            if (done) b.reset(new box{s_, std::move(done)});
            char* out = nullptr;
            typename detail::c_callback<C>::type cb = b ? &box::trampoline : nullptr;
            chinwag_result rc = call(cb, static_cast<void*>(b.get()), &out);
            if (rc != CHINWAG_RESULT_OK) {
                detail::fail_c(ec, rc);  // the completion never runs: `b` frees it
                return RET();
            }
            b.release();  // the completion frees itself when it runs (exactly once)
            if constexpr (std::is_same_v<RET, std::string>) return detail::take_string(out);
        });
    }

#if CHINWAG_HPP_EXCEPTIONS
    template <class C, class Call>
    future<typename detail::payload<C>::owned_type> start_future(Call&& call) {
        using T = typename detail::payload<C>::owned_type;
        using V = typename detail::payload<C>::view;
        auto promise = std::make_shared<std::promise<T>>();
        future<T> f(promise->get_future());
        std::error_code ec;
        start<C, void>(
            [promise](outcome<V> r) {
                try {
                    if (!r) throw r.error().to_owned();
                    if constexpr (std::is_void_v<T>)
                        promise->set_value();
                    else
                        promise->set_value(detail::to_owned(r.value()));
                } catch (...) {
                    promise->set_exception(std::current_exception());
                }
            },
            ec, [&](auto cb, void* ud, char** out) {
                chinwag_result rc = call(cb, ud, out);
                if (rc == CHINWAG_RESULT_OK && out != nullptr) chinwag_string_free(*out);
                return rc;
            });
        detail::throw_if(ec);
        return f;
    }
#endif

    static client make(const text& app_id, settings& s, std::error_code& ec);
    template <class L>
    listener_handle add_listener_(const std::string& id, L listener, std::error_code& ec);

    void free() noexcept {
        if (!s_) return;
        std::shared_ptr<detail::client_state> s = std::move(s_);
        {
            std::unique_lock<std::mutex> g(s->mutex);
            s->alive = false;
            // Handles removing a listener finish first (their call uses the handle), unless
            // this runs inside a callback of this client: free is then deferred by the
            // library, and a remove may be waiting for this very callback.
            if (detail::current_client() != s.get()) s->idle.wait(g, [&] { return s->removing == 0; });
        }
        chinwag_client_free(s->native);
    }
};

namespace detail {

// The C side of the settings, with storage for the initial listeners.
struct initial_c {
    std::vector<std::variant<chinwag_connection_listener, chinwag_login_listener, chinwag_message_listener,
                             chinwag_user_listener, chinwag_group_listener, chinwag_call_listener,
                             chinwag_log_listener>>
        structs;
    std::vector<chinwag_initial_listener> entries;
    std::vector<const chinwag_initial_listener*> pointers;
    std::vector<std::function<void()>> undo;  // frees the registrations if init fails
};

struct log_box {
    std::shared_ptr<client_state> state;
    std::function<void(const log_record_view&)> fn;
    static void on_log(void* ud, const chinwag_log_record* r) noexcept {
        auto* self = static_cast<log_box*>(ud);
        run_callback(self->state.get(), "settings.log", [&] { self->fn(log_record_view(*r)); });
    }
    static void release(void* ud) noexcept { delete static_cast<log_box*>(ud); }
};

struct store_box {
    std::shared_ptr<client_state> state;
    session_store store;
    static chinwag_result load(void* ud, chinwag_store_reply* reply) noexcept {
        auto* self = static_cast<store_box*>(ud);
        chinwag_result set = CHINWAG_RESULT_OK;
        chinwag_result rc = run_callback(
            self->state.get(), "session_store.load",
            [&] {
                std::optional<std::string> json = self->store.load();
                if (json) set = chinwag_store_reply_set(reply, json->c_str());
            },
            CHINWAG_RESULT_STORAGE);
        return rc ? rc : set;
    }
    static chinwag_result save(void* ud, const char* json, bool durable) noexcept {
        auto* self = static_cast<store_box*>(ud);
        return run_callback(
            self->state.get(), "session_store.save", [&] { self->store.save(sv(json), durable); },
            CHINWAG_RESULT_STORAGE);
    }
    static chinwag_result clear(void* ud) noexcept {
        auto* self = static_cast<store_box*>(ud);
        return run_callback(
            self->state.get(), "session_store.clear", [&] { self->store.clear(); }, CHINWAG_RESULT_STORAGE);
    }
    static void release(void* ud) noexcept { delete static_cast<store_box*>(ud); }
};
}  // namespace detail

inline client client::make(const text& app_id, settings& s, std::error_code& ec) {
    client out;
    if (chinwag_abi_version() != CHINWAG_ABI_VERSION) {
        detail::fail_local(ec, result::internal, "libchinwag's ABI version differs from chinwag.h's");
        return out;
    }
    chinwag_result rc = detail::check_text(app_id);
    if (rc != CHINWAG_RESULT_OK) {
        detail::fail_c(ec, rc);
        return out;
    }
    auto state = std::make_shared<detail::client_state>();
    state->mode = s.dispatch_mode;
    if (s.on_callback_exception)
        state->on_exception = std::make_shared<const exception_handler>(std::move(s.on_callback_exception));

    chinwag_settings c{};
    c.struct_size = sizeof c;
    c.server_url = s.server_url.c_str();
    c.connect_mode = static_cast<chinwag_connect_mode>(s.connect_mode);
    c.presence = static_cast<chinwag_presence_mode>(s.presence);
    c.presence_roles = s.presence_roles.empty() ? nullptr : s.presence_roles.c_str();
    c.data_dir = s.data_dir ? s.data_dir->c_str() : nullptr;
    c.extra_ca_pem = s.extra_ca_pem.empty() ? nullptr : reinterpret_cast<const std::uint8_t*>(s.extra_ca_pem.data());
    c.extra_ca_pem_len = s.extra_ca_pem.size();
    auto ms = [](std::chrono::milliseconds d) {
        return static_cast<std::uint32_t>(d.count() < 0 ? 0 : d.count() > 0xffffffffLL ? 0xffffffffLL : d.count());
    };
    c.connect_timeout_ms = ms(s.connect_timeout);
    c.first_retry_max_ms = ms(s.first_retry_max);
    c.backoff_base_ms = ms(s.backoff_base);
    c.backoff_cap_ms = ms(s.backoff_cap);
    c.stable_after_ms = ms(s.stable_after);
    c.suspend_after_ms = ms(s.suspend_after);
    c.suspended_retry_min_ms = ms(s.suspended_retry_min);
    c.suspended_retry_max_ms = ms(s.suspended_retry_max);
    c.heartbeat_grace_ms = ms(s.heartbeat_grace);
    c.typing_timeout_ms = ms(s.typing_timeout);
    c.probe_timeout_ms = ms(s.probe_timeout);
    c.background_grace_ms = ms(s.background_grace);
    c.hint_coalesce_ms = ms(s.hint_coalesce);
    c.queue_capacity = s.queue_capacity;
    c.dispatch_mode = static_cast<chinwag_dispatch_mode>(s.dispatch_mode);
    c.listener_grace_ms = ms(s.listener_grace);

    // Every owned box is held here until init succeeds; on failure no user_data_free runs,
    // so they are freed here.
    std::unique_ptr<detail::log_box> log;
    if (s.log) {
        log.reset(new detail::log_box{state, std::move(s.log)});
        c.log = &detail::log_box::on_log;
        c.log_user_data = log.get();
        c.log_user_data_free = &detail::log_box::release;
    }
    std::unique_ptr<detail::store_box> store;
    chinwag_session_store cstore{};
    if (s.store) {
        store.reset(new detail::store_box{state, std::move(*s.store)});
        cstore.struct_size = sizeof cstore;
        cstore.load = &detail::store_box::load;
        cstore.save = &detail::store_box::save;
        cstore.clear = &detail::store_box::clear;
        cstore.user_data = store.get();
        cstore.user_data_free = &detail::store_box::release;
        c.session_store = &cstore;
    }
    detail::initial_c init;
    init.structs.reserve(s.listeners.size());
    init.entries.reserve(s.listeners.size());
    std::vector<std::unique_ptr<void, void (*)(void*)>> regs;
    for (initial_listener& il : s.listeners) {
        if (il.id.find('\0') != std::string::npos) {
            detail::fail_local(ec, result::invalid_argument, "a listener id contains a NUL byte");
            return out;
        }
        std::visit(
            [&](auto& l) {
                using L = std::decay_t<decltype(l)>;
                using R = detail::registration<L>;
                std::uint64_t serial = state->next_serial++;
                state->current[{detail::listener_traits<L>::kind, il.id}] = serial;
                R* r = new R{state, il.id, serial, std::move(l)};
                regs.emplace_back(r, [](void* p) { delete static_cast<R*>(p); });
                init.structs.emplace_back(detail::to_c(r->listener));
                chinwag_initial_listener e{};
                e.struct_size = sizeof e;
                e.kind = detail::listener_traits<L>::kind;
                e.id = r->id.c_str();
                e.listener = &std::get<typename detail::listener_traits<L>::c_type>(init.structs.back());
                e.user_data = r;
                e.user_data_free = &R::release;
                init.entries.push_back(e);
            },
            il.listener);
    }
    for (const chinwag_initial_listener& e : init.entries) init.pointers.push_back(&e);
    c.listeners = init.pointers.empty() ? nullptr : init.pointers.data();
    c.listeners_len = init.pointers.size();

    chinwag_client* native = nullptr;
    rc = chinwag_client_init(app_id.c_str(), &c, &native);
    if (rc != CHINWAG_RESULT_OK) {
        detail::fail_c(ec, rc);
        return out;  // `log`, `store` and `regs` free the boxes
    }
    log.release();
    store.release();
    for (auto& r : regs) r.release();
    state->native = native;
    out.s_ = std::move(state);
    return out;
}

template <class L>
listener_handle client::add_listener_(const std::string& id, L listener, std::error_code& ec) {
    using traits = detail::listener_traits<L>;
    using R = detail::registration<L>;
    if (!s_) {
        detail::fail_local(ec, result::client_freed, "this chinwag::client was moved from");
        return {};
    }
    if (id.find('\0') != std::string::npos) {
        detail::fail_local(ec, result::invalid_argument, "a listener id contains a NUL byte");
        return {};
    }
    std::unique_ptr<R> r(new R{s_, id, 0, std::move(listener)});
    typename traits::c_type c = detail::to_c(r->listener);
    std::pair<chinwag_listener_kind, std::string> key{traits::kind, id};
    std::optional<std::uint64_t> previous;
    {
        // Recorded before the call: the listener can run (and be replaced) before it returns.
        std::lock_guard<std::mutex> g(s_->mutex);
        r->serial = s_->next_serial++;
        auto it = s_->current.find(key);
        if (it != s_->current.end()) previous = it->second;
        s_->current[key] = r->serial;
    }
    chinwag_result rc = traits::add(s_->native, id.c_str(), &c, r.get(), &R::release);
    if (rc != CHINWAG_RESULT_OK) {
        std::lock_guard<std::mutex> g(s_->mutex);
        auto it = s_->current.find(key);
        if (it != s_->current.end() && it->second == r->serial) {
            if (previous)
                it->second = *previous;
            else
                s_->current.erase(it);
        }
        detail::fail_c(ec, rc);
        return {};
    }
    std::uint64_t serial = r->serial;
    r.release();  // the library owns it now; R::release frees it
    return listener_handle(s_, static_cast<listener_kind>(traits::kind), id, serial);
}

}  // namespace chinwag

#endif  // CHINWAG_HPP
