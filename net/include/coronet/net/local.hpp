#pragma once

/// Unix domain sockets ("local" sockets, as Asio names them: `unix` itself is
/// a macro in the GNU dialects of C++). A path that starts with '\0' names a
/// socket in Linux's abstract namespace, which has no file.

#include <coronet/net/datagram_socket.hpp>
#include <coronet/net/socket_listener.hpp>
#include <coronet/net/socket_stream.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/local/datagram_protocol.hpp>
#include <asio/local/stream_protocol.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace coronet::net::local {

using endpoint = asio::local::stream_protocol::endpoint;
using datagram_endpoint = asio::local::datagram_protocol::endpoint;

/// Who is at the other end of a Unix stream (SO_PEERCRED), as of its connect.
struct credentials {
    int pid = 0;
    unsigned uid = 0;
    unsigned gid = 0;
};

/// A connected Unix domain stream, with the same API as `tcp::stream`:
/// `stream_ops` (recv, send, send_all, recv_exactly, send_msg, recv_msg) and
/// `socket_stream` (shutdown, close, buffer sizes, endpoints). Every operation
/// goes through the shard's I/O dispatcher.
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (EPIPE, ECONNRESET; `errc::end_of_stream` when the peer closed before
/// enough data came). Cancellation: terminating the coroutine, or closing the
/// stream, ends the operation it waits on. Thread safety: a stream belongs to
/// the shard that made it. One reader and one writer may work at once.
///
///     auto s = co_await coronet::local::connect("/run/app.sock");
///     co_await s.send_msg("status");
///     std::string reply = co_await s.recv_msg();
class stream : public socket_stream<asio::local::stream_protocol> {
public:
    using socket_stream::socket_stream;

    /// The peer's process, user and group. Errors: `std::system_error`.
    credentials peer_credentials();
};

/// Options of `listen`.
struct listen_options {
    int backlog = 1024;
    /// Remove a socket file already at the path (left by a process that
    /// ended) before binding; a file that is not a socket is never removed.
    bool replace_existing = true;
};

/// A listening Unix domain socket (see `socket_listener`: accept). It removes
/// its socket file when it is closed or destroyed.
///
/// Thread safety: it belongs to the shard that made it.
///
///     auto l = coronet::local::listen("/tmp/app.sock");
///     for (;;) coronet::spawn(serve, co_await l.accept());
class listener : public socket_listener<stream> {
public:
    listener() = default;
    /// Adopts a listening acceptor of the calling shard's I/O context; when
    /// `remove_path`, the socket file at its path is removed on close.
    listener(acceptor_type acceptor, bool remove_path);
    listener(listener&& other) noexcept;
    listener& operator=(listener&& other) noexcept;
    ~listener();

    /// The path it listens on.
    std::string path() const { return local_endpoint().path(); }
    /// Stops listening (a waiting accept ends with ECANCELED) and removes the
    /// socket file. Idempotent.
    void close() noexcept;

private:
    bool remove_path_ = false;
};

/// Listens on `path`. Synchronous: binding does not block. From a coroutine;
/// the listener belongs to its shard.
///
/// Errors: `std::system_error` (EADDRINUSE for a file that is not a stale
/// socket, EACCES, a path too long for a socket address).
listener listen(const std::string& path, const listen_options& options = {});

/// Connects to the listener at `path`, for at most `timeout`. When the
/// listener's backlog is full the connect waits (polling, as no readiness
/// event announces room) until it has room or the time is up.
///
/// Errors: `std::system_error` (ENOENT: nothing there; ECONNREFUSED: nobody
/// listens; `errc::timed_out`). Cancellation: terminating the coroutine ends
/// the attempt. From a coroutine; the stream belongs to its shard.
///
///     auto s = co_await coronet::local::connect("/tmp/app.sock", 2s);
[[nodiscard]] task<stream> connect(
    std::string path, std::chrono::steady_clock::duration timeout = std::chrono::seconds(30));

/// Two streams connected to each other (socketpair). From a coroutine; both
/// belong to its shard. Errors: `std::system_error` (EMFILE).
std::pair<stream, stream> stream_pair();

/// A Unix domain datagram socket: `datagram_socket` over
/// `asio::local::datagram_protocol`. Datagrams between local sockets are
/// reliable and ordered; a send waits while the receiver's queue is full.
///
///     auto server = coronet::local::bind_datagram("/tmp/app.dgram");
///     auto d = co_await server.recv_from();
///     co_await server.send_to(d.data, d.from);   // if the sender bound a path
using datagram_socket = net::datagram_socket<asio::local::datagram_protocol>;

/// A datagram socket bound to `path` (a stale socket file there is replaced).
/// Synchronous. The socket file stays after the socket is closed: remove it
/// when done. Errors: `std::system_error`.
datagram_socket bind_datagram(const std::string& path);

/// An unbound datagram socket: it can send, and receive once connected.
datagram_socket open_datagram();

/// Two datagram sockets connected to each other (socketpair).
std::pair<datagram_socket, datagram_socket> datagram_pair();

}  // namespace coronet::net::local

namespace coronet {
/// Shorthand: `coronet::local::connect(...)`.
namespace local = net::local;
}  // namespace coronet
