#include <coronet/net/udp.hpp>
#include <coronet_test.hpp>

#include "socket_test_support.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::io_op;
using coronet::task;
using coronet::testing::bytes_of;
using coronet::testing::error_of;
using coronet::testing::os_error;
namespace udp = coronet::udp;

class UdpTest : public coronet::testing::runtime_test {};

TEST_F(UdpTest, SendToAndRecvFromCarryTheSender) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        EXPECT_NE(server.local_endpoint().port(), 0);
        EXPECT_EQ(co_await client.send_to("ping", server.local_endpoint()), 4u);
        auto d = co_await server.recv_from();
        EXPECT_EQ(d.data, "ping");
        EXPECT_EQ(d.from, client.local_endpoint());
        co_await server.send_to("pong:" + d.data, d.from);
        auto reply = co_await client.recv_from();
        EXPECT_EQ(reply.data, "pong:ping");
        EXPECT_EQ(reply.from, server.local_endpoint());
    }());
}

TEST_F(UdpTest, AnUnboundSocketGetsAnAddressAtItsFirstSend) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::open();
        co_await client.send_to("hi", server.local_endpoint());
        auto d = co_await server.recv_from();
        EXPECT_EQ(d.from.port(), client.local_endpoint().port());
        EXPECT_NE(d.from.port(), 0);
    }());
}

TEST_F(UdpTest, DatagramBoundariesAreKept) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        for (std::string s : {"a", "", "bb", "ccc"})
            co_await client.send_to(s, server.local_endpoint());
        for (std::string s : {"a", "", "bb", "ccc"})
            EXPECT_EQ((co_await server.recv_from()).data, s);
    }());
}

TEST_F(UdpTest, ADatagramLongerThanTheBufferIsTruncatedAndSaysSo) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        co_await client.send_to(std::string(100, 'x'), server.local_endpoint());
        co_await client.send_to("short", server.local_endpoint());
        std::array<std::byte, 10> buf;
        auto r = co_await server.recv_from(buf);
        EXPECT_EQ(r.size, 10u);
        EXPECT_TRUE(r.truncated);
        EXPECT_EQ(r.from, client.local_endpoint());
        r = co_await server.recv_from(buf);  // the rest of the long one is gone
        EXPECT_EQ(r.size, 5u);
        EXPECT_FALSE(r.truncated);
    }());
}

TEST_F(UdpTest, ALargeDatagramRoundTripsAndAnOversizeOneIsRefused) {
    auto code = run([]() -> task<std::error_code> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        client.set_send_buffer_size(256 * 1024);
        server.set_receive_buffer_size(256 * 1024);
        std::string big(coronet::net::max_datagram, 'b');
        co_await client.send_to(big, server.local_endpoint());
        EXPECT_TRUE((co_await server.recv_from()).data == big);
        co_return co_await error_of(
            client.send_to(std::string(70000, 'x'), server.local_endpoint()));
    }());
    EXPECT_EQ(code, os_error(EMSGSIZE));
}

TEST_F(UdpTest, AConnectedSocketTalksToItsPeerOnly) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto stranger = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        client.connect(server.local_endpoint());
        EXPECT_EQ(client.remote_endpoint(), server.local_endpoint());
        co_await client.send("hello");
        auto d = co_await server.recv_from();
        EXPECT_EQ(d.data, "hello");
        co_await stranger.send_to("ignored", client.local_endpoint());  // filtered by the kernel
        co_await server.send_to("from the peer", d.from);
        EXPECT_EQ(co_await client.recv(), "from the peer");
        co_await server.send_to("into a buffer", d.from);
        std::array<std::byte, 64> buf;
        std::size_t n = co_await client.recv(buf);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), n), "into a buffer");
    }());
}

TEST_F(UdpTest, AConnectedSocketHearsThatNobodyListens) {
    auto code = run([]() -> task<std::error_code> {
        std::uint16_t port;
        {
            auto gone = udp::bind("127.0.0.1", 0);
            port = gone.local_endpoint().port();
        }
        auto client = co_await udp::connect("127.0.0.1", port);
        co_await client.send("anyone?");
        // The ICMP port unreachable comes back as an error of the next call.
        co_return co_await error_of(coronet::with_timeout(10s, client.recv()));
    }());
    EXPECT_EQ(code, os_error(ECONNREFUSED));
}

TEST_F(UdpTest, ConnectByNameResolvesThroughTheDispatcher) {
    run([]() -> task<void> {
        auto client = co_await udp::connect("localhost", 9);
        EXPECT_TRUE(client.remote_endpoint().address().is_loopback());
        EXPECT_EQ(client.remote_endpoint().port(), 9);
    }());
    auto r = rt_.io_stats(io_op::resolve);
    EXPECT_EQ(r.inline_completions + r.offloads, 1u);
}

TEST_F(UdpTest, ClosingASocketEndsAPendingRecvWithECANCELED) {
    auto code = run([]() -> task<std::error_code> {
        auto s = udp::bind("127.0.0.1", 0);
        auto reader = coronet::spawn(
            [&s]() -> task<std::error_code> { co_return co_await error_of(s.recv_from()); });
        co_await coronet::yield();
        s.close();
        co_return co_await reader.join();
    }());
    EXPECT_EQ(code, os_error(ECANCELED));
}

TEST_F(UdpTest, TerminatingACoroutineBlockedInRecvFromCancelsIt) {
    run([]() -> task<void> {
        auto s = udp::bind("127.0.0.1", 0);
        auto reader = coronet::spawn([&s]() -> task<void> { (void)co_await s.recv_from(); });
        co_await coronet::yield();
        reader.terminate();
        EXPECT_THROW(co_await reader.join(), coronet::terminated);
        auto timed = co_await coronet::with_timeout(20ms, s.recv_from());
        EXPECT_FALSE(timed.has_value());
        co_await s.send_to("still works", s.local_endpoint());
        EXPECT_EQ((co_await s.recv_from()).data, "still works");
    }());
}

TEST_F(UdpTest, ManyClientsOnBothShardsGetTheirOwnReplies) {
    run([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto to = server.local_endpoint();
        constexpr int clients = 20, rounds = 50;
        auto echo = coronet::spawn([&server]() -> task<void> {
            for (int i = 0; i < clients * rounds; ++i) {
                auto d = co_await server.recv_from();
                co_await server.send_to(d.data, d.from);
            }
        });
        std::vector<coronet::join_handle<int>> running;
        for (int c = 0; c < clients; ++c)
            running.push_back(coronet::spawn_on(
                static_cast<unsigned>(c) % coronet::shard_count(),
                [](udp::endpoint to, int c) -> task<int> {
                    auto s = udp::bind("127.0.0.1", 0);
                    int good = 0;
                    for (int i = 0; i < rounds; ++i) {
                        std::string m = std::to_string(c) + ":" + std::to_string(i);
                        co_await s.send_to(m, to);
                        good += (co_await s.recv_from()).data == m;
                    }
                    co_return good;
                },
                to, c));
        int good = 0;
        for (auto& r : running) good += co_await r.join();
        co_await echo.join();
        EXPECT_EQ(good, clients * rounds);
    }());
}

TEST_F(UdpTest, BroadcastCanBeTurnedOn) {
    run([]() -> task<void> {
        auto s = udp::bind("127.0.0.1", 0);
        s.set_broadcast(true);
        asio::socket_base::broadcast b;
        s.asio_socket().get_option(b);
        EXPECT_TRUE(b.value());
        co_return;
    }());
}

TEST_F(UdpTest, BindWithReusePortLetsTwoSocketsShareAPort) {
    run([]() -> task<void> {
        udp::bind_options o;
        o.reuse_port = true;
        auto a = udp::bind("127.0.0.1", 0, o);
        auto b = udp::bind("127.0.0.1", a.local_endpoint().port(), o);
        EXPECT_EQ(a.local_endpoint(), b.local_endpoint());
        EXPECT_THROW(udp::bind("127.0.0.1", a.local_endpoint().port()), std::system_error);
        co_return;
    }());
}

TEST(UdpDispatcherTest, AWaitingReceiverParksAndSendsCompleteInline) {
    coronet::runtime_options o;
    o.shards = 1;
    coronet::runtime rt(o);
    rt.sync_wait([]() -> task<void> {
        auto server = udp::bind("127.0.0.1", 0);
        auto client = udp::bind("127.0.0.1", 0);
        auto echo = coronet::spawn([&server]() -> task<void> {
            for (int i = 0; i < 20; ++i) {
                auto d = co_await server.recv_from();
                co_await server.send_to(d.data, d.from);
            }
        });
        for (int i = 0; i < 20; ++i) {
            co_await client.send_to("x", server.local_endpoint());
            (void)co_await client.recv_from();
        }
        co_await echo.join();
    }());
    EXPECT_GE(rt.io_stats(io_op::datagram_recv).epoll_waits, 20u);
    EXPECT_EQ(rt.io_stats(io_op::datagram_send).inline_completions, 40u);
    EXPECT_EQ(rt.io_stats(io_op::socket_recv).epoll_waits, 0u);  // counted apart from streams
}

TEST_F(UdpTest, NoDescriptorLeaks) {
    auto churn = []() -> task<void> {
        for (int i = 0; i < 10; ++i) {
            auto a = udp::bind("127.0.0.1", 0);
            auto b = co_await udp::connect("127.0.0.1", a.local_endpoint().port());
            co_await b.send("x");
            (void)co_await a.recv_from();
            (void)co_await coronet::with_timeout(1ms, a.recv_from());
        }
    };
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) rt_.spawn_on(shard, churn).wait();
    int before = coronet::testing::count_open_fds();
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) rt_.spawn_on(shard, churn).wait();
    EXPECT_EQ(coronet::testing::count_open_fds(), before);
}

}  // namespace
