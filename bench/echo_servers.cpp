// The raw C++ echo servers, the floors of the TCP echo workloads: a plain
// epoll loop, and Asio with C++20 coroutines. Each runs on one thread.

#include "echo.hpp"
#include "measure.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace coronet::bench {
namespace {

/// The most one read takes: four requests.
constexpr std::size_t read_size = 4 * echo_message_bytes;

[[noreturn]] void fail(const char* what) {
    throw failure(std::string(what) + ": " + std::strerror(errno));
}

void print_port(std::uint16_t port) {
    std::printf("%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);
}

// ---------------------------------------------------------------- epoll

/// Level-triggered: a readable connection gets one read and its echo; what
/// the socket does not take at once waits for EPOLLOUT.
class epoll_server {
public:
    epoll_server() {
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (epoll_ < 0 || listener_ < 0) fail("socket");
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof at;
        if (bind(listener_, reinterpret_cast<sockaddr*>(&at), len) != 0 ||
            listen(listener_, 1024) != 0 ||
            getsockname(listener_, reinterpret_cast<sockaddr*>(&at), &len) != 0)
            fail("listen");
        watch(EPOLL_CTL_ADD, listener_, EPOLLIN);
        print_port(ntohs(at.sin_port));
    }

    [[noreturn]] void run() {
        std::array<epoll_event, 256> events;
        for (;;) {
            int k = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
            if (k < 0 && errno != EINTR) fail("epoll_wait");
            for (int e = 0; e < k; ++e) {
                int fd = events[e].data.fd;
                if (fd == listener_)
                    accept_all();
                else if (events[e].events & EPOLLOUT)
                    send_pending(fd);
                else
                    echo(fd);
            }
        }
    }

private:
    void watch(int op, int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        if (epoll_ctl(epoll_, op, fd, &ev) != 0) fail("epoll_ctl");
    }

    void accept_all() {
        for (;;) {
            int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
                fail("accept4");
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            watch(EPOLL_CTL_ADD, fd, EPOLLIN);
        }
    }

    void drop(int fd) {
        pending_.erase(fd);
        close(fd);
    }

    void echo(int fd) {
        ssize_t got = read(fd, buffer_.data(), buffer_.size());
        if (got <= 0) {
            if (got == 0 || (errno != EAGAIN && errno != EINTR)) drop(fd);
            return;
        }
        std::size_t n = static_cast<std::size_t>(got);
        ssize_t sent = write(fd, buffer_.data(), n);
        if (sent == got) return;
        if (sent < 0 && errno != EAGAIN) return drop(fd);
        std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
        pending_[fd].assign(buffer_.data() + done, n - done);
        watch(EPOLL_CTL_MOD, fd, EPOLLOUT);  // reads wait until it is out
    }

    void send_pending(int fd) {
        std::string& rest = pending_[fd];
        ssize_t sent = write(fd, rest.data(), rest.size());
        if (sent < 0) {
            if (errno != EAGAIN && errno != EINTR) drop(fd);
            return;
        }
        rest.erase(0, static_cast<std::size_t>(sent));
        if (!rest.empty()) return;
        pending_.erase(fd);
        watch(EPOLL_CTL_MOD, fd, EPOLLIN);
    }

    int epoll_ = -1;
    int listener_ = -1;
    std::array<char, read_size> buffer_{};
    std::unordered_map<int, std::string> pending_;  // echoes not yet all sent
};

// ---------------------------------------------------------------- asio

using asio::ip::tcp;

asio::awaitable<void> asio_session(tcp::socket s) {
    std::array<char, read_size> buffer;
    try {
        for (;;) {
            std::size_t n = co_await s.async_read_some(asio::buffer(buffer), asio::use_awaitable);
            co_await asio::async_write(s, asio::buffer(buffer.data(), n), asio::use_awaitable);
        }
    } catch (const std::system_error&) {
        // the client closed or reset the connection
    }
}

asio::awaitable<void> asio_accept(tcp::acceptor& acceptor) {
    for (;;) {
        tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
        s.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), asio_session(std::move(s)), asio::detached);
    }
}

}  // namespace

void serve_echo_epoll() {
    epoll_server server;
    server.run();
}

void serve_echo_asio() {
    asio::io_context io(1);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    acceptor.listen(1024);
    print_port(acceptor.local_endpoint().port());
    asio::co_spawn(io, asio_accept(acceptor), asio::detached);
    io.run();
    std::exit(3);
}

}  // namespace coronet::bench
