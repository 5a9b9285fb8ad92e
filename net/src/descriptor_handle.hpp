#pragma once

#include <asio/posix/stream_descriptor.hpp>
#include <asio/socket_base.hpp>

#include <system_error>
#include <utility>

namespace coronet::net::detail {

/// A POSIX stream descriptor (a pipe, a pidfd) as `perform` and
/// `readiness_awaiter` take a socket: waits are named by the socket's type.
class descriptor_handle {
public:
    explicit descriptor_handle(asio::posix::stream_descriptor& d) noexcept : d_(d) {}

    template <class Handler>
    void async_wait(asio::socket_base::wait_type w, Handler&& handler) {
        using descriptor_wait = asio::posix::descriptor_base::wait_type;
        descriptor_wait dw = w == asio::socket_base::wait_write  ? descriptor_wait::wait_write
                             : w == asio::socket_base::wait_read ? descriptor_wait::wait_read
                                                                 : descriptor_wait::wait_error;
        d_.async_wait(dw, std::forward<Handler>(handler));
    }
    void cancel(std::error_code& ec) { d_.cancel(ec); }
    bool is_open() const noexcept { return d_.is_open(); }

private:
    asio::posix::stream_descriptor& d_;
};

}  // namespace coronet::net::detail
