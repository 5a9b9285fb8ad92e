#pragma once

// The definitions of stream_ops, instantiated explicitly by the source file of
// each stream type (tcp.cpp, local.cpp, tls.cpp).

#include <coronet/net/stream_ops.hpp>
#include <coronet/runtime/errc.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace coronet::net {

namespace detail {
inline task<std::size_t> ready_value(std::size_t n) {
    co_return n;
}
}  // namespace detail

template <class Stream>
std::size_t stream_ops<Stream>::take_ahead(std::span<std::byte> out) noexcept {
    std::size_t n = std::min(out.size(), ahead_.size());
    if (n == 0) return 0;
    std::memcpy(out.data(), ahead_.data.get() + ahead_.begin, n);
    ahead_.begin += n;
    if (ahead_.begin == ahead_.end) ahead_.begin = ahead_.end = 0;
    return n;
}

template <class Stream>
task<bool> stream_ops<Stream>::read_ahead_until(std::size_t n) {
    constexpr std::size_t capacity = read_ahead::capacity;
    if (!ahead_.data) ahead_.data.reset(new std::byte[capacity]);
    if (ahead_.begin + n > capacity) {
        std::memmove(ahead_.data.get(), ahead_.data.get() + ahead_.begin, ahead_.size());
        ahead_.end -= ahead_.begin;
        ahead_.begin = 0;
    }
    while (ahead_.size() < n) {
        std::size_t got = co_await self().read_some(
            std::span<std::byte>(ahead_.data.get() + ahead_.end, capacity - ahead_.end));
        if (got == 0) co_return false;
        ahead_.end += got;
    }
    co_return true;
}

template <class Stream>
task<std::size_t> stream_ops<Stream>::recv(std::span<std::byte> buffer) {
    // Not a coroutine: the common case costs no frame of its own.
    if (ahead_.size() == 0) return self().read_some(buffer);
    return detail::ready_value(take_ahead(buffer));
}

template <class Stream>
task<std::string> stream_ops<Stream>::recv_some(std::size_t max) {
    std::string out(max, '\0');
    std::size_t n = co_await recv(std::as_writable_bytes(std::span(out)));
    out.resize(n);
    co_return out;
}

template <class Stream>
task<void> stream_ops<Stream>::recv_exactly(std::span<std::byte> buffer) {
    buffer = buffer.subspan(take_ahead(buffer));
    while (!buffer.empty()) {
        std::size_t n = co_await self().read_some(buffer);
        if (n == 0) throw std::system_error(make_error_code(errc::end_of_stream));
        buffer = buffer.subspan(n);
    }
}

template <class Stream>
task<std::size_t> stream_ops<Stream>::send(std::span<const std::byte> data) {
    return self().write_some(data);
}

template <class Stream>
task<void> stream_ops<Stream>::send_all(std::span<const std::byte> data) {
    while (!data.empty()) data = data.subspan(co_await self().write_some(data));
}

template <class Stream>
task<void> stream_ops<Stream>::send_all(std::string_view data) {
    co_await send_all(std::as_bytes(std::span(data.data(), data.size())));
}

template <class Stream>
task<void> stream_ops<Stream>::send_msg(std::string_view payload) {
    if (payload.size() > 0xffffffffu)
        throw std::system_error(make_error_code(errc::message_too_large),
                                "send_msg: " + std::to_string(payload.size()) + " bytes");
    auto len = static_cast<std::uint32_t>(payload.size());
    std::array<std::byte, 4> header{std::byte(len >> 24), std::byte(len >> 16), std::byte(len >> 8),
                                    std::byte(len)};
    // A message goes out in one piece where it can (one system call, and no
    // header left waiting for an acknowledgement by Nagle's algorithm): small
    // ones from the coroutine frame, larger ones from one allocation.
    constexpr std::size_t in_frame = 480;
    constexpr std::size_t copied = 256 * 1024;
    if (payload.size() <= in_frame) {
        std::array<std::byte, 4 + in_frame> frame;
        std::memcpy(frame.data(), header.data(), 4);
        std::memcpy(frame.data() + 4, payload.data(), payload.size());
        co_await send_all(std::span<const std::byte>(frame.data(), 4 + payload.size()));
    } else if (payload.size() <= copied) {
        std::string frame(4 + payload.size(), '\0');
        std::memcpy(frame.data(), header.data(), 4);
        std::memcpy(frame.data() + 4, payload.data(), payload.size());
        co_await send_all(frame);
    } else {
        co_await send_all(std::span<const std::byte>(header));
        co_await send_all(payload);
    }
}

template <class Stream>
task<std::string> stream_ops<Stream>::recv_msg(std::size_t max) {
    if (ahead_.size() < 4 && !co_await read_ahead_until(4))
        throw std::system_error(make_error_code(errc::end_of_stream));
    const std::byte* h = ahead_.data.get() + ahead_.begin;
    std::size_t len = (std::size_t(h[0]) << 24) | (std::size_t(h[1]) << 16) |
                      (std::size_t(h[2]) << 8) | std::size_t(h[3]);
    if (len > max)
        throw std::system_error(make_error_code(errc::message_too_large),
                                "recv_msg: a frame of " + std::to_string(len) +
                                    " bytes, the limit is " + std::to_string(max));
    // A message that fits is read ahead whole, with what follows it; the
    // rest of a larger one goes straight into its string.
    if (4 + len <= read_ahead::capacity && ahead_.size() < 4 + len &&
        !co_await read_ahead_until(4 + len))
        throw std::system_error(make_error_code(errc::end_of_stream));
    ahead_.begin += 4;
    std::string payload(len, '\0');
    auto rest = std::as_writable_bytes(std::span(payload));
    rest = rest.subspan(take_ahead(rest));
    if (!rest.empty()) co_await recv_exactly(rest);
    co_return payload;
}

}  // namespace coronet::net
