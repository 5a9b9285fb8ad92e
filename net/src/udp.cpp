#include <coronet/net/udp.hpp>
#include <coronet/runtime/detail/shard_access.hpp>

#include "datagram_impl.hpp"
#include "resolve.hpp"

#include <sys/socket.h>

namespace coronet::net {

template class datagram_socket<asio::ip::udp>;

}  // namespace coronet::net

namespace coronet::net::udp {

void socket::set_broadcast(bool on) {
    asio_socket().set_option(asio::socket_base::broadcast(on));
}

socket bind(const std::string& host, std::uint16_t port, const bind_options& options) {
    asio::ip::udp::socket s(coronet::detail::this_io());
    endpoint at(asio::ip::make_address(host), port);
    s.open(at.protocol());
    if (options.reuse_address) s.set_option(asio::socket_base::reuse_address(true));
    if (options.reuse_port) {
        int on = 1;
        if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            throw std::system_error(errno, std::system_category());
    }
    s.bind(at);
    return socket(std::move(s));
}

socket open(asio::ip::udp protocol) {
    return socket(asio::ip::udp::socket(coronet::detail::this_io(), protocol));
}

task<socket> connect(std::string host, std::uint16_t port) {
    auto endpoints = co_await net::detail::resolve<asio::ip::udp>(host, port);
    if (endpoints.empty())
        throw std::system_error(std::make_error_code(std::errc::host_unreachable));
    socket s = open(endpoints.front().protocol());
    s.connect(endpoints.front());
    co_return s;
}

}  // namespace coronet::net::udp
