#pragma once

#include <coronet/net/datagram_socket.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

#include <cstdint>
#include <string>

namespace coronet::net::udp {

using endpoint = asio::ip::udp::endpoint;

/// A UDP socket: `datagram_socket` (send_to, recv_from, connect, send, recv,
/// close, buffer sizes, endpoints) plus UDP's own options. Every operation
/// goes through the shard's I/O dispatcher (io_op::datagram_send,
/// io_op::datagram_recv).
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (ECONNREFUSED on a connected socket after the peer's port answered with
/// ICMP unreachable; EMSGSIZE over 65,507 bytes). Datagrams may be lost,
/// duplicated or reordered: UDP promises nothing. Cancellation: terminating
/// the coroutine, or closing the socket, ends the operation it waits on.
/// Thread safety: a socket belongs to the shard that made it.
///
///     auto s = coronet::udp::bind("127.0.0.1", 0);
///     co_await s.send_to("ping", server);
///     auto reply = co_await s.recv_from();   // reply.data, reply.from
class socket : public datagram_socket<asio::ip::udp> {
public:
    using datagram_socket::datagram_socket;

    /// SO_BROADCAST: allow sending to a broadcast address.
    void set_broadcast(bool on);
};

/// Options of `bind`.
struct bind_options {
    bool reuse_address = false;
    /// Let several sockets (one per shard, say) share the port.
    bool reuse_port = false;
};

/// A socket bound to `host`:`port`, a numeric address (port 0: the system
/// picks one; see `local_endpoint()`). Synchronous: binding does not block.
/// From a coroutine; the socket belongs to its shard.
///
/// Errors: `std::system_error` (address in use, bad address).
///
///     auto server = coronet::udp::bind("127.0.0.1", 9000);
socket bind(const std::string& host, std::uint16_t port, const bind_options& options = {});

/// An unbound socket of `protocol` (the system binds it at its first send).
/// From a coroutine; the socket belongs to its shard.
socket open(asio::ip::udp protocol = asio::ip::udp::v4());

/// A socket connected to `host`:`port`, resolving a name through the
/// dispatcher (a blocking call, io_op::resolve); the first address is used.
///
/// Errors: `std::system_error` (a resolution error, or the connect's).
/// Cancellation: terminating the coroutine ends a resolution offloaded to
/// the blocking pool. From a coroutine; the socket belongs to its shard.
///
///     auto s = co_await coronet::udp::connect("localhost", 9000);
///     co_await s.send("ping");
[[nodiscard]] task<socket> connect(std::string host, std::uint16_t port);

}  // namespace coronet::net::udp

namespace coronet {
/// Shorthand: `coronet::udp::bind(...)`.
namespace udp = net::udp;
}  // namespace coronet
