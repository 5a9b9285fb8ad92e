#include <coronet/net/local.hpp>
#include <coronet_test.hpp>

#include "socket_test_support.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::errc;
using coronet::io_op;
using coronet::task;
using coronet::testing::bytes_of;
using coronet::testing::error_of;
using coronet::testing::os_error;
using coronet::testing::scratch_dir;
namespace local = coronet::local;

class LocalTest : public coronet::testing::runtime_test {
protected:
    scratch_dir dir_;
};

/// A name in the abstract namespace, unique to this process.
std::string abstract_name(const char* what) {
    return std::string(1, '\0') + "coronet-test-" + std::to_string(::getpid()) + "-" + what;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

TEST_F(LocalTest, ListenConnectAcceptWithTheTcpStreamApi) {
    run([](std::string path) -> task<void> {
        auto l = local::listen(path);
        EXPECT_EQ(l.path(), path);
        auto client = co_await local::connect(path);
        auto server = co_await l.accept();
        co_await client.send_msg("framed");
        EXPECT_EQ(co_await server.recv_msg(), "framed");
        co_await server.send_all("exactly");
        std::array<std::byte, 7> buf;
        co_await client.recv_exactly(buf);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), buf.size()), "exactly");
        client.shutdown_send();
        EXPECT_EQ(co_await server.recv_some(10), "");  // half-closed
        co_await server.send_all("still");
        EXPECT_EQ(co_await client.recv_some(10), "still");
    }(dir_ / "s"));
}

TEST_F(LocalTest, AbstractNamesNeedNoFile) {
    run([]() -> task<void> {
        std::string name = abstract_name("abstract");
        auto l = local::listen(name);
        auto client = co_await local::connect(name);
        auto server = co_await l.accept();
        co_await client.send_all("x");
        EXPECT_EQ(co_await server.recv_some(1), "x");
    }());
}

TEST_F(LocalTest, TheListenerRemovesItsSocketFileAndReplacesAStaleOne) {
    run([](std::string path) -> task<void> {
        {
            auto l = local::listen(path);
            EXPECT_TRUE(exists(path));
        }
        EXPECT_FALSE(exists(path));
        {
            // A socket file left behind by a process that ended.
            asio::local::stream_protocol::acceptor stale(coronet::net::detail::unbound_context());
            stale.open();
            stale.bind(local::endpoint(path));
        }
        EXPECT_TRUE(exists(path));
        auto l = local::listen(path);
        auto client = co_await local::connect(path);
        EXPECT_TRUE(client.is_open());
        l.close();
        EXPECT_FALSE(exists(path));
    }(dir_ / "s"));
}

TEST_F(LocalTest, ListenNeverRemovesAFileThatIsNotASocket) {
    std::string path = dir_ / "file";
    std::ofstream(path) << "data";
    run([](std::string path) -> task<void> {
        EXPECT_THROW(local::listen(path), std::system_error);
        co_return;
    }(path));
    EXPECT_TRUE(exists(path));
}

TEST_F(LocalTest, ConnectToNothingFails) {
    auto [missing,
          refused] = run([](std::string dir) -> task<std::pair<std::error_code, std::error_code>> {
        auto a = co_await error_of(local::connect(dir + "/missing"));
        std::string path = dir + "/dead";
        {
            asio::local::stream_protocol::acceptor dead(coronet::net::detail::unbound_context());
            dead.open();
            dead.bind(local::endpoint(path));  // bound, never listening
        }
        auto b = co_await error_of(local::connect(path));
        co_return std::pair{a, b};
    }(dir_.path()));
    EXPECT_EQ(missing, os_error(ENOENT));
    EXPECT_EQ(refused, os_error(ECONNREFUSED));
}

TEST_F(LocalTest, ConnectWaitsWhileTheBacklogIsFull) {
    run([](std::string path) -> task<void> {
        local::listen_options o;
        o.backlog = 1;
        auto l = local::listen(path, o);
        std::vector<local::stream> queued;
        // Fill the backlog: a connect that cannot get in waits, here until
        // its time is up.
        for (;;) {
            auto attempt = co_await error_of(local::connect(path, 50ms));
            if (attempt) {
                EXPECT_EQ(attempt, errc::timed_out);
                break;
            }
            queued.push_back(co_await local::connect(path));
            if (queued.size() == 10) {
                ADD_FAILURE() << "the backlog never filled";
                break;
            }
        }
        auto waiting = coronet::spawn(
            [path]() -> task<local::stream> { co_return co_await local::connect(path, 30s); });
        auto first = co_await l.accept();  // makes room
        auto late = co_await waiting.join();
        EXPECT_TRUE(late.is_open());
    }(dir_ / "s"));
    EXPECT_GE(rt_.io_stats(io_op::socket_connect).epoll_waits, 1u);
}

TEST_F(LocalTest, StreamPairsAndPeerCredentials) {
    run([]() -> task<void> {
        auto [a, b] = local::stream_pair();
        auto who = a.peer_credentials();
        EXPECT_EQ(who.pid, ::getpid());
        EXPECT_EQ(who.uid, ::getuid());
        co_await a.send_msg("over a pair");
        EXPECT_EQ(co_await b.recv_msg(), "over a pair");
        a.close();
        EXPECT_EQ(co_await error_of(b.recv_msg()), errc::end_of_stream);
    }());
}

TEST_F(LocalTest, ClosingAStreamEndsAPendingRecvAndTerminationCancelsIt) {
    run([]() -> task<void> {
        auto [a, b] = local::stream_pair();
        auto stuck = coronet::spawn([&a = a]() -> task<void> { (void)co_await a.recv_msg(); });
        co_await coronet::yield();
        stuck.terminate();
        EXPECT_THROW(co_await stuck.join(), coronet::terminated);
        auto reader = coronet::spawn(
            [&b = b]() -> task<std::error_code> { co_return co_await error_of(b.recv_msg()); });
        co_await coronet::yield();
        b.close();
        EXPECT_EQ(co_await reader.join(), os_error(ECANCELED));
    }());
}

TEST_F(LocalTest, DatagramsBetweenNamedSockets) {
    run([](std::string dir) -> task<void> {
        auto server = local::bind_datagram(dir + "/server");
        auto client = local::bind_datagram(dir + "/client");
        co_await client.send_to("hello", server.local_endpoint());
        auto d = co_await server.recv_from();
        EXPECT_EQ(d.data, "hello");
        EXPECT_EQ(d.from.path(), dir + "/client");
        co_await server.send_to("back", d.from);
        EXPECT_EQ((co_await client.recv_from()).data, "back");
        // An unbound sender has no name to answer to.
        auto anonymous = local::open_datagram();
        co_await anonymous.send_to("who?", server.local_endpoint());
        auto unnamed = co_await server.recv_from();
        EXPECT_EQ(unnamed.data, "who?");
        EXPECT_EQ(unnamed.from.path(), "");
    }(dir_.path()));
}

TEST_F(LocalTest, DatagramPairsKeepBoundaries) {
    run([]() -> task<void> {
        auto [a, b] = local::datagram_pair();
        for (std::string s : {"one", "", "three"}) co_await a.send(s);
        for (std::string s : {"one", "", "three"}) EXPECT_EQ(co_await b.recv(), s);
        co_await a.send(std::string(100, 'x'));
        std::array<std::byte, 10> buf;
        auto r = co_await b.recv_from(buf);
        EXPECT_TRUE(r.truncated);
        EXPECT_EQ(r.size, 10u);
    }());
}

TEST_F(LocalTest, NoDescriptorLeaks) {
    auto churn = [](std::string path) -> task<void> {
        auto l = local::listen(path);
        for (int i = 0; i < 10; ++i) {
            auto c = co_await local::connect(path);
            auto s = co_await l.accept();
            co_await c.send_msg("x");
            (void)co_await s.recv_msg();
            auto [a, b] = local::stream_pair();
            auto [d, e] = local::datagram_pair();
            (void)co_await coronet::with_timeout(1ms, e.recv());
        }
        (void)co_await error_of(local::connect(path + ".missing"));
    };
    std::string path = dir_ / "s";
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard)
        rt_.spawn_on(shard, churn, path).wait();
    int before = coronet::testing::count_open_fds();
    for (unsigned shard = 0; shard < rt_.shard_count(); ++shard)
        rt_.spawn_on(shard, churn, path).wait();
    EXPECT_EQ(coronet::testing::count_open_fds(), before);
}

}  // namespace
