#pragma once

#include <cstddef>
#include <cstdint>

/// The TCP echo workloads: one load generator (echo_client.cpp) drives each
/// server, every server in a process of its own.
namespace coronet::bench {

/// The size of every request and of its echo.
inline constexpr std::size_t echo_message_bytes = 1024;
/// The size of every message on a streaming connection.
inline constexpr std::size_t stream_message_bytes = 256 * 1024;

/// The echo servers. The C++ ones run in a child forked from the measuring
/// process, the others (Go, Python) are programs of their own.
enum class echo_server {
    coronet,               ///< coronet's TCP streams, the dispatcher adaptive
    coronet_always_sync,   ///< the same, io_mode::always_sync
    coronet_always_async,  ///< the same, io_mode::always_async
    epoll,                 ///< a raw epoll loop
    asio,                  ///< raw Asio, C++20 coroutines (asio::awaitable)
    go,                    ///< a goroutine per connection, GOMAXPROCS=1
    uvloop_protocol,       ///< uvloop, an asyncio.Protocol
    uvloop_streams,        ///< uvloop, asyncio streams
    asyncio_streams,       ///< the default asyncio loop, streams
};

/// Starts `server` pinned to core 1 and, from this process pinned to core 0,
/// opens `connections` connections (at most `requests / 20`, so that each
/// makes 20 requests at least) and makes `requests` closed-loop requests of
/// `echo_message_bytes` over them: each connection sends one request and
/// waits for its whole echo before sending the next. Returns requests/s and
/// reports the metrics `p50_latency` and `p99_latency` (us) and `server_cpu`
/// (us of the server's CPU time, user and system, per request).
/// Throws `unavailable` when the server's program or module is missing.
double tcp_echo(echo_server server, unsigned connections, std::uint64_t requests);

template <echo_server Server, unsigned Connections>
double tcp_echo(std::uint64_t requests) {
    return tcp_echo(Server, Connections, requests);
}

/// As tcp_echo, and meanwhile `streams` more connections keep sending
/// `stream_message_bytes` after another as fast as the server echoes them
/// (uncounted). Returns the p99 latency of the short requests in us, and
/// reports the metrics `requests` (requests/s), `p50_latency` and
/// `server_cpu`.
double tcp_echo_beside_streams(echo_server server, unsigned connections, unsigned streams,
                               std::uint64_t requests);

template <echo_server Server, unsigned Connections, unsigned Streams>
double tcp_echo_beside_streams(std::uint64_t requests) {
    return tcp_echo_beside_streams(Server, Connections, Streams, requests);
}

/// One connection's round trips, `requests` of them, one after the other:
/// the mean round trip in us (tcp_echo's metrics are reported too).
template <echo_server Server>
double echo_round_trip(std::uint64_t requests) {
    return 1e6 / tcp_echo(Server, 1, requests);
}

/// The C++ servers, run in the forked child: each listens on 127.0.0.1 (a
/// port the system picks), prints the port on a line of its standard output
/// and serves until it is killed.
[[noreturn]] void serve_echo_epoll();
[[noreturn]] void serve_echo_asio();
/// `server` is one of the three coronet modes.
[[noreturn]] void serve_echo_coronet(echo_server server);

}  // namespace coronet::bench
