#pragma once

#include <coronet/net/socket_listener.hpp>
#include <coronet/net/socket_stream.hpp>
#include <coronet/net/stream_ops.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace coronet::net::tcp {

using endpoint = asio::ip::tcp::endpoint;
using net::default_max_message;

/// A connected TCP stream: `stream_ops` (recv, send, send_all, recv_exactly,
/// send_msg, recv_msg) and `socket_stream` (shutdown, close, buffer sizes,
/// endpoints), plus TCP's own options. Every operation goes through
/// the shard's I/O dispatcher: the system call is tried first while such
/// attempts succeed, and the coroutine waits in the event loop only when it
/// would block.
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (ECONNRESET when the peer resets; `errc::end_of_stream` when it closed
/// before enough data came). Cancellation: terminating the coroutine, or
/// closing the stream, ends the operation it waits on; a partly sent
/// `send_all` leaves the stream mid-message (close it). Thread safety: a
/// stream belongs to the shard that made it; use it from coroutines of that
/// shard only. One reader and one writer may work at once.
///
///     auto s = co_await coronet::tcp::connect("127.0.0.1", 7000);
///     s.set_no_delay(true);
///     co_await s.send_msg("ping");
///     std::string reply = co_await s.recv_msg();
class stream : public socket_stream<asio::ip::tcp> {
public:
    using socket_stream::socket_stream;

    /// TCP_NODELAY: send small segments at once instead of coalescing them.
    void set_no_delay(bool on);
    /// SO_KEEPALIVE: probe an idle connection to detect a dead peer.
    void set_keep_alive(bool on);
    /// Close with a reset (RST) rather than an orderly shutdown.
    void set_linger_reset();
};

/// Connects to `host`:`port`, resolving a name through the dispatcher (a
/// blocking call, io_op::resolve; a numeric address needs none) and trying
/// each address in turn, for at most `timeout` in all.
///
/// Errors: `std::system_error` (the last address's error, a resolution error,
/// or `errc::timed_out`). Cancellation: terminating the coroutine ends the
/// attempt. From a coroutine; the stream belongs to its shard.
///
///     auto s = co_await coronet::net::tcp::connect("localhost", 8080, 5s);
[[nodiscard]] task<stream> connect(
    std::string host, std::uint16_t port,
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30));
/// Connects to `to`, for at most `timeout`.
[[nodiscard]] task<stream> connect(
    endpoint to, std::chrono::steady_clock::duration timeout = std::chrono::seconds(30));

/// Options of a listening socket.
struct listen_options {
    int backlog = 1024;
    bool reuse_address = true;
    /// Let several listeners (one per shard) share the port.
    bool reuse_port = false;
};

/// A listening TCP socket (see `socket_listener`: accept, close).
///
/// Thread safety: it belongs to the shard that made it.
///
///     auto l = coronet::tcp::listen("127.0.0.1", 0);
///     std::uint16_t port = l.port();
///     for (;;) coronet::spawn(serve, co_await l.accept());
class listener : public socket_listener<stream> {
public:
    using socket_listener::socket_listener;

    /// The port it listens on (the one the system chose for port 0).
    std::uint16_t port() const noexcept { return local_endpoint().port(); }
};

/// Listens on `host`:`port` (port 0: the system picks one; see listener::port).
/// Synchronous: binding does not block. From a coroutine; the listener
/// belongs to its shard.
///
/// Errors: `std::system_error` (address in use, bad address).
listener listen(const std::string& host, std::uint16_t port, const listen_options& options = {});

}  // namespace coronet::net::tcp

namespace coronet {
/// Shorthand: `coronet::tcp::connect(...)`.
namespace tcp = net::tcp;
}  // namespace coronet
