#pragma once

// The definitions of datagram_socket, instantiated explicitly by udp.cpp and
// local.cpp.

#include <coronet/net/datagram_socket.hpp>
#include <coronet/net/detail/readiness.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace coronet::net {

namespace detail {

/// A buffer of at least `size` bytes for one datagram on the calling thread.
/// Used only between a system call and the copy that follows it, with no
/// suspension in between.
inline std::byte* datagram_scratch(std::size_t size) {
    thread_local std::unique_ptr<std::byte[]> buffer;
    thread_local std::size_t capacity = 0;
    if (capacity < size) {
        buffer = std::make_unique<std::byte[]>(size);
        capacity = size;
    }
    return buffer.get();
}

}  // namespace detail

template <class Protocol>
datagram_socket<Protocol>::datagram_socket(socket_type socket) : socket_(std::move(socket)) {
    socket_.non_blocking(true);
}

template <class Protocol>
task<std::size_t> datagram_socket<Protocol>::send_to(std::span<const std::byte> data,
                                                     const endpoint& to) {
    int fd = socket_.native_handle();
    long n = co_await detail::perform(
        socket_, io_op::datagram_send, write_spec_, asio::socket_base::wait_write, [&] {
            return static_cast<long>(::sendto(fd, data.data(), data.size(),
                                              MSG_DONTWAIT | MSG_NOSIGNAL, to.data(),
                                              static_cast<socklen_t>(to.size())));
        });
    co_return static_cast<std::size_t>(n);
}

template <class Protocol>
task<std::size_t> datagram_socket<Protocol>::send_to(std::string_view data, const endpoint& to) {
    return send_to(std::as_bytes(std::span(data.data(), data.size())), to);
}

template <class Protocol>
task<typename datagram_socket<Protocol>::received> datagram_socket<Protocol>::recv_from(
    std::span<std::byte> buffer) {
    int fd = socket_.native_handle();
    received r;
    socklen_t len = 0;
    long n = co_await detail::perform(
        socket_, io_op::datagram_recv, read_spec_, asio::socket_base::wait_read, [&] {
            len = static_cast<socklen_t>(r.from.capacity());
            // MSG_TRUNC: the datagram's real length, to tell truncation.
            return static_cast<long>(::recvfrom(fd, buffer.data(), buffer.size(),
                                                MSG_DONTWAIT | MSG_TRUNC, r.from.data(), &len));
        });
    r.from.resize(len);
    r.size = std::min(static_cast<std::size_t>(n), buffer.size());
    r.truncated = static_cast<std::size_t>(n) > buffer.size();
    co_return r;
}

template <class Protocol>
task<typename datagram_socket<Protocol>::datagram> datagram_socket<Protocol>::recv_from(
    std::size_t max) {
    int fd = socket_.native_handle();
    datagram d;
    socklen_t len = 0;
    co_await detail::perform(
        socket_, io_op::datagram_recv, read_spec_, asio::socket_base::wait_read, [&] {
            // Into a scratch buffer, then a string of the datagram's own size.
            std::byte* scratch = detail::datagram_scratch(max);
            len = static_cast<socklen_t>(d.from.capacity());
            long n = ::recvfrom(fd, scratch, max, MSG_DONTWAIT, d.from.data(), &len);
            if (n >= 0) d.data.assign(reinterpret_cast<const char*>(scratch), std::size_t(n));
            return n;
        });
    d.from.resize(len);
    co_return d;
}

template <class Protocol>
void datagram_socket<Protocol>::connect(const endpoint& peer) {
    if (::connect(socket_.native_handle(), peer.data(), static_cast<socklen_t>(peer.size())) != 0)
        throw std::system_error(errno, std::system_category());
}

template <class Protocol>
task<std::size_t> datagram_socket<Protocol>::send(std::span<const std::byte> data) {
    int fd = socket_.native_handle();
    long n = co_await detail::perform(
        socket_, io_op::datagram_send, write_spec_, asio::socket_base::wait_write, [&] {
            return static_cast<long>(
                ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
        });
    co_return static_cast<std::size_t>(n);
}

template <class Protocol>
task<std::size_t> datagram_socket<Protocol>::send(std::string_view data) {
    return send(std::as_bytes(std::span(data.data(), data.size())));
}

template <class Protocol>
task<std::size_t> datagram_socket<Protocol>::recv(std::span<std::byte> buffer) {
    int fd = socket_.native_handle();
    long n = co_await detail::perform(
        socket_, io_op::datagram_recv, read_spec_, asio::socket_base::wait_read,
        [&] { return static_cast<long>(::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT)); });
    co_return static_cast<std::size_t>(n);
}

template <class Protocol>
task<std::string> datagram_socket<Protocol>::recv(std::size_t max) {
    int fd = socket_.native_handle();
    std::string out;
    co_await detail::perform(
        socket_, io_op::datagram_recv, read_spec_, asio::socket_base::wait_read, [&] {
            std::byte* scratch = detail::datagram_scratch(max);
            long n = ::recv(fd, scratch, max, MSG_DONTWAIT);
            if (n >= 0) out.assign(reinterpret_cast<const char*>(scratch), std::size_t(n));
            return n;
        });
    co_return out;
}

template <class Protocol>
void datagram_socket<Protocol>::close() noexcept {
    std::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
}

template <class Protocol>
void datagram_socket<Protocol>::set_receive_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::receive_buffer_size(bytes));
}

template <class Protocol>
void datagram_socket<Protocol>::set_send_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::send_buffer_size(bytes));
}

}  // namespace coronet::net
