#pragma once

#include <coronet/net/socket_stream.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace coronet::net {

/// The largest payload of one UDP datagram over IPv4, the default size of a
/// datagram received into a string.
inline constexpr std::size_t max_datagram = 65507;

/// A datagram socket of an Asio protocol (`asio::ip::udp`,
/// `asio::local::datagram_protocol`): the common part of `udp::socket` and
/// `local::datagram_socket`. Unconnected, it sends to and receives from any
/// peer (`send_to`, `recv_from`); connected to one peer (`connect`), it can
/// use `send` and `recv`, and receives from that peer only.
///
/// Every operation goes through the shard's I/O dispatcher
/// (io_op::datagram_send, io_op::datagram_recv): the system call is tried
/// first while such attempts succeed, and the coroutine waits in the event
/// loop only when it would block.
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (ECONNREFUSED on a connected socket whose peer is not listening; EMSGSIZE
/// for a datagram too large; ECANCELED when the socket is closed under a
/// waiting operation). A datagram longer than the buffer is truncated and
/// says so (`truncated`). Cancellation: terminating the coroutine, or closing
/// the socket, ends the operation it waits on; a datagram is sent whole or
/// not at all. Thread safety: a socket belongs to the shard that made it; use
/// it from coroutines of that shard only. One reader and one writer may work
/// at once.
///
///     auto s = coronet::udp::bind("127.0.0.1", 0);
///     auto d = co_await s.recv_from();             // a string and its sender
///     co_await s.send_to(d.data, d.from);          // echo it back
template <class Protocol>
class datagram_socket {
public:
    using protocol_type = Protocol;
    using socket_type = typename Protocol::socket;
    using endpoint = typename Protocol::endpoint;

    /// What `recv_from` into a buffer got.
    struct received {
        std::size_t size = 0;    ///< bytes stored in the buffer
        endpoint from;           ///< the sender (empty for an unnamed Unix socket)
        bool truncated = false;  ///< the datagram was longer than the buffer
    };

    /// One datagram received into a string.
    struct datagram {
        std::string data;
        endpoint from;
    };

    datagram_socket() = default;
    /// Adopts an open socket of the calling shard's I/O context (made
    /// non-blocking here).
    explicit datagram_socket(socket_type socket);
    datagram_socket(datagram_socket&&) noexcept = default;
    datagram_socket& operator=(datagram_socket&&) noexcept = default;

    bool is_open() const noexcept { return socket_.is_open(); }

    /// Sends `data` as one datagram to `to`; its size.
    [[nodiscard]] task<std::size_t> send_to(std::span<const std::byte> data, const endpoint& to);
    [[nodiscard]] task<std::size_t> send_to(std::string_view data, const endpoint& to);
    /// Receives one datagram into `buffer` (the rest of a longer one is lost).
    [[nodiscard]] task<received> recv_from(std::span<std::byte> buffer);
    /// Receives one datagram of at most `max` bytes into a string.
    [[nodiscard]] task<datagram> recv_from(std::size_t max = max_datagram);

    /// Sets the only peer: `send` goes to it and only its datagrams are
    /// received. Synchronous (nothing to wait for). Errors: `std::system_error`.
    void connect(const endpoint& peer);
    /// Sends `data` as one datagram to the connected peer; its size.
    [[nodiscard]] task<std::size_t> send(std::span<const std::byte> data);
    [[nodiscard]] task<std::size_t> send(std::string_view data);
    /// Receives one datagram from the connected peer into `buffer`; its size
    /// (at most `buffer.size()`: the rest of a longer datagram is lost).
    [[nodiscard]] task<std::size_t> recv(std::span<std::byte> buffer);
    /// Receives one datagram of at most `max` bytes into a string.
    [[nodiscard]] task<std::string> recv(std::size_t max = max_datagram);

    /// Closes the socket; an operation waiting on it ends with ECANCELED. Idempotent.
    void close() noexcept;

    void set_receive_buffer_size(int bytes);
    void set_send_buffer_size(int bytes);

    endpoint local_endpoint() const { return socket_.local_endpoint(); }
    endpoint remote_endpoint() const { return socket_.remote_endpoint(); }
    int native_handle() noexcept { return socket_.native_handle(); }
    /// The Asio socket, for what this class does not wrap.
    socket_type& asio_socket() noexcept { return socket_; }

private:
    socket_type socket_{detail::unbound_context()};
    coronet::detail::speculation read_spec_;
    coronet::detail::speculation write_spec_;
};

}  // namespace coronet::net
