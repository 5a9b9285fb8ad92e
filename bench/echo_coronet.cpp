// coronet's echo server: one shard, a coroutine per connection on
// tcp::stream, the dispatcher in the mode the workload asks for.

#include "echo.hpp"

#include <coronet/net/tcp.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <system_error>

namespace coronet::bench {
namespace {

task<void> echo_session(net::tcp::stream s) {
    std::array<std::byte, 4 * echo_message_bytes> buffer;
    s.set_no_delay(true);
    try {
        while (std::size_t n = co_await s.recv(buffer))
            co_await s.send_all(std::span<const std::byte>(buffer).first(n));
    } catch (const std::system_error&) {
        // the client reset the connection
    }
}

task<void> echo_accept() {
    net::tcp::listener l = net::tcp::listen("127.0.0.1", 0);
    std::printf("%u\n", static_cast<unsigned>(l.port()));
    std::fflush(stdout);
    for (;;) coronet::spawn(echo_session, co_await l.accept()).detach();
}

io_mode mode_of(echo_server server) {
    switch (server) {
        case echo_server::coronet_always_sync:
            return io_mode::always_sync;
        case echo_server::coronet_always_async:
            return io_mode::always_async;
        default:
            return io_mode::adaptive;
    }
}

}  // namespace

void serve_echo_coronet(echo_server server) {
    runtime_options o;
    o.shards = 1;
    o.io = mode_of(server);
    runtime rt(o);
    rt.spawn_on(0, echo_accept).detach();
    rt.run();
    std::exit(3);
}

}  // namespace coronet::bench
