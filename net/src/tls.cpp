#include <coronet/net/tls.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/mutex.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include "stream_ops_impl.hpp"

#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <utility>

namespace coronet::net {

template class stream_ops<tls::stream>;

}  // namespace coronet::net

namespace coronet::net::tls {

const std::error_category& error_category() noexcept {
    return asio::error::get_ssl_category();
}

// ---------------------------------------------------------------- context

struct context::impl {
    explicit impl(role r)
        : side(r),
          ssl(r == role::client ? asio::ssl::context::tls_client : asio::ssl::context::tls_server) {
    }
    role side;
    asio::ssl::context ssl;
};

context::context(role side) : impl_(std::make_shared<impl>(side)) {
    SSL_CTX* ctx = impl_->ssl.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // A renegotiation would make a write wait for a read: refused.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    impl_->ssl.set_verify_mode(side == role::client ? asio::ssl::verify_peer
                                                    : asio::ssl::verify_none);
}

role context::side() const noexcept {
    return impl_->side;
}

void context::use_certificate_chain_file(const std::string& path) {
    impl_->ssl.use_certificate_chain_file(path);
}
void context::use_certificate_chain(std::string_view pem) {
    impl_->ssl.use_certificate_chain(asio::buffer(pem.data(), pem.size()));
}
void context::use_private_key_file(const std::string& path) {
    impl_->ssl.use_private_key_file(path, asio::ssl::context::pem);
}
void context::use_private_key(std::string_view pem) {
    impl_->ssl.use_private_key(asio::buffer(pem.data(), pem.size()), asio::ssl::context::pem);
}
void context::add_certificate_authority(std::string_view pem) {
    impl_->ssl.add_certificate_authority(asio::buffer(pem.data(), pem.size()));
}
void context::load_verify_file(const std::string& path) {
    impl_->ssl.load_verify_file(path);
}
void context::set_default_verify_paths() {
    impl_->ssl.set_default_verify_paths();
}
void context::set_verify_peer(bool on) {
    if (!on)
        impl_->ssl.set_verify_mode(asio::ssl::verify_none);
    else if (impl_->side == role::client)
        impl_->ssl.set_verify_mode(asio::ssl::verify_peer);
    else
        impl_->ssl.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
}

ssl_ctx_st* context::native_handle() const noexcept {
    return impl_->ssl.native_handle();
}

// ---------------------------------------------------------------- stream state

namespace {

/// Bytes each direction of the BIO pair holds: several records, so that one
/// socket send can carry several.
constexpr std::size_t bio_buffer = 64 * 1024;

/// Holds `m` once taken, and releases it on exit.
class hold {
public:
    explicit hold(coronet::mutex& m) noexcept : m_(m) {}
    hold(const hold&) = delete;
    hold& operator=(const hold&) = delete;
    ~hold() {
        if (held_) m_.unlock();
    }
    bool try_take() noexcept { return held_ = m_.try_lock(); }
    task<void> take() {
        if (!m_.try_lock()) co_await m_.lock();
        held_ = true;
    }

private:
    coronet::mutex& m_;
    bool held_ = false;
};

}  // namespace

/// One TLS connection: the TCP stream, the SSL object and the BIO pair
/// between them. OpenSSL reads and writes its end of the pair (`inner`);
/// the stream moves bytes between the other end (`network`) and the socket,
/// always through the TCP stream, so the dispatcher sees every operation.
///
/// Moving bytes suspends, and a reader and a writer may both need to move
/// them (a read can produce an alert, a write can wait for the socket), so
/// each direction has a mutex: bytes leave in the order OpenSSL wrote them,
/// and arrive in the order the socket gave them.
struct stream::state {
    tcp::stream lower;
    SSL* ssl = nullptr;
    BIO* network = nullptr;
    coronet::mutex sending;    // held while moving bytes from `network` to the socket
    coronet::mutex receiving;  // held while moving bytes from the socket to `network`
    std::uint64_t received_batches = 0;
    bool lower_eof = false;

    explicit state(tcp::stream s) : lower(std::move(s)) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
        if (ssl) SSL_free(ssl);  // frees the inner BIO too
        if (network) BIO_free(network);
    }

    /// Sets up the SSL object for `ctx`, for one side.
    void init(const context& ctx) {
        ssl = SSL_new(ctx.native_handle());
        if (!ssl) throw_tls_error("TLS setup");
        BIO* inner = nullptr;
        if (BIO_new_bio_pair(&inner, bio_buffer, &network, bio_buffer) != 1)
            throw_tls_error("TLS setup");
        SSL_set_bio(ssl, inner, inner);
        SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    }

    /// Throws OpenSSL's error `code` (or, if none, the OS error `fallback`)
    /// with `what` and, when a certificate check failed, why it did.
    [[noreturn]] void throw_tls_error(std::string what, unsigned long code, int fallback = 0) {
        if (ssl) {
            long verify = SSL_get_verify_result(ssl);
            if (verify != X509_V_OK) {
                what += " (";
                what += X509_verify_cert_error_string(verify);
                what += ')';
            }
        }
        if (code == 0 && fallback != 0)
            throw std::system_error(fallback, std::system_category(), what);
        throw std::system_error(static_cast<int>(code), error_category(), what);
    }
    [[noreturn]] void throw_tls_error(std::string what) {
        unsigned long code = ERR_get_error();
        ERR_clear_error();
        throw_tls_error(std::move(what), code);
    }

    /// Sends what OpenSSL wrote into the pair. When another coroutine is
    /// sending already, it sends these bytes too: a reader leaves them to it
    /// (`wait` false) rather than wait behind a writer that may itself wait
    /// for the peer to read; a writer waits, so that its data is out when it
    /// returns.
    task<void> flush(bool wait) {
        hold guard(sending);
        if (!guard.try_take()) {
            if (!wait) co_return;
            co_await guard.take();
        }
        for (;;) {
            char* data = nullptr;
            int n = BIO_nread0(network, &data);
            if (n <= 0) break;
            // The bytes stay in the pair until they are sent: a record that
            // OpenSSL writes meanwhile goes behind them.
            co_await lower.send_all(std::as_bytes(std::span(data, static_cast<std::size_t>(n))));
            BIO_nread(network, &data, n);
        }
    }

    /// Receives from the socket into the pair: one batch, unless another
    /// coroutine delivered one while this one waited. False at end of stream.
    task<bool> fill() {
        std::uint64_t seen = received_batches;
        hold guard(receiving);
        co_await guard.take();
        if (received_batches != seen) co_return true;
        if (lower_eof) co_return false;
        char* room = nullptr;
        int space = BIO_nwrite0(network, &room);
        if (space <= 0) co_return true;  // OpenSSL has input it has not read yet
        std::size_t n = co_await lower.recv(
            std::as_writable_bytes(std::span(room, static_cast<std::size_t>(space))));
        if (n == 0) {
            lower_eof = true;
            BIO_shutdown_wr(network);  // OpenSSL reads end of stream
            co_return false;
        }
        BIO_nwrite(network, &room, static_cast<int>(n));
        ++received_batches;
        co_return true;
    }

    /// Runs `op` (an OpenSSL call: handshake, read, write, shutdown) until it
    /// completes, moving bytes as it asks. Its result, or 0 when the peer
    /// closed TLS. `what` names the operation in errors; `reading` says the
    /// caller is the reader (see flush).
    template <class Op>
    task<int> drive(const char* what, bool reading, Op op) {
        bool told_eof = false;
        for (;;) {
            ERR_clear_error();
            int r = op();
            int err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
            if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL) {
                // Taken now: other coroutines use the thread's error queue
                // while this one waits to send its alert.
                unsigned long code = ERR_get_error();
                ERR_clear_error();
                try {
                    co_await flush(false);  // the alert that tells the peer why
                } catch (const terminated&) {
                    throw;
                } catch (const std::system_error&) {
                    // The peer may be gone already: the TLS error says more.
                }
                if (lower_eof) throw_truncated(what);
                throw_tls_error(what, code, err == SSL_ERROR_SYSCALL ? EIO : 0);
            }
            if (BIO_ctrl_pending(network) > 0) co_await flush(!reading);
            switch (err) {
                case SSL_ERROR_NONE:
                    co_return r;
                case SSL_ERROR_ZERO_RETURN:
                    co_return 0;
                case SSL_ERROR_WANT_READ:
                    // At the end of the TCP stream OpenSSL is told so, and
                    // reports it as an error at its next call.
                    if (!co_await fill()) {
                        if (told_eof) throw_truncated(what);
                        told_eof = true;
                    }
                    break;
                case SSL_ERROR_WANT_WRITE:
                    // The pair is full: flushed above, by this coroutine or
                    // (a reader) by the one sending; wait for that to finish.
                    if (BIO_ctrl_pending(network) > 0) co_await flush(true);
                    break;
                default:
                    throw_tls_error(what, 0, EIO);
            }
        }
    }

    [[noreturn]] static void throw_truncated(const char* what) {
        ERR_clear_error();
        throw std::system_error(make_error_code(errc::end_of_stream),
                                std::string(what) + ": the peer closed TCP without closing TLS");
    }
};

// ---------------------------------------------------------------- stream

stream::stream() noexcept = default;
stream::stream(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
stream::stream(stream&&) noexcept = default;
stream& stream::operator=(stream&&) noexcept = default;
stream::~stream() = default;

bool stream::is_open() const noexcept {
    return s_ && s_->lower.is_open();
}

task<std::size_t> stream::read_some(std::span<std::byte> buffer) {
    state& s = *s_;
    std::size_t got = 0;
    int r = co_await s.drive(
        "TLS read", true, [&] { return SSL_read_ex(s.ssl, buffer.data(), buffer.size(), &got); });
    co_return r > 0 ? got : 0;
}

task<std::size_t> stream::write_some(std::span<const std::byte> data) {
    state& s = *s_;
    std::size_t put = 0;
    int r = co_await s.drive("TLS write", false,
                             [&] { return SSL_write_ex(s.ssl, data.data(), data.size(), &put); });
    if (r == 0) throw std::system_error(EPIPE, std::system_category(), "TLS write after close");
    co_return put;
}

task<void> stream::shutdown() {
    state& s = *s_;
    // 0 from SSL_shutdown: our close_notify is out, the peer's not yet in.
    co_await s.drive("TLS shutdown", false, [&] {
        int r = SSL_shutdown(s.ssl);
        return r == 0 ? 1 : r;
    });
    s.lower.shutdown_send();
}

void stream::close() noexcept {
    if (s_) s_->lower.close();
}

std::string stream::protocol_version() const {
    return s_ ? SSL_get_version(s_->ssl) : "";
}

tcp::stream& stream::lower() noexcept {
    return s_->lower;
}

// ---------------------------------------------------------------- handshakes

task<stream> client_handshake(context ctx, tcp::stream s, std::string server_name) {
    auto st = std::make_unique<stream::state>(std::move(s));
    st->init(ctx);
    std::error_code not_ip;
    asio::ip::make_address(server_name, not_ip);
    if (not_ip) {
        SSL_set_tlsext_host_name(st->ssl, server_name.c_str());
        SSL_set1_host(st->ssl, server_name.c_str());
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(st->ssl), server_name.c_str());
    }
    SSL_set_connect_state(st->ssl);
    co_await st->drive("TLS handshake", false, [&] { return SSL_do_handshake(st->ssl); });
    co_return stream(std::move(st));
}

task<stream> server_handshake(context ctx, tcp::stream s) {
    auto st = std::make_unique<stream::state>(std::move(s));
    st->init(ctx);
    SSL_set_accept_state(st->ssl);
    co_await st->drive("TLS handshake", false, [&] { return SSL_do_handshake(st->ssl); });
    co_return stream(std::move(st));
}

namespace {

task<stream> connect_and_handshake(context ctx, std::string host, std::uint16_t port) {
    auto lower = co_await tcp::connect(host, port);
    co_return co_await client_handshake(std::move(ctx), std::move(lower), host);
}

}  // namespace

task<stream> connect(context ctx, std::string host, std::uint16_t port,
                     std::chrono::steady_clock::duration timeout) {
    auto attempt = with_timeout(timeout, connect_and_handshake(std::move(ctx), host, port));
    auto s = co_await std::move(attempt);
    if (!s) throw std::system_error(make_error_code(errc::timed_out));
    co_return std::move(*s);
}

}  // namespace coronet::net::tls
