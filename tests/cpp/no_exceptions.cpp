// The C++ API built with -fno-exceptions: only the std::error_code overloads exist. Checks
// that they report every failure through the error_code (category "chinwag", the C code as
// value, the message in chinwag::last_error_message()) and work end to end.
#include "common.hpp"

using chinwag::receiver_type;

#if CHINWAG_HPP_EXCEPTIONS
#error "build this test with -fno-exceptions"
#endif

int main(int argc, char** argv) {
    test::read_server(argc, argv);
    std::error_code ec;

    std::printf("no_exceptions: construction errors\n");
    chinwag::settings bad = test::settings();
    bad.server_url = "ftp://nowhere";
    chinwag::client nothing = chinwag::client::create("chinwag-app", bad, ec);
    CHECK(ec == chinwag::result::invalid_argument && !nothing);
    CHECK(ec.category() == chinwag::category() && std::string(ec.category().name()) == "chinwag");
    CHECK(ec.value() == CHINWAG_RESULT_INVALID_ARGUMENT && ec.message() == "INVALID_ARGUMENT");
    CHECK(!chinwag::last_error_message().empty());

    std::printf("no_exceptions: a session end to end\n");
    chinwag::settings s = test::settings(chinwag::connect_mode::manual);
    chinwag::client m = chinwag::client::create("chinwag-app", s, ec);
    CHECK(!ec && m);
    m.connect(ec);
    CHECK(ec == chinwag::result::not_logged_in);
    bool connected = false;
    int texts = 0;
    std::optional<chinwag::message> kept;
    chinwag::connection_listener cl;
    cl.on_connected = [&](const chinwag::state_change_view&) { test::note([&] { connected = true; }); };
    chinwag::listener_handle h1 = m.add_listener("watch", std::move(cl), ec);
    CHECK(!ec && h1.active());
    chinwag::message_listener ml;
    ml.on_text_message_received = [&](const chinwag::message_view& v) {
        std::error_code copy_ec;
        chinwag::message copy = chinwag::message::copy_of(v, copy_ec);
        CHECK(!copy_ec && copy.text() == v.text());
        test::note([&] {
            kept = std::move(copy);
            texts++;
        });
    };
    chinwag::listener_handle h2 = m.add_listener("texts", std::move(ml), ec);
    CHECK(!ec);
    m.add_listener("bad\0id", chinwag::message_listener{}, ec).release();
    CHECK(!ec);  // a C string literal ends at its NUL: the id is "bad"
    chinwag::listener_handle none = m.add_listener(std::string("bad\0id", 6), chinwag::message_listener{}, ec);
    CHECK(ec == chinwag::result::invalid_argument && !none.active());
    m.remove_listener(chinwag::listener_kind::message, "bad", ec);
    CHECK(!ec);

    int logged_in = 0;
    m.login("mallory", test::auth_key, [&](chinwag::outcome<chinwag::user_view> r) {
        CHECK(r && r->uid() == "mallory");
        test::note([&] { logged_in++; });
    }, ec);
    CHECK(!ec);
    WAIT_FOR(logged_in == 1);
    m.connect(ec);
    CHECK(!ec);
    WAIT_FOR(connected);
    CHECK(m.connection_status(ec) == chinwag::connection_state::connected && !ec);
    CHECK(m.logged_in_user(ec).find("mallory") != std::string::npos && !ec);
    chinwag::user typed = m.get_logged_in_user(ec);
    CHECK(!ec && !typed.empty() && typed.uid() == "mallory");
    m.create_user("bad uid!", nullptr, test::auth_key, {}, ec);  // malformed: refused at once
    CHECK(ec == chinwag::result::invalid_argument);
    int exists = 0;
    m.create_user("mallory", "Mallory", test::auth_key, [&](chinwag::outcome<chinwag::user_view> o) {
        test::note([&] { exists += !o && o.code() == chinwag::result::user_exists ? 1 : 100; });
    }, ec);
    CHECK(!ec);
    WAIT_FOR(exists == 1);

    chinwag::client n = chinwag::client::create("chinwag-app", test::settings(), ec);
    n.login("niaj", test::auth_key, [&](chinwag::outcome<chinwag::user_view> r) {
        test::note([&] { logged_in += r ? 1 : 100; });
    }, ec);
    CHECK(!ec);
    WAIT_FOR(logged_in == 2);
    int sent = 0;
    std::int64_t id = 0;
    std::string muid = n.send_text(receiver_type::user, "mallory", "no exceptions here",
                                   [&](chinwag::outcome<chinwag::message_view> r) {
                                       test::note([&] {
                                           if (r) id = r->id();
                                           sent++;
                                       });
                                   },
                                   ec);
    CHECK(!ec && !muid.empty());
    WAIT_FOR(sent == 1 && texts == 1);
    test::note([&] { CHECK(kept && kept->muid() == muid && kept->id() == id); });

    std::printf("no_exceptions: bad input through error codes\n");
    n.send_text(receiver_type::user, "mallory", std::string("a\0b", 3), {}, ec);
    CHECK(ec == chinwag::result::invalid_argument && chinwag::last_error_message().find("NUL") != std::string::npos);
    n.send_text(receiver_type::user, "", "x", {}, ec);
    CHECK(ec == chinwag::result::invalid_argument);
    n.mark_read(0, ec);
    CHECK(ec == chinwag::result::invalid_argument || ec == chinwag::result::not_connected);
    n.dispatch(0, ec);
    CHECK(ec == chinwag::result::invalid_argument);
    chinwag::messages_request r = chinwag::messages_request::create(receiver_type::group, "", {}, ec);
    CHECK(ec == chinwag::result::invalid_argument && r.native_handle() == nullptr);
    chinwag::client moved = std::move(n);
    n.connect(ec);
    CHECK(ec == chinwag::result::client_freed);

    int out = 0;
    moved.logout([&](chinwag::outcome<void> o) { test::note([&] { out += o ? 1 : 100; }); }, ec);
    m.logout([&](chinwag::outcome<void> o) { test::note([&] { out += o ? 1 : 100; }); }, ec);
    WAIT_FOR(out == 2);
    return test::finish("no_exceptions");
}
