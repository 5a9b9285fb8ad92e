#pragma once

#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace coronet::net::tcp {

using endpoint = asio::ip::tcp::endpoint;

/// The default limit on one framed message (send_msg/recv_msg): 16 MiB.
inline constexpr std::size_t default_max_message = 16 * 1024 * 1024;

/// A connected TCP stream. Every operation goes through the shard's I/O
/// dispatcher: the system call is tried first while such attempts succeed,
/// and the coroutine waits in the event loop only when it would block.
///
/// Errors: awaited operations throw `std::system_error` with the OS error
/// (`errc::end_of_stream` when the peer closed before enough data came).
/// Cancellation: terminating the coroutine cancels the operation it waits on;
/// a partly sent `send_all` leaves the stream mid-message (close it).
/// Thread safety: a stream belongs to the shard that made it; use it from
/// coroutines of that shard only. One reader and one writer may work at once.
///
///     auto s = co_await coronet::net::tcp::connect("127.0.0.1", 7000);
///     co_await s.send_all("ping");
///     std::string reply = co_await s.recv_some(4096);
class stream {
public:
    stream() = default;
    /// Adopts a connected socket of the calling shard's I/O context.
    explicit stream(asio::ip::tcp::socket socket);
    stream(stream&&) noexcept = default;
    stream& operator=(stream&&) noexcept = default;
    ~stream();

    bool is_open() const noexcept { return socket_.is_open(); }

    /// Receives what is there (up to `buffer.size()` bytes), waiting for at
    /// least one; 0 once the peer has closed its side.
    [[nodiscard]] task<std::size_t> recv(std::span<std::byte> buffer);
    /// As recv, into a new string of at most `max` bytes; empty at end of stream.
    [[nodiscard]] task<std::string> recv_some(std::size_t max);
    /// Receives exactly `buffer.size()` bytes; `errc::end_of_stream` if the
    /// peer closes first.
    [[nodiscard]] task<void> recv_exactly(std::span<std::byte> buffer);

    /// Sends some of `data`, waiting for room if there is none; how much.
    [[nodiscard]] task<std::size_t> send(std::span<const std::byte> data);
    /// Sends all of `data`.
    [[nodiscard]] task<void> send_all(std::span<const std::byte> data);
    [[nodiscard]] task<void> send_all(std::string_view data);

    /// Sends one message framed by its length (4 bytes, big-endian).
    [[nodiscard]] task<void> send_msg(std::string_view payload);
    /// Receives one framed message. A length over `max` is refused with
    /// `errc::message_too_large` (the stream is then unusable: close it);
    /// `errc::end_of_stream` if the peer closes mid-message.
    [[nodiscard]] task<std::string> recv_msg(std::size_t max = default_max_message);

    /// Half-close: no more sends (the peer reads end of stream); receiving goes on.
    void shutdown_send();
    void shutdown_receive();
    /// Closes the stream; pending operations end with an error.
    void close() noexcept;

    void set_no_delay(bool on);
    void set_keep_alive(bool on);
    void set_receive_buffer_size(int bytes);
    void set_send_buffer_size(int bytes);
    /// Close with a reset (RST) rather than an orderly shutdown.
    void set_linger_reset();

    endpoint local_endpoint() const;
    endpoint remote_endpoint() const;
    int native_handle() noexcept { return socket_.native_handle(); }
    asio::ip::tcp::socket& socket() noexcept { return socket_; }

private:
    asio::ip::tcp::socket socket_{unbound_context()};
    coronet::detail::speculation read_spec_;
    coronet::detail::speculation write_spec_;

    friend class listener;
    static asio::io_context& unbound_context();  // of streams not yet connected
};

/// Connects to `host`:`port`, resolving the name through the dispatcher (a
/// blocking call) and trying each address in turn, for at most `timeout`.
///
/// Errors: `std::system_error` (the last address's error, a resolution error,
/// or `errc::timed_out`). From a coroutine; the stream belongs to its shard.
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

/// A listening TCP socket.
///
/// Thread safety: it belongs to the shard that made it.
///
///     auto l = coronet::net::tcp::listen("127.0.0.1", 0);
///     for (;;) coronet::spawn(serve, co_await l.accept());
class listener {
public:
    listener() = default;
    explicit listener(asio::ip::tcp::acceptor acceptor);
    listener(listener&&) noexcept = default;
    listener& operator=(listener&&) noexcept = default;

    /// Waits for the next connection.
    ///
    /// Errors: `std::system_error` (e.g. EMFILE when out of descriptors).
    /// Cancellation: terminating the coroutine ends the wait.
    [[nodiscard]] task<stream> accept();

    endpoint local_endpoint() const;
    std::uint16_t port() const { return local_endpoint().port(); }
    void close() noexcept;
    bool is_open() const noexcept { return acceptor_.is_open(); }

private:
    asio::ip::tcp::acceptor acceptor_{unbound_context()};
    coronet::detail::speculation spec_;

    static asio::io_context& unbound_context();
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
