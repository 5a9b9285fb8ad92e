#include <coronet/net/local.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include "datagram_impl.hpp"
#include "socket_impl.hpp"

#include <asio/local/connect_pair.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace coronet::net {

template class stream_ops<socket_stream<asio::local::stream_protocol>>;
template class socket_stream<asio::local::stream_protocol>;
template class socket_listener<local::stream>;
template class datagram_socket<asio::local::datagram_protocol>;

}  // namespace coronet::net

namespace coronet::net::local {

namespace {

/// Removes the socket file at `path`, if it is one (an abstract name has none).
void remove_socket_file(const std::string& path) noexcept {
    struct stat st;
    if (!path.empty() && path[0] != '\0' && ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        ::unlink(path.c_str());
}

}  // namespace

// ---------------------------------------------------------------- stream

credentials stream::peer_credentials() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        net::detail::throw_errno();
    return {static_cast<int>(cred.pid), static_cast<unsigned>(cred.uid),
            static_cast<unsigned>(cred.gid)};
}

task<stream> connect(std::string path, std::chrono::steady_clock::duration timeout) {
    auto attempt = with_timeout(timeout, net::detail::connect_socket<asio::local::stream_protocol>(
                                             asio::local::stream_protocol::endpoint(path)));
    auto s = co_await std::move(attempt);
    if (!s) throw std::system_error(make_error_code(errc::timed_out));
    co_return stream(std::move(*s));
}

std::pair<stream, stream> stream_pair() {
    asio::local::stream_protocol::socket a(coronet::detail::this_io());
    asio::local::stream_protocol::socket b(coronet::detail::this_io());
    asio::local::connect_pair(a, b);
    return {stream(std::move(a)), stream(std::move(b))};
}

// ---------------------------------------------------------------- listener

listener::listener(acceptor_type acceptor, bool remove_path)
    : socket_listener(std::move(acceptor)), remove_path_(remove_path) {}

listener::listener(listener&& other) noexcept
    : socket_listener(std::move(other)), remove_path_(std::exchange(other.remove_path_, false)) {}

listener& listener::operator=(listener&& other) noexcept {
    if (this != &other) {
        close();
        socket_listener::operator=(std::move(other));
        remove_path_ = std::exchange(other.remove_path_, false);
    }
    return *this;
}

listener::~listener() {
    close();
}

void listener::close() noexcept {
    if (remove_path_ && is_open()) remove_socket_file(local_endpoint().path());
    remove_path_ = false;
    socket_listener::close();
}

listener listen(const std::string& path, const listen_options& options) {
    if (options.replace_existing) remove_socket_file(path);
    asio::local::stream_protocol::acceptor acceptor(coronet::detail::this_io());
    acceptor.open();
    acceptor.bind(endpoint(path));
    acceptor.listen(options.backlog);
    return listener(std::move(acceptor), true);
}

// ---------------------------------------------------------------- datagrams

datagram_socket bind_datagram(const std::string& path) {
    remove_socket_file(path);
    asio::local::datagram_protocol::socket s(coronet::detail::this_io());
    s.open();
    s.bind(datagram_endpoint(path));
    return datagram_socket(std::move(s));
}

datagram_socket open_datagram() {
    return datagram_socket(asio::local::datagram_protocol::socket(
        coronet::detail::this_io(), asio::local::datagram_protocol()));
}

std::pair<datagram_socket, datagram_socket> datagram_pair() {
    asio::local::datagram_protocol::socket a(coronet::detail::this_io());
    asio::local::datagram_protocol::socket b(coronet::detail::this_io());
    asio::local::connect_pair(a, b);
    return {datagram_socket(std::move(a)), datagram_socket(std::move(b))};
}

}  // namespace coronet::net::local
