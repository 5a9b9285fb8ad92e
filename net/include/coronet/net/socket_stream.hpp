#pragma once

#include <coronet/net/stream_ops.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/io_context.hpp>

#include <cstddef>
#include <span>

namespace coronet::net {

namespace detail {
/// The I/O context of sockets not yet opened (default-constructed ones).
inline asio::io_context& unbound_context() {
    static asio::io_context unbound;
    return unbound;
}
}  // namespace detail

/// A connected stream socket of an Asio protocol (`asio::ip::tcp`,
/// `asio::local::stream_protocol`): the common part of `tcp::stream` and
/// `local::stream`, which add their protocol's options. Reading and writing
/// (recv, send, send_all, recv_exactly, send_msg, recv_msg) come from
/// `stream_ops`.
///
/// Every operation goes through the shard's I/O dispatcher: the system call is
/// tried first while such attempts succeed (per socket and direction), and the
/// coroutine waits in the event loop only when it would block.
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (ECONNRESET, EPIPE, ...; ECANCELED when the stream is closed under a
/// waiting operation). Cancellation: terminating the coroutine, or closing the
/// stream, ends the operation it waits on. Thread safety: a stream belongs to
/// the shard that made it; use it from coroutines of that shard only. One
/// reader and one writer may work at once.
///
///     auto s = co_await coronet::tcp::connect("127.0.0.1", 7000);
///     co_await s.send_all("ping");
///     std::string reply = co_await s.recv_some(4096);
///     s.shutdown_send();   // the peer reads end of stream
template <class Protocol>
class socket_stream : public stream_ops<socket_stream<Protocol>> {
public:
    using protocol_type = Protocol;
    using socket_type = typename Protocol::socket;
    using endpoint = typename Protocol::endpoint;

    socket_stream() = default;
    /// Adopts a connected socket of the calling shard's I/O context (made
    /// non-blocking here).
    explicit socket_stream(socket_type socket);
    socket_stream(socket_stream&&) noexcept = default;
    socket_stream& operator=(socket_stream&&) noexcept = default;

    bool is_open() const noexcept { return socket_.is_open(); }

    /// Half-close: no more sends (the peer reads end of stream); receiving goes on.
    void shutdown_send();
    /// No more receives; data that arrives later is discarded.
    void shutdown_receive();
    /// Closes the stream (graceful: queued data is still delivered). An
    /// operation waiting on it ends with ECANCELED. Idempotent.
    void close() noexcept;

    void set_receive_buffer_size(int bytes);
    void set_send_buffer_size(int bytes);

    endpoint local_endpoint() const { return socket_.local_endpoint(); }
    endpoint remote_endpoint() const { return socket_.remote_endpoint(); }
    int native_handle() noexcept { return socket_.native_handle(); }
    /// The Asio socket, for what this class does not wrap.
    socket_type& asio_socket() noexcept { return socket_; }

private:
    friend class stream_ops<socket_stream>;
    // The primitives of stream_ops: one system call each, through the dispatcher.
    task<std::size_t> read_some(std::span<std::byte> buffer);
    task<std::size_t> write_some(std::span<const std::byte> data);

    socket_type socket_{detail::unbound_context()};
    coronet::detail::speculation read_spec_;
    coronet::detail::speculation write_spec_;
    std::uint64_t sent_in_ = ~std::uint64_t{0};  ///< see detail::transfer
};

}  // namespace coronet::net
