#pragma once

// The definitions of socket_stream and socket_listener, and the connect that
// both stream protocols share; instantiated explicitly by tcp.cpp and local.cpp.

#include "stream_ops_impl.hpp"

#include <coronet/net/detail/readiness.hpp>
#include <coronet/net/socket_listener.hpp>
#include <coronet/net/socket_stream.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/sleep.hpp>
#include <coronet/runtime/yield.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace coronet::net {

namespace detail {

[[noreturn]] inline void throw_errno() {
    throw std::system_error(errno, std::system_category());
}

/// Connects a new socket of the calling shard to `to` through the dispatcher
/// (io_op::socket_connect): the non-blocking connect completes at once (a
/// Unix socket), or the coroutine waits for the socket to become writable (a
/// TCP handshake), or, when a Unix listener's backlog is full (EAGAIN, which
/// no readiness event announces), it tries again after a pause that doubles
/// up to 50 ms.
template <class Protocol>
task<typename Protocol::socket> connect_socket(typename Protocol::endpoint to) {
    using wait = asio::socket_base::wait_type;
    typename Protocol::socket socket(coronet::detail::this_io());
    socket.open(to.protocol());
    socket.non_blocking(true);
    int fd = socket.native_handle();
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0) {
            if (d.completed_inline(io_op::socket_connect)) co_await coronet::yield();
            co_return socket;
        }
        if (errno == EINPROGRESS || errno == EINTR) break;
        if (errno != EAGAIN) throw_errno();
        d.parked(io_op::socket_connect);
        co_await coronet::sleep(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    d.parked(io_op::socket_connect);
    while (!co_await readiness_awaiter<typename Protocol::socket>(socket, wait::wait_write)) {
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno();
    if (err != 0) throw std::system_error(err, std::system_category());
    co_return socket;
}

}  // namespace detail

// ---------------------------------------------------------------- socket_stream

template <class Protocol>
socket_stream<Protocol>::socket_stream(socket_type socket) : socket_(std::move(socket)) {
    socket_.non_blocking(true);
}

// Not coroutines: the transfer's frame is the only one.
template <class Protocol>
task<std::size_t> socket_stream<Protocol>::read_some(std::span<std::byte> buffer) {
    int fd = socket_.native_handle();
    return detail::transfer(
        socket_, io_op::socket_recv, read_spec_, sent_in_,
        [fd, buffer] {
            return static_cast<long>(::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT));
        },
        [this, buffer](auto handler) {
            socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), std::move(handler));
        });
}

template <class Protocol>
task<std::size_t> socket_stream<Protocol>::write_some(std::span<const std::byte> data) {
    int fd = socket_.native_handle();
    return detail::transfer(
        socket_, io_op::socket_send, write_spec_, sent_in_,
        [fd, data] {
            return static_cast<long>(
                ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
        },
        [this, data](auto handler) {
            socket_.async_write_some(asio::buffer(data.data(), data.size()), std::move(handler));
        });
}

template <class Protocol>
void socket_stream<Protocol>::shutdown_send() {
    socket_.shutdown(asio::socket_base::shutdown_send);
}

template <class Protocol>
void socket_stream<Protocol>::shutdown_receive() {
    socket_.shutdown(asio::socket_base::shutdown_receive);
}

template <class Protocol>
void socket_stream<Protocol>::close() noexcept {
    std::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
}

template <class Protocol>
void socket_stream<Protocol>::set_receive_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::receive_buffer_size(bytes));
}

template <class Protocol>
void socket_stream<Protocol>::set_send_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::send_buffer_size(bytes));
}

// ---------------------------------------------------------------- socket_listener

template <class Stream>
socket_listener<Stream>::socket_listener(acceptor_type acceptor)
    : acceptor_(std::move(acceptor)), local_(acceptor_.local_endpoint()) {
    acceptor_.non_blocking(true);
}

template <class Stream>
task<Stream> socket_listener<Stream>::accept() {
    int fd = acceptor_.native_handle();
    long client = co_await detail::perform(
        acceptor_, io_op::socket_accept, spec_, asio::socket_base::wait_read, [fd] {
            return static_cast<long>(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        });
    typename protocol_type::socket socket(coronet::detail::this_io());
    std::error_code ec;
    socket.assign(local_.protocol(), static_cast<int>(client), ec);
    if (ec) {
        ::close(static_cast<int>(client));
        throw std::system_error(ec);
    }
    co_return Stream(std::move(socket));
}

template <class Stream>
void socket_listener<Stream>::close() noexcept {
    std::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
}

}  // namespace coronet::net
