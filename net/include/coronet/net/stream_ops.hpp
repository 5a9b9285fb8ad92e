#pragma once

#include <coronet/runtime/task.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace coronet::net {

/// The default limit on one framed message (send_msg/recv_msg): 16 MiB.
inline constexpr std::size_t default_max_message = 16 * 1024 * 1024;

/// What every byte stream of coronet offers on top of two primitives of the
/// derived class `Stream` (tcp::stream, local::stream, tls::stream), which
/// are private to it: `task<std::size_t> read_some(std::span<std::byte>)`
/// (0 at end of stream) and `task<std::size_t> write_some(std::span<const
/// std::byte>)`. So every stream reads and writes alike.
///
/// Which to choose: `recv`/`send` move what the transport takes at once;
/// `recv_exactly`/`send_all` loop until the whole buffer is done; `send_msg`/
/// `recv_msg` carry messages, each framed by its length (4 bytes, big-endian).
/// `recv_msg` reads ahead (up to 4 KiB) so that a small message costs one
/// system call, and the messages that came together cost one between them;
/// the other reads take what it read ahead first.
///
/// Errors: `std::system_error` with the OS error (ECONNRESET, EPIPE, ...);
/// `errc::end_of_stream` when the peer closes before a read is complete;
/// `errc::message_too_large` for a frame over the limit. Cancellation:
/// terminating the coroutine (or a `with_timeout` expiring) cancels the wait in
/// progress; a partly done `recv_exactly`, `send_all` or message leaves the
/// stream mid-message, so close it (`recv` and `recv_some` lose nothing).
/// Thread safety: a stream belongs to the shard that made it; one reader and
/// one writer may work at once.
///
///     co_await s.send_msg("hello");
///     std::string reply = co_await s.recv_msg();
///     std::array<std::byte, 8> header;
///     co_await s.recv_exactly(header);
template <class Stream>
class stream_ops {
public:
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
    /// Sends all of `data`, waiting for room as often as needed.
    [[nodiscard]] task<void> send_all(std::span<const std::byte> data);
    [[nodiscard]] task<void> send_all(std::string_view data);

    /// Sends one message framed by its length (4 bytes, big-endian). A payload
    /// of 4 GiB or more is refused with `errc::message_too_large`.
    [[nodiscard]] task<void> send_msg(std::string_view payload);
    /// Receives one framed message. A length over `max` is refused with
    /// `errc::message_too_large` before any of the payload is read (the stream
    /// is then mid-message: close it); `errc::end_of_stream` if the peer closes
    /// mid-message.
    [[nodiscard]] task<std::string> recv_msg(std::size_t max = default_max_message);

protected:
    stream_ops() = default;
    stream_ops(stream_ops&&) noexcept = default;
    stream_ops& operator=(stream_ops&&) noexcept = default;
    ~stream_ops() = default;

private:
    /// Bytes read ahead by recv_msg and not yet handed out.
    struct read_ahead {
        static constexpr std::size_t capacity = 4096;
        std::unique_ptr<std::byte[]> data;
        std::size_t begin = 0;
        std::size_t end = 0;
        std::size_t size() const noexcept { return end - begin; }
    };

    Stream& self() noexcept { return static_cast<Stream&>(*this); }
    /// Moves up to `out.size()` bytes read ahead into `out`; how many.
    std::size_t take_ahead(std::span<std::byte> out) noexcept;
    /// Reads ahead until at least `n` (<= capacity) bytes are held; false if
    /// the stream ended first.
    task<bool> read_ahead_until(std::size_t n);

    read_ahead ahead_;
};

}  // namespace coronet::net
