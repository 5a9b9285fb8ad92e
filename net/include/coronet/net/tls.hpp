#pragma once

/// TLS over TCP, with OpenSSL. The handshake, reads and writes run OpenSSL
/// over a memory BIO pair: the encrypted bytes it produces and needs go
/// through the `tcp::stream` underneath, so every socket operation of a TLS
/// stream is one of the dispatcher's (io_op::socket_recv, socket_send),
/// tried first and parked on the shard's event loop as any other; the
/// cryptography runs inline on the shard.

#include <coronet/net/stream_ops.hpp>
#include <coronet/net/tcp.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace coronet::net::tls {

/// The category of TLS errors: OpenSSL's error codes (ERR_get_error), with
/// OpenSSL's reason as the message (Asio's SSL category, "asio.ssl").
const std::error_category& error_category() noexcept;

/// Which side of the handshake a context serves.
enum class role { client, server };

/// Certificates, keys and verification settings shared by many TLS streams
/// (an OpenSSL SSL_CTX, through Asio's `ssl::context`). TLS 1.2 or later.
///
/// A client context verifies the server's certificate, and the name it
/// connects to, against the authorities it trusts: none at first (so it
/// refuses every server), then those added with `add_certificate_authority`,
/// `load_verify_file` or, for the system's, `set_default_verify_paths`. A
/// server context asks for no client certificate unless `set_verify_peer(true)`.
/// Copies share one SSL_CTX; a stream keeps what it needs, so the context
/// may go before its streams.
///
/// Loading files and the system's authorities reads and parses them there
/// and then (the system's take ~0.1 s): make contexts at start-up, or
/// through `call_blocking`, not on a shard for each connection.
///
/// Errors: every member throws `std::system_error` (in `error_category()`)
/// for a file that cannot be read or a PEM text that does not parse.
/// Thread safety: configure it first, then use it from any thread and shard.
///
///     coronet::tls::context server(coronet::tls::role::server);
///     server.use_certificate_chain_file("server.pem");
///     server.use_private_key_file("server.key");
///     coronet::tls::context client(coronet::tls::role::client);
///     client.set_default_verify_paths();   // or add_certificate_authority(ca_pem)
class context {
public:
    explicit context(role side);

    role side() const noexcept;

    /// This side's certificate (and the intermediate ones after it), PEM.
    void use_certificate_chain_file(const std::string& path);
    void use_certificate_chain(std::string_view pem);
    /// This side's private key, PEM.
    void use_private_key_file(const std::string& path);
    void use_private_key(std::string_view pem);

    /// Trusts the certificate authority `pem` as well.
    void add_certificate_authority(std::string_view pem);
    /// Trusts the certificate authorities in the PEM file `path` as well.
    void load_verify_file(const std::string& path);
    /// Trusts the system's certificate authorities as well.
    void set_default_verify_paths();
    /// Client: verify the server (the default; off only for tests). Server:
    /// require a client certificate, verified against the trusted authorities.
    void set_verify_peer(bool on);

    ssl_ctx_st* native_handle() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// A TLS stream over a `tcp::stream`, with the same reading and writing API
/// (`stream_ops`: recv, send, send_all, recv_exactly, send_msg, recv_msg);
/// `recv` returns 0 once the peer has closed TLS (its close_notify). Made by
/// `connect`, `client_handshake` or `server_handshake`.
///
/// Errors: awaited operations throw `std::system_error`: the TCP stream's OS
/// errors (ECONNRESET, ...), TLS errors in `error_category()` (a bad record,
/// an alert from the peer), and `errc::end_of_stream` when the TCP
/// connection ends without the peer's TLS close (`shutdown`), which could be
/// a truncation. Cancellation: terminating the coroutine, or closing the
/// stream, ends the operation it waits on; the TLS state is then mid-record:
/// close the stream. Thread safety: a stream belongs to the shard that made
/// it; one reader and one writer may work at once.
///
///     auto s = co_await coronet::tls::connect(client_ctx, "example.com", 443);
///     co_await s.send_all("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
///     std::string head = co_await s.recv_some(4096);
///     co_await s.shutdown();
class stream : public stream_ops<stream> {
public:
    stream() noexcept;
    stream(stream&&) noexcept;
    stream& operator=(stream&&) noexcept;
    ~stream();

    bool is_open() const noexcept;

    /// Graceful close of the sending side: sends TLS's close_notify, then
    /// half-closes TCP. The peer's `recv` returns 0; receiving goes on here.
    [[nodiscard]] task<void> shutdown();
    /// Closes the TCP stream at once; an operation waiting on it ends with
    /// ECANCELED. Idempotent.
    void close() noexcept;

    /// The protocol version agreed, e.g. "TLSv1.3".
    std::string protocol_version() const;
    /// The TCP stream underneath: endpoints, socket options. Reading or
    /// writing it directly breaks the TLS stream.
    tcp::stream& lower() noexcept;

private:
    friend class stream_ops<stream>;
    // The primitives of stream_ops: decrypt what came (0 once the peer closed
    // TLS), encrypt and send whole records.
    task<std::size_t> read_some(std::span<std::byte> buffer);
    task<std::size_t> write_some(std::span<const std::byte> data);

    struct state;
    explicit stream(std::unique_ptr<state> s) noexcept;
    std::unique_ptr<state> s_;

    friend task<stream> client_handshake(context ctx, tcp::stream s, std::string server_name);
    friend task<stream> server_handshake(context ctx, tcp::stream s);
};

/// Runs the client's handshake over the connected `s`: sends `server_name`
/// (SNI, unless it is an IP address) and, when `ctx` verifies the peer (the
/// default), checks the server's certificate chain and that it names
/// `server_name` (a host name or an IP address).
///
/// Errors: `std::system_error` in `error_category()` whose message says why,
/// e.g. "TLS handshake: certificate verify failed (hostname mismatch)" or
/// "(self-signed certificate)"; the TCP stream's errors. Cancellation:
/// terminating the coroutine ends the handshake (wrap it in `with_timeout` to
/// bound it). From a coroutine of the shard that owns `s`.
///
///     auto tcp = co_await coronet::tcp::connect("127.0.0.1", port);
///     auto s = co_await coronet::tls::client_handshake(ctx, std::move(tcp), "localhost");
[[nodiscard]] task<stream> client_handshake(context ctx, tcp::stream s, std::string server_name);

/// Runs the server's handshake over the accepted `s`, with the certificate
/// and key of `ctx` (and, if it verifies peers, checks the client's).
///
/// Errors and cancellation: as `client_handshake`. From a coroutine of the
/// shard that owns `s`.
///
///     auto tcp = co_await listener.accept();
///     auto s = co_await coronet::tls::server_handshake(ctx, std::move(tcp));
[[nodiscard]] task<stream> server_handshake(context ctx, tcp::stream s);

/// Connects to `host`:`port` over TCP (as `tcp::connect`) and runs the
/// client's handshake with `host` as the server name, all within `timeout`.
///
/// Errors: as `tcp::connect` and `client_handshake` (`errc::timed_out` when
/// the time is up). From a coroutine; the stream belongs to its shard.
///
///     auto s = co_await coronet::tls::connect(ctx, "localhost", 8443, 5s);
[[nodiscard]] task<stream> connect(
    context ctx, std::string host, std::uint16_t port,
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30));

}  // namespace coronet::net::tls

namespace coronet {
/// Shorthand: `coronet::tls::connect(...)`.
namespace tls = net::tls;
}  // namespace coronet
