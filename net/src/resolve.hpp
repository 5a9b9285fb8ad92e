#pragma once

#include <coronet/runtime/call_blocking.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace coronet::net::detail {

/// The addresses of `host`:`port` for `Protocol` (asio::ip::tcp or udp): a
/// numeric address as it is, with no call at all; a name through the
/// dispatcher (io_op::resolve, a blocking call keyed by the host name).
template <class Protocol>
task<std::vector<typename Protocol::endpoint>> resolve(std::string host, std::uint16_t port) {
    using endpoint = typename Protocol::endpoint;
    std::error_code not_numeric;
    asio::ip::address address = asio::ip::make_address(host, not_numeric);
    if (!not_numeric) co_return std::vector<endpoint>{endpoint(address, port)};
    auto lookup = [host, port] {
        asio::io_context scratch;  // the resolver runs synchronously here
        typename Protocol::resolver resolver(scratch);
        std::vector<endpoint> out;
        for (const auto& entry : resolver.resolve(host, std::to_string(port)))
            out.push_back(entry.endpoint());
        return out;
    };
    co_return co_await call_blocking(io_op::resolve, host, std::move(lookup));
}

}  // namespace coronet::net::detail
