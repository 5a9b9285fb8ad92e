#include <coronet/net/tls.hpp>
#include <coronet_test.hpp>

#include "socket_test_support.hpp"
#include "test_certificates.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <fstream>
#include <string>
#include <utility>

namespace {

using namespace std::chrono_literals;
using coronet::errc;
using coronet::io_op;
using coronet::task;
using coronet::testing::error_of;
using coronet::testing::os_error;
using coronet::testing::pem_identity;
using coronet::testing::test_authority;
namespace tcp = coronet::tcp;
namespace tls = coronet::tls;

/// The certificates of this test program, made once.
struct certificates {
    test_authority authority{"coronet test authority"};
    pem_identity server = authority.issue("localhost", "DNS:localhost,IP:127.0.0.1");
    pem_identity client = authority.issue("a client", "DNS:client.test");
    pem_identity self_signed = test_authority::self_signed("localhost", "DNS:localhost");
    test_authority stranger{"an authority nobody trusts"};
    pem_identity untrusted = stranger.issue("localhost", "DNS:localhost,IP:127.0.0.1");
};

certificates& certs() {
    static certificates c;
    return c;
}

tls::context server_context(const pem_identity& id) {
    tls::context ctx(tls::role::server);
    ctx.use_certificate_chain(id.certificate);
    ctx.use_private_key(id.key);
    return ctx;
}

/// A client that trusts the test authority.
tls::context client_context() {
    tls::context ctx(tls::role::client);
    ctx.add_certificate_authority(certs().authority.certificate());
    return ctx;
}

/// Accepts one connection and runs the server's handshake; the TLS stream or
/// the handshake's error.
struct accepted {
    tls::stream stream;
    std::error_code error;
    std::string what;
};

task<accepted> accept_one(tcp::listener& l, tls::context ctx) {
    accepted a;
    try {
        a.stream = co_await tls::server_handshake(std::move(ctx), co_await l.accept());
    } catch (const std::system_error& e) {
        a.error = e.code();
        a.what = e.what();
    }
    co_return a;
}

/// The message of the error a client handshake with `server_name` ends with.
struct refusal {
    std::error_code client, server;
    std::string client_what;
};

task<refusal> refused(tls::context server, tls::context client, std::string server_name) {
    auto l = tcp::listen("127.0.0.1", 0);
    auto serving = coronet::spawn(accept_one, std::ref(l), std::move(server));
    refusal r;
    try {
        auto lower = co_await tcp::connect(l.local_endpoint());
        (void)co_await tls::client_handshake(std::move(client), std::move(lower), server_name);
    } catch (const std::system_error& e) {
        r.client = e.code();
        r.client_what = e.what();
    }
    r.server = (co_await serving.join()).error;
    co_return r;
}

class TlsTest : public coronet::testing::runtime_test {
protected:
    void SetUp() override { (void)certs(); }
};

TEST_F(TlsTest, ATrustedCertificateForTheRightNamePasses) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn([&l]() -> task<void> {
            auto a = co_await accept_one(l, server_context(certs().server));
            EXPECT_FALSE(a.error) << a.what;
            // Echo messages until the client closes TLS.
            for (;;) {
                auto m = co_await error_of(a.stream.recv_msg());
                if (m) break;
            }
        });
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        EXPECT_EQ(s.protocol_version(), "TLSv1.3");
        co_await s.send_msg("hello over TLS");
        co_await s.shutdown();
        co_await serving.join();
    }());
}

TEST_F(TlsTest, MessagesAndBulkDataRoundTripAndBothSidesCloseCleanly) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn([&l]() -> task<std::size_t> {
            auto a = co_await accept_one(l, server_context(certs().server));
            std::size_t echoed = 0;
            for (;;) {
                std::string chunk = co_await a.stream.recv_some(100000);
                if (chunk.empty()) break;  // the client's close_notify
                co_await a.stream.send_all(chunk);
                echoed += chunk.size();
            }
            co_await a.stream.shutdown();
            co_return echoed;
        });
        auto s = co_await tls::connect(client_context(), "127.0.0.1", l.port(), 10s);
        std::string big(8 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + i / 977);
        // A writer and a reader on the one stream at once: full duplex.
        auto writer = coronet::spawn([&s, &big]() -> task<void> {
            co_await s.send_msg("first");
            co_await s.send_all(big);
            co_await s.send_msg("");
        });
        EXPECT_EQ(co_await s.recv_msg(), "first");
        std::string back(big.size(), '\0');
        co_await s.recv_exactly(coronet::testing::bytes_of(back));
        EXPECT_TRUE(back == big);
        EXPECT_EQ(co_await s.recv_msg(), "");
        co_await writer.join();
        co_await s.shutdown();
        EXPECT_EQ(co_await s.recv_some(10), "");  // the server's close_notify
        EXPECT_EQ(co_await serving.join(), big.size() + 4 + 5 + 4);
    }());
}

TEST_F(TlsTest, AWrongHostNameIsRefusedWithAClearError) {
    auto r = run(refused(server_context(certs().server), client_context(), "example.com"));
    EXPECT_EQ(r.client.category(), tls::error_category());
    EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(r.client.value())),
              SSL_R_CERTIFICATE_VERIFY_FAILED);
    EXPECT_NE(r.client_what.find("hostname mismatch"), std::string::npos) << r.client_what;
    EXPECT_NE(r.client_what.find("certificate verify failed"), std::string::npos) << r.client_what;
    EXPECT_TRUE(r.server) << "the server hears the client's alert";
}

TEST_F(TlsTest, AWrongAddressIsRefused) {
    auto r = run(refused(server_context(certs().server), client_context(), "127.0.0.2"));
    EXPECT_NE(r.client_what.find("IP address mismatch"), std::string::npos) << r.client_what;
}

TEST_F(TlsTest, ACertificateFromAnUntrustedAuthorityIsRefused) {
    auto r = run(refused(server_context(certs().untrusted), client_context(), "localhost"));
    EXPECT_EQ(r.client.category(), tls::error_category());
    EXPECT_NE(r.client_what.find("unable to get local issuer certificate"), std::string::npos)
        << r.client_what;
}

TEST_F(TlsTest, AClientContextTrustsNoAuthorityUntilToldTo) {
    auto r =
        run(refused(server_context(certs().server), tls::context(tls::role::client), "localhost"));
    EXPECT_NE(r.client_what.find("unable to get local issuer certificate"), std::string::npos)
        << r.client_what;
}

TEST_F(TlsTest, ASelfSignedCertificateIsRefused) {
    auto r = run(refused(server_context(certs().self_signed), client_context(), "localhost"));
    EXPECT_NE(r.client_what.find("self-signed certificate"), std::string::npos) << r.client_what;
}

TEST_F(TlsTest, WithoutVerificationAnyCertificatePasses) {
    auto r = run([]() -> task<refusal> {
        tls::context trusting(tls::role::client);
        trusting.set_verify_peer(false);
        co_return co_await refused(server_context(certs().self_signed), trusting, "anything");
    }());
    EXPECT_FALSE(r.client) << r.client_what;
}

TEST_F(TlsTest, AServerThatVerifiesPeersWantsAClientCertificate) {
    auto verifying = [] {
        tls::context ctx = server_context(certs().server);
        ctx.add_certificate_authority(certs().authority.certificate());
        ctx.set_verify_peer(true);
        return ctx;
    };
    auto without = run(refused(verifying(), client_context(), "localhost"));
    EXPECT_TRUE(without.server);
    EXPECT_EQ(without.server.category(), tls::error_category());

    tls::context with = client_context();
    with.use_certificate_chain(certs().client.certificate);
    with.use_private_key(certs().client.key);
    auto r = run(refused(verifying(), with, "localhost"));
    EXPECT_FALSE(r.server);
    EXPECT_FALSE(r.client) << r.client_what;
}

TEST_F(TlsTest, CertificatesAndKeysFromFiles) {
    coronet::testing::scratch_dir dir;
    std::ofstream(dir / "server.pem") << certs().server.certificate;
    std::ofstream(dir / "server.key") << certs().server.key;
    std::ofstream(dir / "ca.pem") << certs().authority.certificate();
    tls::context server(tls::role::server);
    server.use_certificate_chain_file(dir / "server.pem");
    server.use_private_key_file(dir / "server.key");
    tls::context client(tls::role::client);
    client.load_verify_file(dir / "ca.pem");
    auto r = run(refused(server, client, "localhost"));
    EXPECT_FALSE(r.client) << r.client_what;
    EXPECT_THROW(server.use_private_key_file(dir / "missing.key"), std::system_error);
}

TEST_F(TlsTest, BadPemTextIsRefused) {
    tls::context ctx(tls::role::server);
    EXPECT_THROW(ctx.use_certificate_chain("not a certificate"), std::system_error);
    EXPECT_THROW(ctx.use_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n"), std::system_error);
    EXPECT_THROW(ctx.add_certificate_authority("junk"), std::system_error);
}

TEST_F(TlsTest, APeerThatDropsTcpWithoutClosingTlsIsATruncation) {
    auto code = run([]() -> task<std::error_code> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn([&l]() -> task<void> {
            auto a = co_await accept_one(l, server_context(certs().server));
            co_await a.stream.send_all("partial");
            a.stream.lower().shutdown_send();  // TCP ends, TLS never closed
            (void)co_await error_of(a.stream.recv_some(10));
        });
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        EXPECT_EQ(co_await s.recv_some(100), "partial");
        auto code = co_await error_of(s.recv_some(100));
        s.close();
        co_await serving.join();
        co_return code;
    }());
    EXPECT_EQ(code, errc::end_of_stream);
}

TEST_F(TlsTest, APeerResetMidMessageIsAnError) {
    auto code = run([]() -> task<std::error_code> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn([&l]() -> task<void> {
            auto a = co_await accept_one(l, server_context(certs().server));
            co_await a.stream.send_all(std::string_view("\0\0\0\x64partial", 11));
            a.stream.lower().set_linger_reset();
            a.stream.close();
        });
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        co_await serving.join();
        co_return co_await error_of(s.recv_msg());
    }());
    EXPECT_EQ(code, os_error(ECONNRESET));
}

TEST_F(TlsTest, TerminatingOrClosingEndsAPendingRead) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn(accept_one, std::ref(l), server_context(certs().server));
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        auto server = co_await serving.join();
        auto stuck = coronet::spawn([&s]() -> task<void> { (void)co_await s.recv_msg(); });
        co_await coronet::yield();
        stuck.terminate();
        EXPECT_THROW(co_await stuck.join(), coronet::terminated);
        auto reader = coronet::spawn(
            [&s]() -> task<std::error_code> { co_return co_await error_of(s.recv_msg()); });
        co_await coronet::yield();
        s.close();
        EXPECT_EQ(co_await reader.join(), os_error(ECANCELED));
    }());
}

TEST_F(TlsTest, ConnectTimesOutAgainstAServerThatNeverAnswers) {
    auto code = run([]() -> task<std::error_code> {
        auto l = tcp::listen("127.0.0.1", 0);  // accepts in the backlog, never speaks TLS
        co_return co_await error_of(tls::connect(client_context(), "localhost", l.port(), 100ms));
    }());
    EXPECT_EQ(code, errc::timed_out);
}

TEST(TlsDispatcherTest, TheHandshakeGoesThroughTheDispatcher) {
    (void)certs();
    coronet::runtime_options o;
    o.shards = 1;
    coronet::runtime rt(o);
    rt.sync_wait([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn(accept_one, std::ref(l), server_context(certs().server));
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        EXPECT_FALSE((co_await serving.join()).error);
    }());
    auto recv = rt.io_stats(io_op::socket_recv);
    auto send = rt.io_stats(io_op::socket_send);
    // Each side reads the other's flights of handshake messages: inline when
    // its read, yielding after its own flight, found them already there.
    EXPECT_GE(recv.inline_completions + recv.epoll_waits, 2u);
    EXPECT_GE(send.inline_completions, 3u);
}

TEST(TlsDispatcherTest, AlwaysAsyncDrivesTheHandshakeThroughTheEventLoop) {
    (void)certs();
    coronet::runtime_options o;
    o.shards = 1;
    o.io = coronet::io_mode::always_async;
    coronet::runtime rt(o);
    rt.sync_wait([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto serving = coronet::spawn([&l]() -> task<std::string> {
            auto a = co_await accept_one(l, server_context(certs().server));
            co_return co_await a.stream.recv_msg();
        });
        auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
        co_await s.send_msg("async");
        EXPECT_EQ(co_await serving.join(), "async");
    }());
    EXPECT_EQ(rt.io_stats(io_op::socket_recv).inline_completions, 0u);
    EXPECT_EQ(rt.io_stats(io_op::socket_send).inline_completions, 0u);
    EXPECT_GE(rt.io_stats(io_op::socket_send).skipped_attempts, 3u);
}

TEST_F(TlsTest, NoDescriptorLeaks) {
    auto churn = []() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        for (int i = 0; i < 5; ++i) {
            auto serving = coronet::spawn(accept_one, std::ref(l), server_context(certs().server));
            auto s = co_await tls::connect(client_context(), "localhost", l.port(), 10s);
            auto a = co_await serving.join();
            co_await s.send_msg("x");
            (void)co_await a.stream.recv_msg();
        }
        (void)co_await refused(server_context(certs().untrusted), client_context(), "localhost");
        (void)co_await error_of(tls::connect(client_context(), "localhost", l.port(), 10ms));
    };
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) rt_.spawn_on(shard, churn).wait();
    int before = coronet::testing::count_open_fds();
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) rt_.spawn_on(shard, churn).wait();
    EXPECT_EQ(coronet::testing::count_open_fds(), before);
}

}  // namespace
