#include <coronet/net/detail/readiness.hpp>
#include <coronet/net/tcp.hpp>
#include <coronet/runtime/call_blocking.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <asio/ip/tcp.hpp>

#include <array>
#include <cstring>
#include <vector>

namespace coronet::net::tcp {

namespace {

using wait = asio::socket_base::wait_type;
using coronet::net::detail::perform;
using coronet::net::detail::readiness_awaiter;

[[noreturn]] void throw_errno() {
    throw std::system_error(errno, std::system_category());
}

asio::io_context& shard_context() {
    return coronet::detail::this_io();
}

}  // namespace

// ---------------------------------------------------------------- stream

asio::io_context& stream::unbound_context() {
    static asio::io_context unbound;
    return unbound;
}

asio::io_context& listener::unbound_context() {
    return stream::unbound_context();
}

stream::stream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    socket_.non_blocking(true);
}

stream::~stream() {
    close();
}

task<std::size_t> stream::recv(std::span<std::byte> buffer) {
    int fd = socket_.native_handle();
    long n = co_await perform(socket_, io_op::socket_recv, read_spec_, wait::wait_read, [&] {
        return static_cast<long>(::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT));
    });
    co_return static_cast<std::size_t>(n);
}

task<std::string> stream::recv_some(std::size_t max) {
    std::string out(max, '\0');
    std::size_t n = co_await recv(std::as_writable_bytes(std::span(out)));
    out.resize(n);
    co_return out;
}

task<void> stream::recv_exactly(std::span<std::byte> buffer) {
    while (!buffer.empty()) {
        std::size_t n = co_await recv(buffer);
        if (n == 0) throw std::system_error(make_error_code(errc::end_of_stream));
        buffer = buffer.subspan(n);
    }
}

task<std::size_t> stream::send(std::span<const std::byte> data) {
    int fd = socket_.native_handle();
    long n = co_await perform(socket_, io_op::socket_send, write_spec_, wait::wait_write, [&] {
        return static_cast<long>(::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
    });
    co_return static_cast<std::size_t>(n);
}

task<void> stream::send_all(std::span<const std::byte> data) {
    while (!data.empty()) data = data.subspan(co_await send(data));
}

task<void> stream::send_all(std::string_view data) {
    co_await send_all(std::as_bytes(std::span(data.data(), data.size())));
}

task<void> stream::send_msg(std::string_view payload) {
    if (payload.size() > 0xffffffffu)
        throw std::system_error(make_error_code(errc::message_too_large));
    auto len = static_cast<std::uint32_t>(payload.size());
    std::array<std::byte, 4> header{std::byte(len >> 24), std::byte(len >> 16), std::byte(len >> 8),
                                    std::byte(len)};
    if (payload.size() <= 4096) {
        // One system call for a small message.
        std::string frame(4 + payload.size(), '\0');
        std::memcpy(frame.data(), header.data(), 4);
        std::memcpy(frame.data() + 4, payload.data(), payload.size());
        co_await send_all(frame);
    } else {
        co_await send_all(std::span<const std::byte>(header));
        co_await send_all(payload);
    }
}

task<std::string> stream::recv_msg(std::size_t max) {
    std::array<std::byte, 4> header;
    co_await recv_exactly(header);
    std::size_t len = (std::size_t(header[0]) << 24) | (std::size_t(header[1]) << 16) |
                      (std::size_t(header[2]) << 8) | std::size_t(header[3]);
    if (len > max) throw std::system_error(make_error_code(errc::message_too_large));
    std::string payload(len, '\0');
    co_await recv_exactly(std::as_writable_bytes(std::span(payload)));
    co_return payload;
}

void stream::shutdown_send() {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send);
}
void stream::shutdown_receive() {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_receive);
}

void stream::close() noexcept {
    std::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
}

void stream::set_no_delay(bool on) {
    socket_.set_option(asio::ip::tcp::no_delay(on));
}
void stream::set_keep_alive(bool on) {
    socket_.set_option(asio::socket_base::keep_alive(on));
}
void stream::set_receive_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::receive_buffer_size(bytes));
}
void stream::set_send_buffer_size(int bytes) {
    socket_.set_option(asio::socket_base::send_buffer_size(bytes));
}
void stream::set_linger_reset() {
    socket_.set_option(asio::socket_base::linger(true, 0));
}

endpoint stream::local_endpoint() const {
    return socket_.local_endpoint();
}
endpoint stream::remote_endpoint() const {
    return socket_.remote_endpoint();
}

// ---------------------------------------------------------------- connect

namespace {

task<stream> connect_once(endpoint to) {
    asio::ip::tcp::socket socket(shard_context());
    socket.open(to.protocol());
    socket.non_blocking(true);
    int fd = socket.native_handle();
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0) {
        d.completed_inline(io_op::socket_connect);
        co_return stream(std::move(socket));
    }
    if (errno != EINPROGRESS && errno != EINTR) throw_errno();
    d.parked(io_op::socket_connect);
    while (!co_await readiness_awaiter<asio::ip::tcp::socket>(socket, wait::wait_write)) {
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno();
    if (err != 0) throw std::system_error(err, std::system_category());
    co_return stream(std::move(socket));
}

task<stream> connect_any(std::vector<endpoint> candidates) {
    std::exception_ptr last;
    for (const endpoint& e : candidates) {
        try {
            co_return co_await connect_once(e);
        } catch (const terminated&) {
            throw;
        } catch (const std::system_error&) {
            last = std::current_exception();
        }
    }
    if (last) std::rethrow_exception(last);
    throw std::system_error(std::make_error_code(std::errc::host_unreachable));
}

}  // namespace

task<stream> connect(endpoint to, std::chrono::steady_clock::duration timeout) {
    auto attempt = with_timeout(timeout, connect_once(to));
    auto s = co_await std::move(attempt);
    if (!s) throw std::system_error(make_error_code(errc::timed_out));
    co_return std::move(*s);
}

task<stream> connect(std::string host, std::uint16_t port,
                     std::chrono::steady_clock::duration timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto lookup = [host, port] {
        asio::io_context scratch;  // the resolver runs synchronously here
        asio::ip::tcp::resolver resolver(scratch);
        std::vector<endpoint> out;
        for (const auto& entry : resolver.resolve(host, std::to_string(port)))
            out.push_back(entry.endpoint());
        return out;
    };
    auto resolving = with_timeout(timeout, call_blocking(io_op::resolve, host, std::move(lookup)));
    auto endpoints = co_await std::move(resolving);
    if (!endpoints) throw std::system_error(make_error_code(errc::timed_out));
    auto remaining = deadline - std::chrono::steady_clock::now();
    auto attempt = with_timeout(remaining, connect_any(std::move(*endpoints)));
    auto s = co_await std::move(attempt);
    if (!s) throw std::system_error(make_error_code(errc::timed_out));
    co_return std::move(*s);
}

// ---------------------------------------------------------------- listener

listener::listener(asio::ip::tcp::acceptor acceptor) : acceptor_(std::move(acceptor)) {
    acceptor_.non_blocking(true);
}

task<stream> listener::accept() {
    int fd = acceptor_.native_handle();
    long client = co_await perform(acceptor_, io_op::socket_accept, spec_, wait::wait_read, [fd] {
        return static_cast<long>(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    });
    asio::ip::tcp::socket socket(shard_context());
    std::error_code ec;
    socket.assign(acceptor_.local_endpoint().protocol(), static_cast<int>(client), ec);
    if (ec) {
        ::close(static_cast<int>(client));
        throw std::system_error(ec);
    }
    co_return stream(std::move(socket));
}

endpoint listener::local_endpoint() const {
    return acceptor_.local_endpoint();
}

void listener::close() noexcept {
    std::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
}

listener listen(const std::string& host, std::uint16_t port, const listen_options& options) {
    asio::ip::tcp::acceptor acceptor(shard_context());
    endpoint at(asio::ip::make_address(host), port);
    acceptor.open(at.protocol());
    if (options.reuse_address) acceptor.set_option(asio::socket_base::reuse_address(true));
    if (options.reuse_port) {
        int on = 1;
        if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            throw_errno();
    }
    acceptor.bind(at);
    acceptor.listen(options.backlog);
    return listener(std::move(acceptor));
}

}  // namespace coronet::net::tcp
