#include <coronet/net/tcp.hpp>
#include <coronet_test.hpp>

#include "socket_test_support.hpp"

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::errc;
using coronet::io_op;
using coronet::task;
using coronet::testing::bytes_of;
using coronet::testing::error_of;
using coronet::testing::os_error;
namespace tcp = coronet::tcp;

class TcpTest : public coronet::testing::runtime_test {};

/// Two ends of one loopback connection: connecting completes in the
/// listener's backlog, so one coroutine can make both.
struct connection {
    tcp::stream client;
    tcp::stream server;
};

task<connection> connect_pair(tcp::listener& l) {
    connection c;
    c.client = co_await tcp::connect(l.local_endpoint());
    c.server = co_await l.accept();
    co_return c;
}

task<connection> connect_pair() {
    auto l = tcp::listen("127.0.0.1", 0);
    co_return co_await connect_pair(l);
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

/// The frame of `payload`, as send_msg puts it on the wire.
std::string frame(std::string_view payload) {
    auto n = static_cast<std::uint32_t>(payload.size());
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
    out += payload;
    return out;
}

coronet::runtime_options one_shard(coronet::io_mode mode = coronet::io_mode::adaptive) {
    coronet::runtime_options o;
    o.shards = 1;
    o.io = mode;
    return o;
}

// ---------------------------------------------------------------- connect, accept

TEST_F(TcpTest, ConnectAcceptAndExchangeBytes) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        EXPECT_NE(l.port(), 0);
        auto [client, server] = co_await connect_pair(l);
        EXPECT_EQ(client.remote_endpoint(), l.local_endpoint());
        EXPECT_EQ(server.remote_endpoint(), client.local_endpoint());

        EXPECT_EQ(co_await client.send(bytes_of("hello")), 5u);
        EXPECT_EQ(co_await server.recv_some(100), "hello");
        co_await server.send_all("world");
        std::array<std::byte, 16> buf;
        std::size_t n = co_await client.recv(buf);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), n), "world");
    }());
}

TEST_F(TcpTest, ConnectByNameResolvesThroughTheDispatcher) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto client = co_await tcp::connect("localhost", l.port(), 5s);
        auto server = co_await l.accept();
        co_await client.send_all("x");
        EXPECT_EQ(co_await server.recv_some(1), "x");
    }());
    auto r = rt_.io_stats(io_op::resolve);
    EXPECT_EQ(r.inline_completions + r.offloads, 1u);
}

TEST_F(TcpTest, ConnectToANumericAddressResolvesNothing) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto client = co_await tcp::connect("127.0.0.1", l.port());
        EXPECT_TRUE(client.is_open());
    }());
    auto r = rt_.io_stats(io_op::resolve);
    EXPECT_EQ(r.inline_completions + r.offloads, 0u);
}

TEST_F(TcpTest, ConnectToAClosedPortIsRefused) {
    auto code = run([]() -> task<std::error_code> {
        std::uint16_t port;
        {
            auto l = tcp::listen("127.0.0.1", 0);
            port = l.port();
        }
        co_return co_await error_of(tcp::connect("127.0.0.1", port));
    }());
    EXPECT_EQ(code, os_error(ECONNREFUSED));
}

TEST_F(TcpTest, ConnectToAnUnknownHostFails) {
    auto code = run(error_of(tcp::connect("no-such-host.invalid", 80, 10s)));
    EXPECT_TRUE(code) << "resolution of .invalid must fail";
}

TEST_F(TcpTest, ConnectTimesOutWhenTheListenersBacklogIsFull) {
    // Backlog 0: the accept queue takes one connection and the kernel drops
    // the SYNs that follow, so a later connect waits until its time is up.
    auto timed_out = run([]() -> task<int> {
        tcp::listen_options o;
        o.backlog = 0;
        auto l = tcp::listen("127.0.0.1", 0, o);
        std::vector<tcp::stream> queued;
        for (int i = 0; i < 8; ++i) {
            try {
                queued.push_back(co_await tcp::connect(l.local_endpoint(), 200ms));
            } catch (const std::system_error& e) {
                EXPECT_EQ(e.code(), errc::timed_out);
                co_return i;
            }
        }
        co_return -1;
    }());
    EXPECT_GE(timed_out, 1);
}

TEST_F(TcpTest, ListenOnABusyPortFails) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        tcp::listen_options o;
        o.reuse_address = false;
        EXPECT_THROW(tcp::listen("127.0.0.1", l.port(), o), std::system_error);
        co_return;
    }());
}

TEST_F(TcpTest, ReusePortLetsTwoListenersShareAPort) {
    run([]() -> task<void> {
        tcp::listen_options o;
        o.reuse_port = true;
        auto a = tcp::listen("127.0.0.1", 0, o);
        auto b = tcp::listen("127.0.0.1", a.port(), o);
        EXPECT_EQ(a.port(), b.port());
        co_return;
    }());
}

// ---------------------------------------------------------------- bulk and framing

TEST_F(TcpTest, SendAllAndRecvExactlyMoveLargeBuffersBothWays) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        const std::string data = pattern(4 << 20);
        // The receiver runs beside the sender: 4 MiB does not fit in the buffers.
        auto receiver = coronet::spawn([&server = server]() -> task<std::string> {
            std::string got(4 << 20, '\0');
            co_await server.recv_exactly(bytes_of(got));
            co_await server.send_all(got);
            co_return got;
        });
        co_await client.send_all(data);
        std::string echoed(data.size(), '\0');
        co_await client.recv_exactly(bytes_of(echoed));
        EXPECT_TRUE(co_await receiver.join() == data);
        EXPECT_TRUE(echoed == data);
    }());
}

TEST_F(TcpTest, RecvExactlyFailsWithEndOfStreamWhenThePeerClosesEarly) {
    auto code = run([]() -> task<std::error_code> {
        auto [client, server] = co_await connect_pair();
        co_await client.send_all("abc");
        client.close();
        std::string buf(10, '\0');
        co_return co_await error_of(server.recv_exactly(bytes_of(buf)));
    }());
    EXPECT_EQ(code, errc::end_of_stream);
}

TEST_F(TcpTest, FramedMessagesOfEverySizeRoundTrip) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        const std::vector<std::size_t> sizes{
            0, 1, 479, 480, 481, 4096, 70000, 256 * 1024, 256 * 1024 + 1, 3 << 20};
        auto receiver = coronet::spawn([&server = server, &sizes]() -> task<int> {
            int good = 0;
            for (std::size_t n : sizes) good += (co_await server.recv_msg()) == pattern(n);
            co_return good;
        });
        for (std::size_t n : sizes) co_await client.send_msg(pattern(n));
        EXPECT_EQ(co_await receiver.join(), static_cast<int>(sizes.size()));
    }());
}

TEST_F(TcpTest, AFrameSentByteByByteIsReassembled) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        client.set_no_delay(true);
        auto receiver = coronet::spawn(
            [&server = server]() -> task<std::string> { co_return co_await server.recv_msg(); });
        for (char c : frame("split into pieces")) {
            co_await client.send_all(std::string_view(&c, 1));
            co_await coronet::yield();  // the receiver takes what came so far
        }
        EXPECT_EQ(co_await receiver.join(), "split into pieces");
    }());
}

TEST_F(TcpTest, TwoFramesInOneWriteAndAFrameAcrossTwoWritesAreSplitCorrectly) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        std::string wire = frame("first") + frame("") + frame("second");
        std::string third = frame(pattern(1000));
        wire += third.substr(0, 3);  // a header cut in the middle
        co_await client.send_all(wire);
        EXPECT_EQ(co_await server.recv_msg(), "first");
        EXPECT_EQ(co_await server.recv_msg(), "");
        EXPECT_EQ(co_await server.recv_msg(), "second");
        auto pending = coronet::spawn(
            [&server = server]() -> task<std::string> { co_return co_await server.recv_msg(); });
        co_await coronet::yield();
        co_await client.send_all(std::string_view(third).substr(3, 500));
        co_await coronet::yield();
        co_await client.send_all(std::string_view(third).substr(503));
        EXPECT_EQ(co_await pending.join(), pattern(1000));
    }());
}

TEST_F(TcpTest, AnOversizeFrameIsRefusedBeforeItsPayloadIsRead) {
    auto what = run([]() -> task<std::string> {
        auto [client, server] = co_await connect_pair();
        // Only the header is sent: reading the payload would wait for ever.
        co_await client.send_all(std::string_view("\x00\x10\x00\x00", 4));
        try {
            (void)co_await coronet::with_timeout(10s, server.recv_msg(1024));
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), errc::message_too_large);
            co_return e.what();
        }
        co_return "no error";
    }());
    EXPECT_EQ(what,
              "recv_msg: a frame of 1048576 bytes, the limit is 1024: message larger than the "
              "frame size limit");
}

TEST_F(TcpTest, APeerResetMidMessageIsAnErrorNotACrash) {
    auto code = run([]() -> task<std::error_code> {
        auto [client, server] = co_await connect_pair();
        // A 100-byte frame of which 10 bytes come, then a reset.
        co_await server.send_all(frame(pattern(100)).substr(0, 14));
        server.set_linger_reset();
        server.close();
        co_return co_await error_of(client.recv_msg());
    }());
    EXPECT_EQ(code, os_error(ECONNRESET));
}

TEST_F(TcpTest, SendingToAResetPeerIsAnError) {
    auto code = run([]() -> task<std::error_code> {
        auto [client, server] = co_await connect_pair();
        server.set_linger_reset();
        server.close();
        std::string chunk(64 * 1024, 'x');
        // The first send may still be accepted locally; later ones fail.
        co_return co_await error_of([&client = client, &chunk]() -> task<void> {
            for (int i = 0; i < 100; ++i) co_await client.send_all(chunk);
        }());
    }());
    EXPECT_TRUE(code == os_error(EPIPE) || code == os_error(ECONNRESET)) << code.message();
}

// ---------------------------------------------------------------- half-close, close

TEST_F(TcpTest, HalfCloseLetsThePeerReadToTheEndAndStillReply) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        co_await client.send_all("the whole request");
        client.shutdown_send();
        std::string request;
        for (;;) {
            std::string part = co_await server.recv_some(4);
            if (part.empty()) break;
            request += part;
        }
        EXPECT_EQ(request, "the whole request");
        co_await server.send_all("reply");
        server.close();
        EXPECT_EQ(co_await client.recv_some(100), "reply");
        EXPECT_EQ(co_await client.recv_some(100), "");
    }());
}

TEST_F(TcpTest, ClosingAStreamEndsAPendingRecvWithECANCELED) {
    auto code = run([]() -> task<std::error_code> {
        auto [client, server] = co_await connect_pair();
        auto reader = coronet::spawn([&server = server]() -> task<std::error_code> {
            co_return co_await error_of(server.recv_some(10));
        });
        co_await coronet::yield();  // the reader waits in the event loop
        server.close();
        co_return co_await reader.join();
    }());
    EXPECT_EQ(code, os_error(ECANCELED));
}

TEST_F(TcpTest, ClosingAListenerEndsAPendingAccept) {
    auto code = run([]() -> task<std::error_code> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto acceptor = coronet::spawn(
            [&l]() -> task<std::error_code> { co_return co_await error_of(l.accept()); });
        co_await coronet::yield();
        l.close();
        co_return co_await acceptor.join();
    }());
    EXPECT_EQ(code, os_error(ECANCELED));
}

TEST_F(TcpTest, TerminatingACoroutineBlockedInRecvCancelsIt) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        auto reader = coronet::spawn(
            [&server = server]() -> task<std::string> { co_return co_await server.recv_some(10); });
        co_await coronet::yield();
        reader.terminate();
        EXPECT_THROW(co_await reader.join(), coronet::terminated);
        // The stream is still good: the wait was cancelled, not the connection.
        co_await client.send_all("after");
        EXPECT_EQ(co_await server.recv_some(10), "after");
    }());
}

TEST_F(TcpTest, TerminatingACoroutineBlockedInAcceptCancelsIt) {
    run([]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        auto acceptor = coronet::spawn([&l]() -> task<void> { (void)co_await l.accept(); });
        co_await coronet::yield();
        acceptor.terminate();
        EXPECT_THROW(co_await acceptor.join(), coronet::terminated);
        auto [client, server] = co_await connect_pair(l);
        EXPECT_TRUE(server.is_open());
    }());
}

TEST_F(TcpTest, ATimeoutAroundRecvIsAValueAndTheStreamStaysUsable) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        auto nothing = co_await coronet::with_timeout(50ms, server.recv_msg());
        EXPECT_FALSE(nothing.has_value());
        co_await client.send_msg("late");
        auto late = co_await coronet::with_timeout(5s, server.recv_msg());
        EXPECT_EQ(late.value_or(""), "late");
    }());
}

// ---------------------------------------------------------------- options, descriptors

TEST_F(TcpTest, SocketOptionsAreApplied) {
    run([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        client.set_no_delay(true);
        client.set_keep_alive(true);
        client.set_receive_buffer_size(64 * 1024);
        client.set_send_buffer_size(64 * 1024);
        asio::ip::tcp::no_delay nd;
        client.asio_socket().get_option(nd);
        EXPECT_TRUE(nd.value());
        asio::socket_base::keep_alive ka;
        client.asio_socket().get_option(ka);
        EXPECT_TRUE(ka.value());
        asio::socket_base::receive_buffer_size rb;
        client.asio_socket().get_option(rb);
        EXPECT_GE(rb.value(), 64 * 1024);  // Linux doubles it
    }());
}

/// Connections, errors and cancellations of every kind, on both shards.
task<void> churn() {
    auto l = tcp::listen("127.0.0.1", 0);
    for (int i = 0; i < 20; ++i) {
        auto [client, server] = co_await connect_pair(l);
        co_await client.send_msg("x");
        (void)co_await server.recv_msg();
        if (i % 2) client.set_linger_reset();
    }
    // A cancelled reader, a timed-out recv, a refused connect, an accept cut short.
    auto [client, server] = co_await connect_pair(l);
    auto reader = coronet::spawn(
        [&server = server]() -> task<std::string> { co_return co_await server.recv_some(1); });
    co_await coronet::yield();
    reader.terminate();
    (void)co_await error_of(reader.join());
    (void)co_await coronet::with_timeout(10ms, client.recv_msg());
    auto acceptor = coronet::spawn([&l]() -> task<void> { (void)co_await l.accept(); });
    co_await coronet::yield();
    acceptor.terminate();
    (void)co_await error_of(acceptor.join());
    std::uint16_t port = l.port();
    l.close();
    (void)co_await error_of(tcp::connect("127.0.0.1", port));
}

TEST_F(TcpTest, NoDescriptorLeaksAcrossConnectionsErrorsAndCancellations) {
    // The first round lets each shard's event loop make its own descriptors.
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) rt_.spawn_on(shard, churn).wait();
    int before = coronet::testing::count_open_fds();
    for (int round = 0; round < 3; ++round)
        for (unsigned shard = 0; shard < rt_.shard_count(); ++shard)
            rt_.spawn_on(shard, churn).wait();
    EXPECT_EQ(coronet::testing::count_open_fds(), before);
}

// ---------------------------------------------------------------- the dispatcher's decisions

/// Request and response, `rounds` times, between two coroutines of one shard.
task<void> ping_pong(int rounds) {
    auto [client, server] = co_await connect_pair();
    auto echo = coronet::spawn([&server = server, rounds]() -> task<void> {
        for (int i = 0; i < rounds; ++i) co_await server.send_msg(co_await server.recv_msg());
    });
    for (int i = 0; i < rounds; ++i) {
        co_await client.send_msg("ping");
        EXPECT_EQ(co_await client.recv_msg(), "ping");
    }
    co_await echo.join();
}

TEST(TcpDispatcherTest, ReadsBeforeThePeerWroteWaitInTheEventLoopAndStopGuessing) {
    coronet::runtime rt(one_shard());
    rt.sync_wait([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        coronet::semaphore turn(0);
        auto writer = coronet::spawn([&turn, &client = client]() -> task<void> {
            for (int i = 0; i < 200; ++i) {
                co_await turn.acquire();
                co_await client.send_msg("ping");
            }
        });
        for (int i = 0; i < 200; ++i) {
            turn.release();  // the writer is ready, but has not run yet
            EXPECT_EQ(co_await server.recv_msg(), "ping");
        }
        co_await writer.join();
    }());
    auto recv = rt.io_stats(io_op::socket_recv);
    EXPECT_GE(recv.epoll_waits, 200u);  // each read came before its message
    // After a run of misses the first attempt is mostly skipped.
    EXPECT_GT(recv.skipped_attempts, 100u);
    EXPECT_LT(recv.speculative_misses, 100u);
    auto send = rt.io_stats(io_op::socket_send);
    EXPECT_EQ(send.inline_completions, 200u);  // sends always find room
    EXPECT_EQ(send.epoll_waits, 0u);
}

TEST(TcpDispatcherTest, RequestAndResponseOnOneShardNeverWaitInTheEventLoop) {
    // Each side reads right after its send, so it yields first and the other
    // side, ready meanwhile, answers before the read is made.
    coronet::runtime rt(one_shard());
    rt.sync_wait(ping_pong(200));
    auto recv = rt.io_stats(io_op::socket_recv);
    EXPECT_EQ(recv.epoll_waits, 0u);
    EXPECT_EQ(recv.inline_completions, 400u);
    EXPECT_EQ(rt.io_stats(io_op::socket_send).inline_completions, 400u);
}

TEST(TcpDispatcherTest, AStreamingReceiverCompletesInline) {
    coronet::runtime rt(one_shard());
    rt.sync_wait([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        co_await client.send_all(pattern(20000));
        std::array<std::byte, 20> chunk;
        for (int i = 0; i < 1000; ++i) co_await server.recv_exactly(chunk);
    }());
    auto recv = rt.io_stats(io_op::socket_recv);
    EXPECT_EQ(recv.inline_completions, 1000u);  // the data was there each time
    EXPECT_EQ(recv.epoll_waits, 0u);
    EXPECT_GT(recv.budget_yields, 0u);  // and the receiver let others run meanwhile
}

TEST(TcpDispatcherTest, MessagesThatCameTogetherCostOneRecv) {
    coronet::runtime rt(one_shard());
    rt.sync_wait([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        for (int i = 0; i < 1000; ++i) co_await client.send_msg(pattern(20));
        for (int i = 0; i < 1000; ++i) EXPECT_EQ(co_await server.recv_msg(), pattern(20));
    }());
    auto recv = rt.io_stats(io_op::socket_recv);
    // 24,000 bytes read ahead 4 KiB at a time.
    EXPECT_LE(recv.inline_completions, 7u);
    EXPECT_EQ(recv.epoll_waits, 0u);
}

TEST(TcpDispatcherTest, SessionsWokenByOnePollEachHaveTheirOwnInlineBudget) {
    // Sixteen requests arrive together: one poll of the event loop resumes
    // the sixteen sessions waiting for them. Each answers with two sends that
    // complete inline, within its budget of four; none is made to yield for
    // what the sessions resumed before it did.
    auto o = one_shard();
    o.io_policy.inline_budget = 4;
    coronet::runtime rt(o);
    constexpr int sessions = 16;
    rt.sync_wait([&rt]() -> task<void> {
        auto l = tcp::listen("127.0.0.1", 0);
        std::vector<connection> pairs;
        for (int i = 0; i < sessions; ++i) pairs.push_back(co_await connect_pair(l));
        std::vector<coronet::join_handle<void>> served;
        for (auto& p : pairs) {
            served.push_back(coronet::spawn([&s = p.server]() -> task<void> {
                std::array<std::byte, 8> request;
                EXPECT_EQ(co_await s.recv(request), 1u);
                co_await s.send_all("a");
                co_await s.send_all("b");
            }));
        }
        while (rt.io_stats(io_op::socket_recv).epoll_waits < sessions) co_await coronet::yield();
        // All wait in the event loop: write every request before it polls
        // again, with plain system calls that the dispatcher does not count.
        for (auto& p : pairs) EXPECT_EQ(::send(p.client.native_handle(), "?", 1, 0), 1);
        for (auto& s : served) co_await s.join();
        for (auto& p : pairs) {
            std::array<std::byte, 2> answer;
            co_await p.client.recv_exactly(answer);
            EXPECT_EQ(std::memcmp(answer.data(), "ab", 2), 0);
        }
    }());
    auto send = rt.io_stats(io_op::socket_send);
    EXPECT_EQ(send.inline_completions, 2u * sessions);
    EXPECT_EQ(send.budget_yields, 0u);
}

TEST(TcpDispatcherTest, AReceiveRightAfterASendLetsTheReadyCoroutinesRunFirst) {
    coronet::runtime rt(one_shard());
    rt.sync_wait([]() -> task<void> {
        auto [client, server] = co_await connect_pair();
        co_await client.send_all("12");  // both requests wait in the server's socket
        std::array<std::byte, 1> request;
        int others_ran = 0;
        auto other = [&others_ran]() -> task<void> {
            ++others_ran;
            co_return;
        };

        // Read with nothing sent before: the data is there, the read
        // completes inline and nothing else runs meanwhile.
        auto first = coronet::spawn(other);
        co_await server.recv_exactly(request);
        EXPECT_EQ(others_ran, 0);

        // Send, then read in the same resumption: the read lets the
        // coroutine that was ready run first, though its data is there too.
        co_await server.send_all("a");
        co_await server.recv_exactly(request);
        EXPECT_EQ(others_ran, 1);
        EXPECT_EQ(static_cast<char>(request[0]), '2');
        co_await first.join();
    }());
    EXPECT_EQ(rt.io_stats(io_op::socket_recv).inline_completions, 2u);
}

TEST(TcpDispatcherTest, ABusyShardStillNoticesASocketThatBecameReadable) {
    coronet::runtime rt(one_shard());
    // One coroutine keeps the shard busy (it yields, never waits) until the
    // other has read its message: the shard never sleeps, so only its polls
    // of the event loop, which back off while they find nothing, can see the
    // data arrive.
    auto waited = rt.sync_wait([]() -> task<std::chrono::steady_clock::duration> {
        using clock = std::chrono::steady_clock;
        auto [client, server] = co_await connect_pair();
        bool read = false;
        auto reader = coronet::spawn([&read, &server = server]() -> task<void> {
            EXPECT_EQ(co_await server.recv_msg(), "late");
            read = true;
        });
        // Long enough for the polls to have backed off as far as they go.
        for (auto start = clock::now(); clock::now() - start < 200ms;) co_await coronet::yield();
        co_await client.send_msg("late");
        auto sent = clock::now();
        while (!read && clock::now() - sent < 5s) co_await coronet::yield();
        auto waited = clock::now() - sent;
        co_await reader.join();
        co_return waited;
    }());
    // The polls back off to one per 160 us; 500 ms leaves room for a loaded machine.
    EXPECT_LT(waited, 500ms) << "the busy shard polled its event loop too seldom";
    EXPECT_GE(rt.io_stats(io_op::socket_recv).epoll_waits, 1u);
}

TEST(TcpDispatcherTest, AlwaysAsyncWaitsForReadinessFirst) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    rt.sync_wait(ping_pong(50));
    for (io_op op : {io_op::socket_recv, io_op::socket_send}) {
        auto c = rt.io_stats(op);
        EXPECT_EQ(c.inline_completions, 0u) << coronet::to_string(op);
        EXPECT_EQ(c.speculative_misses, 0u) << coronet::to_string(op);
        EXPECT_GE(c.skipped_attempts, 100u) << coronet::to_string(op);
        EXPECT_GE(c.epoll_waits, 100u) << coronet::to_string(op);
    }
}

TEST(TcpDispatcherTest, AlwaysSyncTriesEveryCallFirst) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_sync));
    rt.sync_wait(ping_pong(50));
    auto recv = rt.io_stats(io_op::socket_recv);
    EXPECT_EQ(recv.skipped_attempts, 0u);
    EXPECT_GE(recv.speculative_misses, 50u);
}

TEST(TcpDispatcherTest, ConnectAndAcceptAreCounted) {
    coronet::runtime rt(one_shard());
    rt.sync_wait([]() -> task<void> { (void)co_await connect_pair(); }());
    EXPECT_EQ(rt.io_stats(io_op::socket_connect).epoll_waits, 1u);  // the TCP handshake
    auto accept = rt.io_stats(io_op::socket_accept);
    EXPECT_EQ(accept.inline_completions + accept.epoll_waits, 1u);
}

}  // namespace
