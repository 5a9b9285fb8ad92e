#include <coronet/net/tcp.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include "resolve.hpp"
#include "socket_impl.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <exception>
#include <vector>

namespace coronet::net {

template class stream_ops<socket_stream<asio::ip::tcp>>;
template class socket_stream<asio::ip::tcp>;
template class socket_listener<tcp::stream>;

}  // namespace coronet::net

namespace coronet::net::tcp {

// ---------------------------------------------------------------- stream

void stream::set_no_delay(bool on) {
    asio_socket().set_option(asio::ip::tcp::no_delay(on));
}
void stream::set_keep_alive(bool on) {
    asio_socket().set_option(asio::socket_base::keep_alive(on));
}
void stream::set_linger_reset() {
    asio_socket().set_option(asio::socket_base::linger(true, 0));
}

// ---------------------------------------------------------------- connect

namespace {

task<stream> connect_once(endpoint to) {
    co_return stream(co_await net::detail::connect_socket<asio::ip::tcp>(to));
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
    auto resolving = with_timeout(timeout, net::detail::resolve<asio::ip::tcp>(host, port));
    auto endpoints = co_await std::move(resolving);
    if (!endpoints) throw std::system_error(make_error_code(errc::timed_out));
    auto remaining = deadline - std::chrono::steady_clock::now();
    auto attempt = with_timeout(remaining, connect_any(std::move(*endpoints)));
    auto s = co_await std::move(attempt);
    if (!s) throw std::system_error(make_error_code(errc::timed_out));
    co_return std::move(*s);
}

// ---------------------------------------------------------------- listen

listener listen(const std::string& host, std::uint16_t port, const listen_options& options) {
    asio::ip::tcp::acceptor acceptor(coronet::detail::this_io());
    endpoint at(asio::ip::make_address(host), port);
    acceptor.open(at.protocol());
    if (options.reuse_address) acceptor.set_option(asio::socket_base::reuse_address(true));
    if (options.reuse_port) {
        int on = 1;
        if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            net::detail::throw_errno();
    }
    acceptor.bind(at);
    acceptor.listen(options.backlog);
    return listener(std::move(acceptor));
}

}  // namespace coronet::net::tcp
